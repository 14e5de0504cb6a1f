import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

test('the search box filters the pod list, with status shown per pod', async ({ page }) => {
  const t = new TerminalPage(page);
  await t.openHome();
  const rows = page.getByTestId('pod-row');
  await expect(rows).toHaveCount(5); // bash, sh, distroless, multi, attach
  await page.getByTestId('pod-search').fill('multi');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('Running');
  await expect(rows.first()).toContainText('2/2');
  await page.getByTestId('pod-search').fill('no-such-pod');
  await expect(page.getByTestId('pods-empty')).toBeVisible();
});

test('the container picker switches the terminal to another container', async ({ page }) => {
  const t = new TerminalPage(page);
  await t.openHome();
  await t.pickPod('multi-pod');
  await t.expectConnected('bash'); // main is webshell.test/bash
  await page.getByTestId('container-select').selectOption('sidecar');
  await t.expectConnected('sh');
  await expect(page).toHaveURL(/\/t\/demo\/multi-pod\/sidecar$/);
  await t.run('echo "role=$ROLE"');
  await t.expectScreen(/^role=sidecar\s*$/m);
});

test('a namespace that does not exist is reported, not shown as empty', async ({ page }) => {
  await page.goto('/t/no-such-namespace/some-pod/main');
  const error = page.getByTestId('api-error').filter({ hasText: /not found/i });
  await expect(error).toBeVisible();
  await expect(error).toHaveAttribute('data-status', '404');
});
