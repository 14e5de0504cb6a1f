import { test, expect } from './fixtures.mjs';
import { TerminalPage, alive } from './terminal-page.mjs';

test('closing the page ends the remote process', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  // Quoted so the echoed command line itself does not contain "pid=".
  await t.run('echo "p""id=$$."');
  await t.expectScreen(/pid=\d+\./);
  const pid = (await t.screenText()).match(/pid=(\d+)\./)[1];
  expect(await alive('bash-pod', pid)).toBe(true);

  await page.close();
  const closedAt = Date.now();
  await expect.poll(() => alive('bash-pod', pid), { timeout: 2_000, intervals: [100] }).toBe(false);
  console.log(`shell ${pid} gone ${Date.now() - closedAt} ms after the page closed`);
});
