// Real-browser tests: Debian's Chromium (never a Playwright-downloaded browser) against the
// release server binary, which serves the embedded SPA and talks to the local test cluster.
// Run through `./x test`, which builds everything and brings the cluster up first.
import { defineConfig } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const port = process.env.WEBSHELL_E2E_PORT || '18080';
const bin = process.env.WEBSHELL_BIN || '../target/release/webshell';
const kubeconfig = process.env.KUBECONFIG_PATH;
if (!kubeconfig) throw new Error('KUBECONFIG_PATH is not set: run the tests through ./x test');

// A second server that requires an access token (token.spec.mjs). The token holds `+` and `/`
// and its base64 does too, so the socket's base64url entry is exercised. Workers load this
// file as well and read the token from the environment.
const tokenPort = process.env.WEBSHELL_E2E_TOKEN_PORT || '18081';
process.env.WEBSHELL_E2E_TOKEN_PORT = tokenPort;
process.env.WEBSHELL_E2E_TOKEN ||= 'e2e-s3cret+/token.~~~???-at-least-32-bytes';
const tokenFile = join(tmpdir(), `webshell-e2e-token-${process.getuid?.() ?? 'user'}`);
writeFileSync(tokenFile, `${process.env.WEBSHELL_E2E_TOKEN}\n`, { mode: 0o600 });

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  // Two cores: the browser, the server and the cluster share them.
  workers: 2,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1100, height: 700 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: [
    {
      command: `${bin} --listen 127.0.0.1:${port} --kubeconfig ${kubeconfig} --context admin`,
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: `${bin} --listen 127.0.0.1:${tokenPort} --kubeconfig ${kubeconfig} --context admin`
        + ` --access-token-file '${tokenFile}'`,
      url: `http://127.0.0.1:${tokenPort}/healthz`,
      reuseExistingServer: false,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
});
