import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

test('a deep link opens that container of that pod directly', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/multi-pod/sidecar');
  await t.expectConnected('sh');
  await expect(page.getByTestId('container-select')).toHaveValue('sidecar');
  await t.run('echo "role=$ROLE host=$HOSTNAME"');
  await t.expectScreen(/^role=sidecar host=multi-pod\s*$/m);
});

test('picking a pod puts its terminal in the URL', async ({ page }) => {
  const t = new TerminalPage(page);
  await t.openHome();
  await t.pickPod('sh-pod');
  await t.expectConnected('sh');
  await expect(page).toHaveURL(/\/t\/demo\/sh-pod\/main$/);
});
