// Settings a person expects of a terminal: font size, a theme that follows the system,
// copy-on-select, the multi-line paste question turned off; kept per browser. And links.
import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

async function openSettings(page) {
  await page.getByTestId('settings-button').click();
  await expect(page.getByTestId('settings-panel')).toBeVisible();
}

/** The terminal's background colour as drawn. */
function terminalBackground(page) {
  return page.locator('[data-testid=terminal] .xterm-scrollable-element')
    .evaluate((el) => getComputedStyle(el).backgroundColor);
}

test('a larger font gives fewer columns, and the choice survives a reload', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  const before = (await t.size()).cols;
  await openSettings(page);
  for (let i = 0; i < 4; i++) await page.getByTestId('font-larger').click();
  await expect(page.getByTestId('font-size')).toHaveText('18 px');
  await expect.poll(async () => (await t.size()).cols).toBeLessThan(before);
  const larger = (await t.size()).cols;
  // The shell sees the new size too.
  await t.run('stty size');
  await t.expectScreen(new RegExp(`^\\d+ ${larger}\\s*$`, 'm'));

  await page.reload();
  await t.expectConnected('bash');
  // Still the larger font (a fresh terminal may differ by the scrollbar's column).
  expect((await t.size()).cols).toBeLessThan(before);
  await openSettings(page);
  await expect(page.getByTestId('font-size')).toHaveText('18 px');
});

test('the theme follows the system until a person picks one', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await expect.poll(() => terminalBackground(page)).toBe('rgb(255, 255, 255)');

  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect.poll(() => terminalBackground(page)).toBe('rgb(13, 17, 23)');

  await openSettings(page);
  await page.getByTestId('setting-theme').selectOption('light');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await expect.poll(() => terminalBackground(page)).toBe('rgb(255, 255, 255)');
  await t.expectConnected('bash');
});

test('copy on select, when turned on, copies a selection without a key', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await page.evaluate(() => navigator.clipboard.writeText('before'));
  await openSettings(page);
  await page.getByTestId('setting-copy-on-select').check();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('settings-panel')).toBeHidden();
  await t.run('clear; echo selected-by-mouse');
  await t.expectScreen(/^selected-by-mouse\s*$/m);
  await t.rows.locator(':scope > div:nth-child(1)').dblclick({ position: { x: 8, y: 5 }, force: true });
  await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('selected-by-mouse');
});

test('with the paste question turned off, several lines paste at once', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await openSettings(page);
  await page.getByTestId('setting-confirm-paste').uncheck();
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await t.run('clear');
  await t.pasteEvent('echo one-$((1+1))\necho two-$((1+1))\n');
  await page.keyboard.press('Enter');
  await t.expectScreen(/^one-2\s*\n(.*\n)?two-2\s*$/m);
  expect(dialogs).toEqual([]);
});

test('a URL in the output opens in a new tab when clicked', async ({ page, baseURL }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await t.run(`clear; echo ${baseURL}/?opened-from-terminal`);
  await t.expectScreen(/^http\S+opened-from-terminal\s*$/m);
  const link = t.rows.locator(':scope > div:nth-child(1)');
  await link.hover({ position: { x: 20, y: 5 }, force: true });
  const [popup] = await Promise.all([
    page.waitForEvent('popup'),
    link.click({ position: { x: 20, y: 5 }, force: true }),
  ]);
  await popup.waitForURL(/opened-from-terminal/);
});

test('Ctrl+Shift+F finds text in the scrollback, with a case option', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  // The match scrolls out of view under 200 later lines.
  await t.run('echo Needle-In-Scrollback; seq 1 200');
  await t.expectScreen(/^200\s*$/m);
  await t.terminal.click();
  await page.keyboard.press('Control+Shift+F');
  const input = page.getByTestId('search-input');
  await expect(input).toBeFocused();

  await input.fill('needle-in');
  await input.press('Enter');
  await expect(page.getByTestId('search-result')).toHaveAttribute('data-outcome', 'found');
  await t.expectScreen(/^Needle-In-Scrollback\s*$/m);

  await page.getByTestId('search-case').click();
  await input.press('Enter');
  await expect(page.getByTestId('search-result')).toHaveAttribute('data-outcome', 'none');
  await expect(page.getByTestId('search-result')).toHaveText('no matches');

  await input.press('Escape');
  await expect(page.getByTestId('search-bar')).toBeHidden();
  // The keyboard is the shell's again.
  await page.keyboard.type('echo back-in-the-shell');
  await page.keyboard.press('Enter');
  await t.expectScreen(/^back-in-the-shell\s*$/m);
});
