// --auth local (the default on loopback): the server's own identity, behind the secret it
// printed at start. Other local users and other web pages must not get in.
import { anonymous as test, expect, sessionCookie } from './fixtures.mjs';
import { TerminalPage, jsStorage } from './terminal-page.mjs';

test('without the launch secret the API refuses and the UI says where to find it', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/t/demo/bash-pod/main');
  await expect(t.signIn('local')).toBeVisible();
  await expect(page.getByTestId('local-sign-in')).toContainText('printed');
  await expect(page.getByTestId('terminal')).toHaveCount(0);
  const status = await page.evaluate(async () => (await fetch('/api/namespaces')).status);
  expect(status).toBe(401);
});

test('the printed URL signs this browser in and its secret leaves the address bar', async ({ page, context }) => {
  const t = new TerminalPage(page);
  const secret = process.env.WEBSHELL_E2E_LOCAL_SECRET;
  await page.goto(`/t/demo/bash-pod/main?secret=${secret}`);
  await expect(page).toHaveURL(/\/t\/demo\/bash-pod\/main$/);
  expect(page.url()).not.toContain(secret);
  await t.expectConnected('bash');
  await t.run('echo $((6*7))');
  await t.expectScreen(/^42\s*$/m);
  const cookie = await sessionCookie(context);
  expect(cookie.httpOnly).toBe(true);
  expect(cookie.sameSite).toBe('Strict');
  expect(await jsStorage(page)).toEqual({ local: 0, session: 0 });
  // The back button does not bring the secret back either.
  expect(await page.evaluate(() => history.length)).toBe(2);
});

test('a wrong secret signs nobody in', async ({ page }) => {
  const t = new TerminalPage(page);
  await page.goto('/?secret=not-the-secret');
  await expect(page).toHaveURL(/\/$/);
  await expect(t.signIn('local')).toBeVisible();
});
