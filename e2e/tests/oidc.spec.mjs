// --auth oidc: sign-in at the cluster's OpenID Connect provider (the real login page of the
// test provider), code flow with PKCE; the API server sees oidc:alice.
import { anonymous as test, expect, loginAtProvider, sessionCookie } from './fixtures.mjs';
import { TerminalPage, jsStorage } from './terminal-page.mjs';

const home = 'http://127.0.0.1:18082';

test('alice signs in at the provider and comes back to the terminal she asked for', async ({ page, context }) => {
  const t = new TerminalPage(page);
  await page.goto(`${home}/t/demo/bash-pod/main`);
  await expect(t.signIn('oidc')).toBeVisible();
  await page.getByTestId('oidc-sign-in').click();
  await expect(page).toHaveURL(new RegExp(`^${process.env.WEBSHELL_OIDC_ISSUER}/login`));
  await loginAtProvider(page, 'alice');
  await expect(page).toHaveURL(`${home}/t/demo/bash-pod/main`);
  await expect(page.getByTestId('user')).toHaveText('oidc:alice');
  await t.expectConnected('bash');
  await t.run('echo $((6*7))');
  await t.expectScreen(/^42\s*$/m);
  expect((await sessionCookie(context)).httpOnly).toBe(true);
  expect(await jsStorage(page)).toEqual({ local: 0, session: 0 });
});

test('bob signs in and gets a 403 naming pods/exec', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto(`${home}/`);
  await page.getByTestId('oidc-sign-in').click();
  await loginAtProvider(page, 'bob');
  await expect(page.getByTestId('user')).toHaveText('oidc:bob');
  await t.pickPod('bash-pod');
  await t.expectForbiddenExec();
});

test('a wrong password stays at the provider, and sign-out ends the session', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto(`${home}/`);
  await page.getByTestId('oidc-sign-in').click();
  await loginAtProvider(page, 'alice', 'wrong-password');
  await expect(page.locator('#error')).toContainText('wrong');
  await loginAtProvider(page, 'alice');
  await t.expectSignedIn();
  await page.getByTestId('sign-out').click();
  await expect(t.signIn('oidc')).toBeVisible();
  const status = await page.evaluate(async () => (await fetch('/api/namespaces')).status);
  expect(status).toBe(401);
});
