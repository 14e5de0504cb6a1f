// A server started with --access-token-file (the second webServer in playwright.config.mjs):
// the SPA asks for the token, refuses a wrong one, and with the right one lists pods and opens
// a terminal, whose socket carries the token as a base64url subprotocol entry.
import { test, expect } from '@playwright/test';
import { TerminalPage } from './terminal-page.mjs';

const home = `http://127.0.0.1:${process.env.WEBSHELL_E2E_TOKEN_PORT || '18081'}/`;
const token = process.env.WEBSHELL_E2E_TOKEN;

/** Types a token into the sign-in form and submits it. */
async function signIn(page, value) {
  await page.getByTestId('token-input').fill(value);
  await page.getByTestId('token-submit').click();
}

// The token must never reach the console: every message is collected and checked after each test.
let consoleText = [];
test.beforeEach(({ page }) => {
  consoleText = [];
  page.on('console', (msg) => consoleText.push(msg.text()));
});
test.afterEach(() => {
  expect(consoleText.join('\n')).not.toContain(token);
});

test('a protected server asks for its token, refuses a wrong one and opens a terminal with the right one', async ({ page }) => {
  expect(token, 'playwright.config.mjs sets WEBSHELL_E2E_TOKEN').toBeTruthy();
  const t = new TerminalPage(page);
  await page.goto(home);

  const form = page.getByTestId('token-form');
  await expect(form).toBeVisible();
  await expect(form).toContainText('requires an access token');
  await expect(page.getByTestId('token-input')).toHaveAttribute('type', 'password');
  await expect(page.getByTestId('token-error')).toHaveCount(0);
  await expect(page.getByTestId('sign-out')).toHaveCount(0);

  await signIn(page, 'not-the-token');
  await expect(page.getByTestId('token-error')).toHaveText('token refused');
  await expect(form).toBeVisible();

  await signIn(page, token);
  await expect(form).toHaveCount(0);
  await expect(page.getByTestId('namespace-select')).toHaveValue('demo');
  await expect(page.getByTestId('sign-out')).toBeVisible();
  expect(await page.evaluate(() => sessionStorage.getItem('webshell.token'))).toBe(token);

  // The socket offers webshell.v1 and the token entry; the server selects webshell.v1.
  const socket = page.waitForEvent('websocket');
  await t.pickPod('bash-pod');
  expect((await socket).url()).not.toContain(encodeURIComponent(token));
  await t.expectConnected('bash');
  await t.run('echo $((6*7))');
  await t.expectScreen(/^42\s*$/m);
  expect(page.url()).not.toContain(encodeURIComponent(token));
});

test('the token lasts for the tab until sign-out', async ({ page }) => {
  await page.goto(home);
  await signIn(page, token);
  await expect(page.getByTestId('namespace-select')).toHaveValue('demo');

  await page.reload();
  await expect(page.getByTestId('namespace-select')).toHaveValue('demo');
  await expect(page.getByTestId('token-form')).toHaveCount(0);

  await page.getByTestId('sign-out').click();
  await expect(page.getByTestId('token-form')).toBeVisible();
  await expect(page.getByTestId('token-error')).toHaveCount(0);
  await expect(page.getByTestId('sign-out')).toHaveCount(0);
  expect(await page.evaluate(() => sessionStorage.getItem('webshell.token'))).toBeNull();
});
