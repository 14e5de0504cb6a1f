// What a person sees and types in the first minutes: glyphs that are all there, non-ASCII
// that reaches the shell, the copy and paste keys of other terminals, a title naming the pod.
import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

/** Screenshots of screen rows `a` and `b` (0-based), for comparing what they show. */
async function rowPixels(t, a, b) {
  const row = (i) => t.rows.locator(`:scope > div:nth-child(${i + 1})`);
  return [await row(a).screenshot(), await row(b).screenshot()];
}

for (const deviceScaleFactor of [1, 2]) {
  test.describe(`at device scale ${deviceScaleFactor}`, () => {
    test.use({ deviceScaleFactor });

    test('a line of underscores is drawn, not clipped away', async ({ page }) => {
      const t = new TerminalPage(page);
      await page.goto('/t/demo/bash-pod/main');
      await t.expectConnected('bash');
      // Row 0: underscores only; row 1: empty. Clipped underscores would leave them alike.
      await t.run(String.raw`clear; printf '%s\n\n\n' ________________________________`);
      await t.expectScreen(/^_{32}\s*\n\s*\n/);
      const [underscores, empty] = await rowPixels(t, 0, 1);
      expect(underscores.equals(empty), 'the underscore row shows its underscores').toBe(false);
    });
  });
}

test('the terminal draws with the bundled font', async ({ page }) => {
  const font = page.waitForResponse((r) => r.url().endsWith('/jetbrains-mono-latin-400-normal.woff2'));
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  const served = await font;
  // 304 when the sign-in page already fetched it: the font keeps its name, so it is
  // revalidated rather than cached for good.
  expect([200, 304]).toContain(served.status());
  if (served.status() === 200) expect(served.headers()['content-type']).toBe('font/woff2');
  await t.expectConnected('bash');
  // The regular Latin face is loaded (not merely declared), and it is what xterm draws with.
  const loaded = await page.evaluate(() => [...document.fonts]
    .filter((f) => f.family.includes('JetBrains Mono') && f.status === 'loaded')
    .map((f) => f.weight));
  expect(loaded).toContain('400');
  const family = await t.rows.evaluate((el) => getComputedStyle(el).fontFamily);
  expect(family).toMatch(/^"JetBrains Mono"/);
});

test('typed non-ASCII reaches the shell in a container without LANG', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await t.run('echo héllo wörld €');
  await t.expectScreen(/^héllo wörld €\s*$/m);
});

test('a line with emoji, edited with the cursor, shows what the shell runs', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await t.run('clear');
  // bash counts each emoji two cells wide; so must the terminal, or the cursor drifts and the
  // edited line on screen is not the one bash runs (with Unicode 6 widths: `echo Y😀c`).
  await t.type('echo 😀😀c');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.type('XY');
  await page.keyboard.press('Enter');
  await t.expectScreen(/^😀XY😀c\s*$/m);
  expect(await t.screenText()).toMatch(/echo 😀XY😀c\s*$/m);
});

test('Ctrl+Shift+C copies the selection and Ctrl+Shift+V pastes it', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await t.run('clear; echo copy-me-4711');
  await t.expectScreen(/^copy-me-4711\s*$/m);
  // `clear` wiped the command line: the word is alone on row 0. Double-click selects it.
  const row = t.rows.locator(':scope > div:nth-child(1)');
  await row.dblclick({ position: { x: 8, y: 5 }, force: true });
  await page.keyboard.press('Control+Shift+C');
  await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('copy-me-4711');

  await t.type('echo pasted:');
  await page.keyboard.press('Control+Shift+V');
  // The paste reads the clipboard first (a promise): wait for it to land before Enter.
  await t.expectScreen(/echo pasted:copy-me-4711\s*$/m);
  await page.keyboard.press('Enter');
  await t.expectScreen(/^pasted:copy-me-4711\s*$/m);
  expect(await t.screenText(), 'Ctrl+Shift+V is not sent as ^V').not.toContain('^V');
});

test('a paste of several lines asks first, and a refusal pastes nothing', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await t.run('clear');
  await page.evaluate(() => navigator.clipboard.writeText('echo first-$((6*7))\necho second-$((6*7))\n'));

  const asked = [];
  page.once('dialog', (d) => { asked.push(d.message()); d.dismiss(); });
  await t.terminal.click();
  await page.keyboard.press('Control+Shift+V');
  await expect.poll(() => asked.length).toBe(1);
  expect(asked[0]).toContain('2 lines');
  await t.run('echo after-refusal');
  await t.expectScreen(/^after-refusal\s*$/m);
  expect(await t.screenText()).not.toContain('first-42');

  // The browser's own paste (menu, middle click) asks too; accepted, both lines run.
  page.once('dialog', (d) => d.accept());
  await t.pasteEvent('echo first-$((6*7))\necho second-$((6*7))\n');
  // bash's bracketed paste holds the pasted lines until Enter; other shells ran them already.
  await page.keyboard.press('Enter');
  await t.expectScreen(/^first-42\s*\n(.*\n)?second-42\s*$/m);
});

test('the page title names the pod', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await expect(page).toHaveTitle('bash-pod · demo/main — webshell');
});

test('closing the page while a shell runs asks first; after it exits, it does not', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await t.run('echo typed-here'); // Chromium asks only on a page a person has used.
  const asked = page.waitForEvent('dialog');
  await page.close({ runBeforeUnload: true });
  const dialog = await asked;
  expect(dialog.type()).toBe('beforeunload');
  await dialog.dismiss();
  expect(page.isClosed()).toBe(false);
  await t.expectConnected('bash');

  await t.run('exit');
  await expect(t.status).toHaveAttribute('data-state', 'exited');
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.type()); d.dismiss(); });
  const closed = page.waitForEvent('close');
  await page.close({ runBeforeUnload: true });
  await closed;
  expect(dialogs).toEqual([]);
});

test('Tab stays the shell\'s until Ctrl+Shift+M lets it move focus out, and back', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  const inTerminal = () => page.evaluate(() =>
    document.activeElement?.classList.contains('xterm-helper-textarea') ?? false);

  await t.type('echo tab-');
  await page.keyboard.press('Tab');
  expect(await inTerminal(), 'Tab went to the shell').toBe(true);

  await page.keyboard.press('Control+Shift+M');
  await expect(page.getByTestId('tab-moves-focus')).toBeVisible();
  await page.keyboard.press('Tab');
  expect(await inTerminal(), 'Tab left the terminal').toBe(false);

  await t.terminal.click();
  await page.keyboard.press('Control+Shift+M');
  await expect(page.getByTestId('tab-moves-focus')).toBeHidden();
  await page.keyboard.press('Tab');
  expect(await inTerminal()).toBe(true);
});

test('the context menu copies, pastes, clears and finds', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await t.run('clear; echo menu-word-31');
  await t.expectScreen(/^menu-word-31\s*$/m);
  const row = t.rows.locator(':scope > div:nth-child(1)');
  const menu = page.getByTestId('context-menu');

  await row.click({ button: 'right', force: true });
  await expect(menu).toBeVisible();
  await expect(page.getByTestId('menu-copy'), 'nothing selected yet').toBeDisabled();
  await page.keyboard.press('Escape');
  await expect(menu).toBeHidden();

  await row.dblclick({ position: { x: 8, y: 5 }, force: true });
  await row.click({ button: 'right', position: { x: 8, y: 5 }, force: true });
  await page.getByTestId('menu-copy').click();
  await expect(menu).toBeHidden();
  await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('menu-word-31');

  await t.type('echo from-menu:');
  await row.click({ button: 'right', force: true });
  await page.getByTestId('menu-paste').click();
  await t.expectScreen(/echo from-menu:menu-word-31\s*$/m);
  await page.keyboard.press('Enter');
  await t.expectScreen(/^from-menu:menu-word-31\s*$/m);

  await row.click({ button: 'right', force: true });
  await page.getByTestId('menu-find').click();
  await expect(page.getByTestId('search-input')).toBeFocused();
  await page.keyboard.press('Escape');

  await row.click({ button: 'right', force: true });
  await page.getByTestId('menu-clear').click();
  await expect.poll(() => t.screenText()).not.toContain('menu-word-31');
});
