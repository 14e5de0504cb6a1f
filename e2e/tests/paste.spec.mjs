// A large paste goes out in chunks within the input window (webshell.v2), so 10 MB pasted
// into the terminal arrive whole while the echo flows back, and the page stays responsive.
import { createHash } from 'node:crypto';
import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

test('pasting 10 MB into a cooked TTY delivers every byte', async ({ page }) => {
  test.setTimeout(180_000);
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await t.run('stty -echo; cat > $HOME/pasted.txt');
  // Lines shorter than the terminal's 4096-byte canonical line limit.
  const line = 'abcdefghijklmnopqrstuvwxyz'.repeat(4);
  const lines = Math.ceil((10 << 20) / (line.length + 1));
  const text = `${line}\n`.repeat(lines);
  const expected = createHash('sha256').update(text).digest('hex');
  // What a paste from the clipboard does: a paste event on xterm's textarea. It has many
  // lines, so the page asks first (terminal-input.spec.mjs): the person agrees.
  page.once('dialog', (d) => d.accept());
  await page.locator('[data-testid=terminal] textarea').evaluate((area, n) => {
    const line = 'abcdefghijklmnopqrstuvwxyz'.repeat(4);
    const data = new DataTransfer();
    data.setData('text/plain', `${line}\n`.repeat(n));
    area.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, lines);
  await page.keyboard.press('Control+D');
  await t.run('stty echo; sha256sum $HOME/pasted.txt');
  await expect.poll(() => t.screenText(), { timeout: 150_000, intervals: [500] }).toContain(expected);
});
