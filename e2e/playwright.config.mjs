// Real-browser tests: Debian's Chromium (never a Playwright-downloaded browser) against the
// release server binary, which serves the embedded SPA and talks to the local test cluster.
// Run through `./x test`, which builds everything, brings the cluster up and exports its
// environment (`cluster.sh env`: KUBECONFIG, the OIDC provider, oauth2-proxy).
//
// One server per sign-in mode, each logging to e2e/test-results/logs/ (its diagnostic log and
// its audit log), which global-teardown.mjs then searches for every secret the run used.
import { defineConfig } from '@playwright/test';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';

const kubeconfig = process.env.KUBECONFIG_PATH;
if (!kubeconfig) throw new Error('KUBECONFIG_PATH is not set: run the tests through ./x test');
const bin = resolve(process.env.WEBSHELL_BIN || '../target/release/webshell');

export const ports = {
  local: process.env.WEBSHELL_E2E_PORT || '18080',
  token: '18081',
  oidc: '18082',
  proxied: '18083',
  oauth2Proxy: '14180',
  embed: '18090',
  // `trunk serve` and the backend it expects, both as Trunk.toml fixes them.
  devBackend: '8080',
  trunkServe: '8081',
};
export const logs = resolve('test-results/logs');
export const secrets = resolve('test-results/secrets');

// The config file is loaded again by every worker; only the first load makes the secrets.
if (!process.env.WEBSHELL_E2E_LOCAL_SECRET) {
  rmSync(logs, { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  mkdirSync(secrets, { recursive: true, mode: 0o700 });
  process.env.WEBSHELL_E2E_LOCAL_SECRET = randomBytes(32).toString('hex');
  process.env.WEBSHELL_E2E_SESSION_KEY = randomBytes(48).toString('base64');
  writeFileSync(join(secrets, 'local-secret'), process.env.WEBSHELL_E2E_LOCAL_SECRET, { mode: 0o600 });
  writeFileSync(join(secrets, 'session-key'), process.env.WEBSHELL_E2E_SESSION_KEY, { mode: 0o600 });
  writeFileSync(join(secrets, 'oidc-client-secret'), process.env.WEBSHELL_OIDC_CLIENT_SECRET || '', { mode: 0o600 });
}

const serverEnv = Object.keys(process.env).filter((v) => v.startsWith('WEBSHELL_') && v !== 'WEBSHELL_CACHE');

/** A webshell server on `port` with `args`, logging to logs/NAME.log and NAME.audit.log. */
function webshell(name, port, args) {
  const command = [
    // The cluster's environment shares names with the server's own variables
    // (WEBSHELL_OIDC_*): each server gets only the flags written here.
    `exec env ${serverEnv.map((v) => `-u ${v}`).join(' ')}`,
    `'${bin}' --listen 127.0.0.1:${port} --kubeconfig '${kubeconfig}'`,
    `--session-key-file '${join(secrets, 'session-key')}'`,
    `--audit-log '${join(logs, `${name}.audit.log`)}'`,
    args,
    `2>>'${join(logs, `${name}.log`)}'`,
  ].join(' ');
  return {
    command: `sh -c "${command.replace(/"/g, '\\"')}"`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
  };
}

const oidc = process.env.WEBSHELL_OIDC_ISSUER;
if (!oidc) throw new Error('WEBSHELL_OIDC_ISSUER is not set: run through ./x test (cluster.sh env)');

const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // The test OIDC provider's certificate is signed by the test cluster's CA; trust exactly
  // that key, nothing else.
  `--ignore-certificate-errors-spki-list=${process.env.WEBSHELL_OIDC_CERT_SPKI}`];

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  // Two cores: the browser, the servers and the cluster share them.
  workers: 2,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results/artifacts',
  globalTeardown: './global-teardown.mjs',
  use: {
    baseURL: `http://127.0.0.1:${ports.local}`,
    viewport: { width: 1100, height: 700 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: { executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: chromiumArgs },
  },
  // Headless Chromium has WebGL2 (SwiftShader), and the terminal then draws into a canvas. The
  // specs read the screen from xterm's DOM rows, so they run without WebGL (the fallback every
  // browser without it gets); webgl.spec.mjs runs with it.
  projects: [
    {
      name: 'chromium',
      testIgnore: /webgl\.spec\.mjs/,
      use: { launchOptions: { executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: [...chromiumArgs, '--disable-3d-apis'] } },
    },
    { name: 'webgl', testMatch: /webgl\.spec\.mjs/ },
  ],
  webServer: [
    // local: the server's own identity (admin), behind the launch secret. Every spec opens
    // its terminals as this one person, faster than anyone would: the per-minute limit (its
    // own tests are backend/tests) is raised so the suite never meets it.
    // Three contexts of the test kubeconfig, each its own user (clusters.spec.mjs); admin,
    // the first, is the default every other spec uses.
    webshell('local', ports.local,
      `--context admin,alice,bob --local-secret-file '${join(secrets, 'local-secret')}'`
        + ' --max-new-sessions-per-minute 600'
        // The test node's images are webshell.test/*; this one has bash.
        + ' --debug-image webshell.test/bash'),
    // token: each person pastes their own token, or a host page embedding the terminal
    // (examples/embed, on its own origin) supplies it.
    webshell('token', ports.token,
      `--context admin --auth token --allowed-origin http://127.0.0.1:${ports.embed}`),
    // oidc: sign-in at the test cluster's OpenID Connect provider.
    webshell('oidc', ports.oidc, [
      '--context admin --auth oidc',
      `--oidc-issuer '${oidc}'`,
      `--oidc-client-id '${process.env.WEBSHELL_OIDC_CLIENT_ID}'`,
      `--oidc-client-secret-file '${join(secrets, 'oidc-client-secret')}'`,
      `--oidc-ca-file '${process.env.WEBSHELL_OIDC_CA_FILE}'`,
    ].join(' ')),
    // proxy: behind the real oauth2-proxy, with the least-privilege impersonator account.
    webshell('proxied', ports.proxied, [
      '--context webshell-proxy --auth proxy --proxy-trusted-source 127.0.0.1',
      `--public-url http://127.0.0.1:${ports.oauth2Proxy}`,
    ].join(' ')),
    {
      command: `sh -c "exec '${process.env.WEBSHELL_OAUTH2_PROXY}' --listen 127.0.0.1:${ports.oauth2Proxy}`
        + ` --upstream http://127.0.0.1:${ports.proxied} 2>>'${join(logs, 'oauth2-proxy.log')}'"`,
      url: `http://127.0.0.1:${ports.oauth2Proxy}/ping`,
      reuseExistingServer: false,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    // The dev UI exactly as README.md describes it: `trunk serve` (a debug build, into its own
    // dist so the release one stays) and a backend that allows its origin.
    webshell('dev', ports.devBackend, `--context admin --local-secret-file '${join(secrets, 'local-secret')}'`
      + ` --allowed-origin http://127.0.0.1:${ports.trunkServe}`),
    {
      command: `trunk serve --dist '${resolve('../target/trunk-serve')}' 2>>'${join(logs, 'trunk-serve.log')}'`,
      cwd: resolve('..'),
      url: `http://127.0.0.1:${ports.trunkServe}/`,
      // A cold debug build of the SPA takes a minute or two on two cores.
      timeout: 300_000,
      reuseExistingServer: false,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    // The embedding example as a host app on another origin serves it: static files.
    {
      command: `python3 -m http.server ${ports.embed} --bind 127.0.0.1`
        + ` --directory '${resolve('../frontend/examples/embed/dist')}'`,
      url: `http://127.0.0.1:${ports.embed}/index.html`,
      reuseExistingServer: false,
      stdout: 'ignore',
      stderr: 'ignore',
    },
  ],
});
