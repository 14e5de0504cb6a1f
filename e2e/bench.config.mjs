// The browser half of the benchmark suite (./x bench): Debian's Chromium against one release
// server on the test cluster. Writes its figures as JSON to BENCH_BROWSER_OUT.
import { defineConfig } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

const kubeconfig = process.env.KUBECONFIG_PATH;
if (!kubeconfig) throw new Error('KUBECONFIG_PATH is not set: run through ./x bench');
const bin = resolve(process.env.WEBSHELL_BIN || '../target/release/webshell');
const port = '18180';
if (!process.env.BENCH_LOCAL_SECRET) {
  process.env.BENCH_LOCAL_SECRET = randomBytes(32).toString('hex');
}
const secretFile = join(tmpdir(), `webshell-bench-browser-${process.getuid?.() ?? 'u'}`);
writeFileSync(secretFile, process.env.BENCH_LOCAL_SECRET, { mode: 0o600 });

const launch = (extra) => ({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extra],
});

export default defineConfig({
  testDir: './bench',
  testMatch: '*.bench.mjs',
  timeout: 300_000,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results/bench',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1100, height: 700 },
  },
  // xterm's DOM renderer (Chromium without WebGL, as the figures before the WebGL renderer
  // were taken) and its WebGL renderer (SwiftShader here: headless Chromium has no GPU).
  projects: [
    { name: 'dom', use: { launchOptions: launch(['--disable-3d-apis']) } },
    // The first prompt is drawn before the WebGL renderer loads: the DOM project times it.
    { name: 'webgl', grepInvert: /navigation to the first prompt/, use: { launchOptions: launch([]) } },
  ],
  webServer: {
    command: `env -u WEBSHELL_OIDC_ISSUER -u WEBSHELL_OIDC_CLIENT_ID -u WEBSHELL_OIDC_CA_FILE `
      + `'${bin}' --listen 127.0.0.1:${port} --kubeconfig '${kubeconfig}' --context admin `
      + `--local-secret-file '${secretFile}' --audit-log off --idle-timeout 0`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
