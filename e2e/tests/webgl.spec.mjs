// The WebGL renderer, in a Chromium that has WebGL2 (SwiftShader; the other specs run without
// it and so test the DOM fallback): the shown terminal draws into a canvas, a hidden tab gives
// its context back (Chromium allows 16 per page), and a lost context falls back to the DOM.
import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

const canvasesOf = (terminal) => terminal.locator('.xterm-screen canvas');
const tabButton = (page, pod) => page.locator(`[data-testid=tab][data-pod="${pod}"] [data-testid=tab-button]`);

/** The terminal of the tab open to `pod`, shown or not. */
async function terminalOf(page, pod) {
  const panel = await tabButton(page, pod).getAttribute('aria-controls');
  return page.locator(`#${panel} [data-testid=terminal]`);
}

test('the shown terminal draws with WebGL, and takes input', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await expect(canvasesOf(t.terminal).first()).toBeVisible();
  await expect(t.rows).toHaveCount(0); // no DOM rows: the canvas draws the screen
  const screen = t.terminal.locator('.xterm-screen');
  await t.run('clear');
  await expect.poll(async () => (await screen.screenshot()).length).toBeGreaterThan(0);
  const blank = await screen.screenshot();
  await t.run(String.raw`printf '%s\n' '################################'`);
  await expect.poll(async () => (await screen.screenshot()).equals(blank)).toBe(false);
  await t.run('exit 42');
  await expect(t.status).toHaveAttribute('data-exit-code', '42');
});

test('a hidden tab gives its WebGL context back, and takes one again when shown', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await t.pickPod('sh-pod');
  await t.expectConnected('sh');
  const bash = await terminalOf(page, 'bash-pod');
  const sh = await terminalOf(page, 'sh-pod');
  await expect(canvasesOf(sh).first()).toBeAttached();
  await expect(canvasesOf(bash)).toHaveCount(0);
  await tabButton(page, 'bash-pod').click();
  await expect(canvasesOf(bash).first()).toBeAttached();
  await expect(canvasesOf(sh)).toHaveCount(0);
});

test('a lost WebGL context falls back to the DOM renderer with the screen intact', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await expect(canvasesOf(t.terminal).first()).toBeVisible();
  await t.run('echo "before-$((6*7))"');
  // What a GPU reset, or a 17th context elsewhere on the page, does to this one.
  const lost = await t.terminal.locator('.xterm-screen').evaluate((screen) => {
    const gl = [...screen.querySelectorAll('canvas')]
      .map((c) => c.getContext('webgl2'))
      .find((context) => context);
    gl?.getExtension('WEBGL_lose_context').loseContext();
    return Boolean(gl);
  });
  expect(lost, 'the terminal drew with a WebGL2 context').toBe(true);
  await expect(canvasesOf(t.terminal)).toHaveCount(0);
  await t.expectScreen(/^before-42\s*$/m);
  await t.run('echo "after-$((6*7))"');
  await t.expectScreen(/^after-42\s*$/m);
});
