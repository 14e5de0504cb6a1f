import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

test('exit 3 shows exit code 3 in the status line', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await t.run('exit 3');
  await expect(t.status).toHaveAttribute('data-state', 'exited');
  await expect(t.status).toHaveAttribute('data-exit-code', '3');
  await expect(t.status).toContainText('3');
});

test('reconnect starts a new session after an exit', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await t.expectConnected('bash');
  await t.run('exit 0');
  await expect(t.status).toHaveAttribute('data-state', 'exited');
  await page.getByTestId('reconnect').click();
  await t.expectConnected('bash');
  await t.run('echo again-$((2+3))');
  await t.expectScreen(/^again-5\s*$/m);
});
