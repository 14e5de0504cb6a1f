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
