// The other two views of a container beside a shell: attach (the main process, as
// `kubectl attach -it`) and its log (as `kubectl logs -f`), each in its own tab.
import { test, expect } from './fixtures.mjs';
import { TerminalPage, alive } from './terminal-page.mjs';

const tabs = (page) => page.getByTestId('tab');

test('attach shows the main process, takes input, and closing only detaches', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/attach-pod/main');
  await t.expectConnected();
  await page.getByTestId('view-attach').click();
  await expect(page).toHaveURL(/\/a\/demo\/attach-pod\/main$/);
  await expect(tabs(page)).toHaveCount(2);
  await expect(page.getByTestId('view-attach')).toHaveAttribute('aria-pressed', 'true');
  await t.expectConnected();
  await t.expectScreen(/Attached to the main process of attach-pod\/main/);

  await t.run('echo "attached-$((40+2))"; echo "main-pid=$$."');
  await t.expectScreen(/^attached-42\s*$/m);
  await t.expectScreen(/^main-pid=\d+\.\s*$/m);
  const pid = (await t.screenText()).match(/^main-pid=(\d+)\./m)[1];

  // Detaching is harmless, so closing the tab does not ask, and the process runs on.
  let asked = false;
  page.on('dialog', (d) => { asked = true; d.dismiss(); });
  await page.locator('[data-testid=tab][data-state=connected]')
    .filter({ hasText: 'attach-pod (attach)' }).getByTestId('tab-close').click();
  await expect(tabs(page)).toHaveCount(1);
  expect(asked).toBe(false);
  expect(await alive('attach-pod', pid), `main process ${pid} outlives the attach`).toBe(true);
});

test('the logs view follows new lines, with timestamps, tail, previous and download', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await page.getByTestId('view-logs').click();
  await expect(page).toHaveURL(/\/l\/demo\/bash-pod\/main$/);
  await expect(page).toHaveTitle(/^bash-pod \(logs\) · demo\/main/);
  await t.expectConnected('following');
  await t.expectScreen(/^tick \d+\s*$/m);

  // bash-pod prints "tick N" every second: a tick newer than any shown now must appear.
  const newest = async () => Math.max(...[...(await t.screenText()).matchAll(/tick (\d+)/g)]
    .map((m) => Number(m[1])));
  const first = await newest();
  await expect.poll(newest, { timeout: 10_000 }).toBeGreaterThan(first + 1);

  await page.getByTestId('log-timestamps').check();
  await t.expectScreen(/^20\d\d-\d\d-\d\dT[\d:.]+Z tick \d+\s*$/m);

  // Read once, the last 100 lines: exactly 100 ticks, and the view says the log ended.
  await page.getByTestId('log-follow').uncheck();
  await page.getByTestId('log-tail').selectOption('100');
  await expect(t.status).toHaveText('end of the log');
  const shown = async () => (await t.screenText()).match(/tick \d+/g)?.length ?? 0;
  expect(await shown()).toBeLessThanOrEqual(100);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('log-download').click(),
  ]);
  expect(download.suggestedFilename()).toBe('bash-pod_main.log');
  const { readFile } = await import('node:fs/promises');
  const body = await readFile(await download.path(), 'utf8');
  expect(body).toMatch(/^20\d\d-\d\d-\d\dT[\d:.]+Z tick 1\n/);

  // bash-pod never restarted: the API server's refusal is shown as it is.
  await page.getByTestId('log-previous').check();
  await expect(t.status).toHaveAttribute('data-state', 'error');
  await expect(t.status).toContainText('previous terminated container');
});
