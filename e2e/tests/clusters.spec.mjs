// Several clusters: the local server offers three kubeconfig contexts of the test cluster
// (admin, alice, bob), each with its own user and rights (e2e/cluster/manifests/10-rbac.yaml).
// Picking a context lists pods as that user, and a terminal opened there runs as that user.
import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

test('the cluster selector lists each context, and switching lists pods as its user', async ({ page }) => {
  const t = new TerminalPage(page);
  await t.openHome();
  const select = page.getByTestId('cluster-select');
  await expect(select.locator('option')).toHaveText(['admin', 'alice', 'bob']);
  await expect(select).toHaveValue('admin');
  await expect(page.getByTestId('user')).toHaveText('admin');
  const bash = page.getByTestId('pod-row').filter({ hasText: 'bash-pod' });
  await expect(bash).toHaveAttribute('data-exec-allowed', 'true');

  // bob may read pods in demo but not exec: the same pods, marked, and his name.
  await select.selectOption('bob');
  await expect(page).toHaveURL(/\/c\/bob$/);
  await expect(page.getByTestId('user')).toHaveText('bob');
  await expect(bash).toHaveAttribute('data-exec-allowed', 'false');
  await expect(bash.getByTestId('no-exec')).toBeVisible();
  // His context names no namespace and demo is one of his: the picker stays there.
  await expect(page.getByTestId('namespace-select')).toHaveValue('demo');
  await expect(page.getByTestId('pod-row')).toHaveCount(5);

  // Back to the default: the prefix goes, admin's rights come back.
  await select.selectOption('admin');
  await expect(page).toHaveURL(/\/$/);
  await expect(bash).toHaveAttribute('data-exec-allowed', 'true');
});

test('a terminal opened in another context runs as its user, and its link names the cluster', async ({ page }) => {
  const t = new TerminalPage(page);
  await t.openHome();
  await page.getByTestId('cluster-select').selectOption('alice');
  await expect(page.getByTestId('user')).toHaveText('alice');
  await t.pickPod('bash-pod');
  await expect(page).toHaveURL(/\/c\/alice\/t\/demo\/bash-pod\/main$/);
  await t.expectConnected('bash');
  await t.run('echo "on-$((6*7))"');
  await t.expectScreen(/^on-42\s*$/m);
  await expect(page.getByTestId('target')).toHaveText('alice: demo/bash-pod');

  // The link opens the same cluster in a new page; bob's deep link is refused by RBAC.
  const again = await page.context().newPage();
  await again.goto('/c/alice/t/demo/bash-pod/main');
  await expect(again.getByTestId('cluster-select')).toHaveValue('alice');
  await new TerminalPage(again).expectConnected('bash');
  await again.goto('/c/bob/t/demo/bash-pod/main');
  await new TerminalPage(again).expectForbiddenExec();
  await again.close();
});

test('a link to a cluster this server does not offer says which it offers', async ({ page }) => {
  await page.goto('/c/carol/t/demo/bash-pod/main');
  const error = page.getByTestId('api-error').first();
  await expect(error).toContainText('no cluster "carol"');
  await expect(error).toContainText('admin, alice, bob');
});
