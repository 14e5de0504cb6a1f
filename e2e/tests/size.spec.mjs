import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

async function expectSttyMatches(t) {
  const { rows, cols } = await t.size();
  expect(rows).toBeGreaterThan(5);
  expect(cols).toBeGreaterThan(20);
  await t.run('clear; stty size');
  await t.expectScreen(new RegExp(`^${rows} ${cols}\\s*$`, 'm'));
}

test('the first prompt already has the terminal size, and a viewport change follows', async ({ page }) => {
  await page.setViewportSize({ width: 1200, height: 760 });
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await expectSttyMatches(t); // the very first command: no resize has happened since start

  const before = await t.size();
  await page.setViewportSize({ width: 760, height: 480 });
  await expect.poll(async () => (await t.size()).cols).not.toBe(before.cols);
  await expectSttyMatches(t);
});
