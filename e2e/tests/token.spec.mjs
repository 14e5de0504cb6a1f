// --auth token: each person signs in with their own Kubernetes token, and their own RBAC
// applies. The token goes to the server once; the browser keeps only an HttpOnly cookie.
import { anonymous as test, expect, sessionCookie, tokenOf } from './fixtures.mjs';
import { TerminalPage, jsStorage } from './terminal-page.mjs';

const home = 'http://127.0.0.1:18081';

async function signIn(page, token) {
  await page.getByTestId('token-input').fill(token);
  await page.getByTestId('token-submit').click();
}

test('alice pastes her token and gets a shell as alice; nothing stays in JS storage', async ({ page, context }) => {
  const t = new TerminalPage(page);
  const token = await tokenOf('alice');
  await page.goto(`${home}/t/demo/bash-pod/main`);
  await expect(t.signIn('token')).toBeVisible();
  await expect(page.getByTestId('token-input')).toHaveAttribute('type', 'password');
  await signIn(page, token);
  await expect(page.getByTestId('user')).toHaveText('alice');
  await t.expectConnected('bash');
  await t.run('echo $((6*7))');
  await t.expectScreen(/^42\s*$/m);
  const cookie = await sessionCookie(context);
  expect(cookie.httpOnly).toBe(true);
  expect(cookie.sameSite).toBe('Strict');
  expect(cookie.value).not.toContain(token);
  expect(await jsStorage(page)).toEqual({ local: 0, session: 0 });
  expect(page.url()).not.toContain(token);
});

test('bob may look but gets a 403 naming pods/exec, and his pods are marked', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto(home);
  await signIn(page, await tokenOf('bob'));
  await expect(page.getByTestId('user')).toHaveText('bob');
  await expect(page.locator('[data-testid=pod-row][data-pod=bash-pod] [data-testid=no-exec]')).toBeVisible();
  await t.pickPod('bash-pod');
  await t.expectForbiddenExec();
});

test('a garbage token is refused with a clear message, and sign-out works', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto(home);
  await signIn(page, 'garbage-token-0123456789');
  await expect(page.getByTestId('token-error')).toContainText('did not accept');
  await expect(page.getByTestId('token-input')).toHaveValue('');
  await signIn(page, await tokenOf('alice'));
  await t.expectSignedIn();
  await page.getByTestId('sign-out').click();
  await expect(t.signIn('token')).toBeVisible();
  await page.reload();
  await expect(t.signIn('token')).toBeVisible();
});
