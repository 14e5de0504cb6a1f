// The README's screenshot, taken from the real SPA against the test cluster: three tabs, a shell
// with some output, the pod list with its status. It is written to docs/screenshot.png on every
// run, so it always shows the UI as it is; the checks make sure it shows what it should.
import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';
import { resolve } from 'node:path';

test.use({ viewport: { width: 1280, height: 720 } });

test('the README screenshot shows tabs, the pod list and a working shell', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await t.pickPod('multi-pod');
  await page.getByTestId('view-logs').click();
  await t.expectScreen(/main tick \d+/);
  await page.locator('[data-testid=tab][data-pod=bash-pod]').getByTestId('tab-button').click();
  await t.expectConnected('bash');
  await page.getByTestId('pod-search').fill('');
  await t.run('clear; echo "héllo wörld ✓ snake_case"; for n in 1 2 3; do echo "line $n of $((6*7))"; done');
  await t.expectScreen(/^héllo wörld ✓ snake_case\s*$/m);
  await expect(page.getByTestId('pod-row')).toHaveCount(5);
  await expect(page.getByTestId('tab')).toHaveCount(3); // bash-pod, multi-pod, its log
  await page.screenshot({ path: resolve('../docs/screenshot.png') });
});
