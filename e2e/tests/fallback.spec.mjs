import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

test('sh-pod has no bash and works through the sh fallback', async ({ page }) => {
  const t = new TerminalPage(page);
  await t.openHome();
  await t.pickPod('sh-pod');
  await t.expectConnected('sh');
  await t.run('echo fallback-$((20+1))');
  await t.expectScreen(/^fallback-21\s*$/m);
});

test('distroless-pod shows a clear no-shell message', async ({ page }) => {
  const t = new TerminalPage(page);
  await t.openHome();
  await t.pickPod('distroless-pod');
  await expect(t.status).toHaveAttribute('data-state', 'error');
  await expect(t.status).toContainText(/no shell/i);
  await t.expectScreen(/no shell/i);
  await t.expectScreen(/debug/);
});

test('distroless-pod gets a debug container with a working shell, from the no-shell message', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/distroless-pod/main');
  await expect(t.status).toContainText(/no shell/i);
  const offer = page.getByTestId('debug-offer');
  await expect(offer).toBeVisible();
  await expect(page.getByTestId('debug-image')).toHaveValue('webshell.test/bash');
  await page.getByTestId('debug-start').click();
  await expect(page).toHaveURL(/\/a\/demo\/distroless-pod\/debugger-[a-z0-9]{5}$/, { timeout: 30_000 });
  await t.expectConnected();
  await t.run('echo "debug-$((6*7))"');
  await t.expectScreen(/^debug-42\s*$/m);
  await expect(offer).toBeHidden();
});
