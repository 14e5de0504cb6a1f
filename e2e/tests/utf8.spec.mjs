import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

test('a UTF-8 character written in two parts with a pause renders as one character', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  // '€' is E2 82 AC: the first two bytes, a pause (so they travel in separate frames), the last.
  await t.run(String.raw`printf '\342\202'; sleep 0.5; printf '\254\n'`);
  await t.expectScreen(/^€\s*$/m);
  expect(await t.screenText()).not.toContain('\ufffd');
});
