import { test, expect } from './fixtures.mjs';
import { TerminalPage, kubectl } from './terminal-page.mjs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

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

test('the pod list follows the cluster live: an added pod appears, a deleted one goes', async ({ page }) => {
  const t = new TerminalPage(page);
  await t.openHome();
  const rows = page.getByTestId('pod-row');
  await expect(rows).toHaveCount(5);
  const bash = page.locator('[data-testid=pod-row][data-pod=bash-pod]');
  await expect(bash).toContainText('webshell-node · webshell.test/bash');
  await expect(bash.getByTestId('pod-age')).toHaveText(/^\d+[smhd]$/);

  const name = `live-${process.pid}`;
  const manifest = join(tmpdir(), `${name}.json`);
  await writeFile(manifest, JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'demo' },
    spec: { nodeName: 'webshell-node', terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: 'webshell.test/sh', command: ['sleep', '600'] }] },
  }));
  await kubectl('create', '-f', manifest);
  try {
    // No refresh, no reload: the watch brings it, and then its Running phase.
    const added = page.locator(`[data-testid=pod-row][data-pod="${name}"]`);
    await expect(added).toBeVisible();
    await expect(added).toContainText('Running');
    await expect(rows).toHaveCount(6);
  } finally {
    await kubectl('delete', 'pod', '-n', 'demo', name, '--wait=true');
  }
  await expect(rows).toHaveCount(5);
});

test('the namespace picker takes a typed namespace, suggesting the cluster\'s', async ({ page }) => {
  const t = new TerminalPage(page);
  await t.openHome();
  const picker = page.getByTestId('namespace-select');
  // The suggestions are the cluster's namespaces (a native datalist filters them as one types).
  await expect(page.locator('#namespace-options option[value="kube-system"]')).toHaveCount(1);
  await picker.fill('kube-system');
  await picker.press('Enter');
  await expect(page.getByTestId('pods-empty')).toHaveText('No pods in this namespace.');
  await picker.fill('no-such-ns');
  await picker.press('Enter');
  await expect(page.getByTestId('api-error').filter({ hasText: /not found/ })).toBeVisible();
  await picker.fill('demo');
  await picker.press('Enter');
  await expect(page.locator('[data-testid=pod-row][data-pod="bash-pod"]')).toBeVisible();
});

test('all namespaces at once: pods show their namespace and open where they are', async ({ page }) => {
  const t = new TerminalPage(page);
  await t.openHome();
  const all = page.getByTestId('all-namespaces');
  await all.click();
  await expect(all).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('namespace-select')).toHaveValue('');
  const sh = page.locator('[data-testid=pod-row][data-pod="sh-pod"]');
  await expect(sh).toHaveAttribute('data-namespace', 'demo');
  await expect(sh.getByTestId('pod-namespace')).toHaveText('demo/');
  // With a slash the filter reads namespace/name.
  await page.getByTestId('pod-search').fill('demo/sh-');
  await expect(page.getByTestId('pod-row')).toHaveCount(1);
  await sh.click();
  await expect(page).toHaveURL(/\/t\/demo\/sh-pod\/main$/);
  await t.expectConnected('sh');
  await expect(sh).toHaveClass(/selected/);
});
