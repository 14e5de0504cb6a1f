// Layout and access: a phone gets a usable terminal, and axe-core finds no serious or critical
// accessibility violation on the pages a person sees.
import AxeBuilder from '@axe-core/playwright';
import { test, expect } from './fixtures.mjs';
import { TerminalPage } from './terminal-page.mjs';

test.describe('on a 390×844 phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });

  test('the pod list is a drawer and the terminal gets at least 40 columns', async ({ page }) => {
    const t = new TerminalPage(page);
    await page.goto('/');
    await expect(page.getByTestId('pod-search')).toBeHidden();
    await page.getByTestId('drawer-toggle').tap();
    await t.pickPod('bash-pod');
    await expect(page.getByTestId('pod-search'), 'the drawer closes once a pod is picked').toBeHidden();
    await t.expectConnected('bash');
    expect((await t.size()).cols).toBeGreaterThanOrEqual(40);
    await expect(t.status).toBeInViewport({ ratio: 1 });
    await expect(page.getByTestId('reconnect')).toBeInViewport({ ratio: 1 });
    await t.run('stty size');
    await t.expectScreen(new RegExp(`^\\d+ ${(await t.size()).cols}\\s*$`, 'm'));
  });

  test('the key bar types Esc-less keys: arrows, Tab and a latched Ctrl', async ({ page }) => {
    const t = new TerminalPage(page);
    await page.goto('/t/demo/bash-pod/main');
    await t.expectConnected('bash');
    await expect(page.getByTestId('key-bar')).toBeVisible();
    await t.run('clear');
    // Tab completes, ← moves the cursor back over typed text.
    await t.type('ech');
    await page.getByTestId('key-tab').tap();
    await page.keyboard.type('abc');
    await page.getByTestId('key-left').tap();
    await page.getByTestId('key-left').tap();
    await page.keyboard.type('X');
    await page.keyboard.press('Enter');
    await t.expectScreen(/^aXbc\s*$/m);
    // Ctrl, then c: an interrupt.
    await t.run('sleep 60');
    await page.getByTestId('key-ctrl').tap();
    await expect(page.getByTestId('key-ctrl')).toHaveAttribute('aria-pressed', 'true');
    await page.keyboard.type('c');
    await expect(page.getByTestId('key-ctrl')).toHaveAttribute('aria-pressed', 'false');
    await t.run('echo interrupted-$?');
    await t.expectScreen(/^interrupted-130\s*$/m);
  });
});

async function seriousViolations(page) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

for (const colorScheme of ['dark', 'light']) {
  test(`axe-core: no serious or critical violations with a terminal open (${colorScheme})`, async ({ page }) => {
    await page.emulateMedia({ colorScheme });
    const t = new TerminalPage(page);
    await page.goto('/t/demo/bash-pod/main');
    await t.expectConnected('bash');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByTestId('settings-button').click();
    expect(await seriousViolations(page)).toEqual([]);
  });
}
