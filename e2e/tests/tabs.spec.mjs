// Several terminals at once: each tab keeps its own shell; switching never ends one, closing
// a running one asks first, and a closed one can be reopened.
import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

const tab = (page, pod) => page.locator(`[data-testid=tab][data-pod="${pod}"]`);

test('two tabs keep two shells alive while switching between them', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await t.run('MARK=in-bash-pod');

  await t.pickPod('sh-pod');
  await t.expectConnected('sh');
  await expect(page.getByTestId('tab')).toHaveCount(2);
  await expect(page).toHaveURL(/\/t\/demo\/sh-pod\/main$/);
  await t.run('MARK=in-sh-pod');

  await tab(page, 'bash-pod').getByTestId('tab-button').click();
  await expect(page).toHaveURL(/\/t\/demo\/bash-pod\/main$/);
  await t.expectConnected('bash');
  await t.run('echo "mark=$MARK"');
  await t.expectScreen(/^mark=in-bash-pod\s*$/m);

  await tab(page, 'sh-pod').getByTestId('tab-button').click();
  await t.run('echo "mark=$MARK"');
  await t.expectScreen(/^mark=in-sh-pod\s*$/m);
  await expect(tab(page, 'bash-pod')).toHaveAttribute('data-state', 'connected');

  // Picking a pod that has a tab shows that tab, not a new shell.
  await t.pickPod('bash-pod');
  await expect(page.getByTestId('tab')).toHaveCount(2);
  await t.run('echo "again=$MARK"');
  await t.expectScreen(/^again=in-bash-pod\s*$/m);
});

test('closing a tab with a running shell asks; a closed tab can be reopened; tabs can be renamed', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await t.pickPod('sh-pod');
  await t.expectConnected('sh');

  page.once('dialog', (d) => { expect(d.type()).toBe('confirm'); d.dismiss(); });
  await tab(page, 'sh-pod').getByTestId('tab-close').click();
  await expect(page.getByTestId('tab')).toHaveCount(2);

  page.once('dialog', (d) => d.accept());
  await tab(page, 'sh-pod').getByTestId('tab-close').click();
  await expect(page.getByTestId('tab')).toHaveCount(1);
  await expect(page).toHaveURL(/\/t\/demo\/bash-pod\/main$/);

  await page.getByTestId('reopen').selectOption({ label: 'demo/sh-pod (main)' });
  await expect(page.getByTestId('tab')).toHaveCount(2);
  await t.expectConnected('sh');

  page.once('dialog', (d) => d.accept('build box'));
  await tab(page, 'sh-pod').getByTestId('tab-button').dblclick();
  await expect(tab(page, 'sh-pod').getByTestId('tab-button')).toHaveText('build box');
});
