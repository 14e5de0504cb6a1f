// Graceful shutdown as a rollout does it: SIGTERM to a server with an open terminal. Readiness
// fails, the terminal is told why in its close frame (1001) and says so, and the server exits 0
// within its drain period. This spec runs a server of its own, since it stops it.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { anonymous as test, expect, tokenOf } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

// Where playwright.config.mjs keeps the run's logs (searched for secrets afterwards) and keys.
const logs = resolve('test-results/logs');
const secrets = resolve('test-results/secrets');
const port = 18095;
const opsPort = 18096;
const home = `http://127.0.0.1:${port}`;
const drainSeconds = 5;

function startServer() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WEBSHELL_')));
  const server = spawn(process.env.WEBSHELL_BIN, [
    '--listen', `127.0.0.1:${port}`,
    '--ops-listen', `127.0.0.1:${opsPort}`,
    '--auth', 'token',
    '--kubeconfig', process.env.KUBECONFIG_PATH,
    '--session-key-file', join(secrets, 'session-key'),
    '--audit-log', join(logs, 'shutdown.audit.log'),
    '--shutdown-drain', `${drainSeconds}s`,
  ], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
  let log = '';
  server.stderr.on('data', (d) => { log += d; });
  return { server, exited, log: () => log };
}

async function waitUntilUp(request) {
  for (let i = 0; i < 100; i++) {
    const r = await request.get(`http://127.0.0.1:${opsPort}/healthz`).catch(() => null);
    if (r && r.ok()) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error('the server did not start');
}

test('SIGTERM: the open terminal says the server is shutting down, and the server exits 0 in time', async ({ page, request }) => {
  const { server, exited, log } = startServer();
  try {
    await waitUntilUp(request);
    expect((await request.get(`http://127.0.0.1:${opsPort}/readyz`)).status()).toBe(200);
    const t = new TerminalPage(page);
    await page.goto(`${home}/t/demo/bash-pod/main`);
    await page.getByTestId('token-input').fill(await tokenOf('alice'));
    await page.getByTestId('token-submit').click();
    await t.expectConnected('bash');
    await t.run('echo before-$((6*7))');
    await t.expectScreen(/^before-42\s*$/m);

    const signalled = Date.now();
    server.kill('SIGTERM');
    await expect(t.status).toContainText('shutting down');
    await expect(t.status).toContainText('1001');
    const { code, signal } = await exited;
    const took = (Date.now() - signalled) / 1000;
    expect({ code, signal }, log()).toEqual({ code: 0, signal: null });
    expect(took).toBeLessThan(drainSeconds + 2);
    expect(log()).toContain('shut down');
  } finally {
    server.kill('SIGKILL');
  }
});
