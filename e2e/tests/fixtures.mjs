// Test fixtures shared by every spec:
// - `test`: a page of the local server, signed in the way a person is (the printed URL, once);
// - `anonymous`: a page signed in nowhere, for the other modes and for refusals.
// Both fail a test on any Content-Security-Policy violation or uncaught page error, and record
// the session cookies the browser was given, so global-teardown.mjs can search every log and
// audit file for them.
import { test as base, expect } from '@playwright/test';
import { appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export { expect };

const seen = join(resolve('test-results/secrets'), 'cookies');

async function watched(page, context, use) {
  const problems = [];
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await use(page);
  for (const c of await context.cookies()) {
    if (c.value.length >= 16) appendFileSync(seen, `${c.value}\n`, { mode: 0o600 });
  }
  expect(problems, 'the app runs under its CSP without errors').toEqual([]);
}

export const anonymous = base.extend({
  page: async ({ page, context }, use) => watched(page, context, use),
});

export const test = base.extend({
  page: async ({ page, context }, use) => {
    await page.goto(`/?secret=${process.env.WEBSHELL_E2E_LOCAL_SECRET}`);
    await watched(page, context, use);
  },
});

/** The session cookie of the current context, for checking its attributes. */
export async function sessionCookie(context) {
  return (await context.cookies()).find((c) => c.name.includes('webshell-session'));
}

/** A test user's static token, from the test kubeconfig. */
export async function tokenOf(user) {
  const { readFileSync } = await import('node:fs');
  const text = readFileSync(process.env.KUBECONFIG_PATH, 'utf8');
  const block = text.split(/\n- name: /).find((b) => b.startsWith(`${user}\n`) && b.includes('token:'));
  const token = block && block.match(/token: (\S+)/)[1];
  if (!token) throw new Error(`no token for ${user} in the test kubeconfig`);
  return token;
}

/** A test user's password at the test OIDC provider. */
export function passwordOf(user) {
  return process.env.WEBSHELL_OIDC_USERS.split(',').find((p) => p.startsWith(`${user}:`)).slice(user.length + 1);
}

/** Fills the test OIDC provider's login form (e2e/cluster/oidc-provider). */
export async function loginAtProvider(page, user, password = passwordOf(user)) {
  await expect(page.locator('form#login-form')).toBeVisible();
  await page.locator('#username').fill(user);
  await page.locator('#password').fill(password);
  await page.locator('button#submit').click();
}
