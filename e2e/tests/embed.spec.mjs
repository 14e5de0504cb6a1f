// The embeddable <Terminal/> in a host app on another origin (frontend/examples/embed), which
// supplies the person's own token: it travels as a socket subprotocol entry, never in a URL.
import { anonymous as test, expect, tokenOf } from './fixtures.mjs';
import { jsStorage } from './terminal-page.mjs';

const host = 'http://127.0.0.1:18090/';

test('a host app on another origin opens a terminal with the token it supplies', async ({ page }) => {
  const token = await tokenOf('alice');
  await page.goto(host);
  await page.getByTestId('embed-endpoint').fill('http://127.0.0.1:18081');
  await page.getByTestId('embed-token').fill(token);
  const socket = page.waitForEvent('websocket');
  await page.getByTestId('embed-connect').click();
  expect((await socket).url()).not.toContain(token);
  await expect(page.getByTestId('embed-status')).toContainText('connected — bash');
  // The host's own look (Solarized dark), through the component's options.
  await expect.poll(() => page.locator('[data-testid=terminal] .xterm-scrollable-element')
    .evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(0, 43, 54)');
  await page.getByTestId('terminal').click();
  await page.keyboard.type('echo $((6*7))');
  await page.keyboard.press('Enter');
  const rows = page.locator('[data-testid=terminal] .xterm-rows');
  await expect.poll(async () => (await rows.textContent()).replace(/\u00a0/g, ' ')).toMatch(/42/);
  expect(await jsStorage(page)).toEqual({ local: 0, session: 0 });
});

test('without a token the host app is told to sign in', async ({ page }) => {
  await page.goto(host);
  await page.getByTestId('embed-endpoint').fill('http://127.0.0.1:18081');
  await page.getByTestId('embed-connect').click();
  await expect(page.getByTestId('embed-status')).toContainText('4401');
});

test('a server that does not allow the host page says which flag would', async ({ page }) => {
  await page.goto(host);
  // The oidc server allows no other origin (the token server allows this one).
  await page.getByTestId('embed-endpoint').fill('http://127.0.0.1:18082');
  await page.getByTestId('embed-token').fill('any-token');
  await page.getByTestId('embed-connect').click();
  const status = page.getByTestId('embed-status');
  await expect(status).toContainText('--allowed-origin http://127.0.0.1:18090');
  await expect(status).toContainText('4403');
});

test('the host app acts on the terminal through its handle: write, focus, clear, reconnect', async ({ page }) => {
  const token = await tokenOf('alice');
  await page.goto(host);
  await page.getByTestId('embed-endpoint').fill('http://127.0.0.1:18081');
  await page.getByTestId('embed-token').fill(token);
  await page.getByTestId('embed-connect').click();
  const status = page.getByTestId('embed-status');
  await expect(status).toContainText('connected — bash');
  const rows = page.locator('[data-testid=terminal] .xterm-rows');
  const screen = async () => (await rows.textContent()).replace(/\u00a0/g, ' ');

  await page.getByTestId('embed-note').click();
  await expect.poll(screen).toContain('[host] maintenance at 18:00');
  await page.getByTestId('embed-focus').click();
  await expect(page.locator('[data-testid=terminal] textarea')).toBeFocused();
  await page.keyboard.type('echo "pid=$$."');
  await page.keyboard.press('Enter');
  await expect.poll(screen).toMatch(/pid=\d+\./);
  const pid = (await screen()).match(/pid=(\d+)\./)[1];

  await page.getByTestId('embed-clear').click();
  await expect.poll(screen).not.toContain('maintenance');

  // A new session: a new shell process, on a fresh screen.
  await page.getByTestId('embed-reconnect').click();
  await expect(status).toContainText('connected — bash');
  await page.getByTestId('embed-focus').click();
  await page.keyboard.type('echo "pid=$$."');
  await page.keyboard.press('Enter');
  await expect.poll(screen).toMatch(/pid=\d+\./);
  expect((await screen()).match(/pid=(\d+)\./)[1]).not.toBe(pid);
});
