// `trunk serve` is a working dev UI, terminal included (README.md, "Developing the UI"): the
// page on :8081 reaches the REST API through trunk's proxy and opens its terminal socket
// straight at the backend on :8080, which allows the dev origin. Signing in is the backend's
// printed URL, once; its cookie belongs to 127.0.0.1 and so reaches both ports.
import { anonymous as test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';
import { ports } from '../playwright.config.mjs';

const dev = `http://127.0.0.1:${ports.trunkServe}`;
const backend = `http://127.0.0.1:${ports.devBackend}`;

test('trunk serve opens a working terminal, its socket going straight to the backend', async ({ page }) => {
  await page.goto(`${backend}/?secret=${process.env.WEBSHELL_E2E_LOCAL_SECRET}`);
  const socket = page.waitForEvent('websocket', (ws) => ws.url().endsWith('/exec'));
  await page.goto(`${dev}/t/demo/bash-pod/main`);
  expect((await socket).url()).toBe(`ws://127.0.0.1:${ports.devBackend}/api/namespaces/demo/pods/bash-pod/containers/main/exec`);
  const t = new TerminalPage(page);
  await t.expectConnected('bash');
  await t.run('echo "dev-$((6*7))"');
  await t.expectScreen(/^dev-42\s*$/m);
  // The pod list came through trunk's proxy.
  await expect(page.locator('[data-testid=pod-row][data-pod="sh-pod"]')).toBeVisible();
});
