import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

test('picking bash-pod opens bash, and what is typed runs there', async ({ page }, testInfo) => {
  const t = new TerminalPage(page);
  await t.openHome();
  await t.pickPod('bash-pod');
  await t.expectConnected('bash');
  await t.run('echo $((6*7))');
  await t.expectScreen(/^42\s*$/m);
  // The screenshot of the working terminal, kept in the test output.
  const shot = testInfo.outputPath('terminal.png');
  await page.screenshot({ path: shot });
  await testInfo.attach('terminal', { path: shot, contentType: 'image/png' });
  await page.screenshot({ path: 'test-results/terminal.png' });
});
