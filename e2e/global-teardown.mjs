// After every spec: no secret the run used may appear in any log or audit file it wrote.
// Searched: the webshell servers' diagnostic and audit logs and oauth2-proxy's log
// (test-results/logs), and the test cluster's logs, including the API server's audit log.
// Searched for: every user's token, the launch secret, the cookie key, the OIDC client
// secrets, oauth2-proxy's cookie secret, the users' passwords, and every session cookie the
// browsers were given.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

export default async function globalTeardown() {
  const secretsDir = resolve('test-results/secrets');
  const secrets = new Map();
  const add = (what, value) => {
    if (value && value.length >= 8) secrets.set(value, what);
  };
  for (const name of ['local-secret', 'session-key', 'oidc-client-secret']) {
    add(name, readFileSync(join(secretsDir, name), 'utf8').trim());
  }
  for (const line of (existsSync(join(secretsDir, 'cookies'))
    ? readFileSync(join(secretsDir, 'cookies'), 'utf8').split('\n') : [])) {
    add('a session cookie', line.trim());
  }
  const kubeconfig = readFileSync(process.env.KUBECONFIG_PATH, 'utf8');
  for (const [, token] of kubeconfig.matchAll(/token: (\S+)/g)) add('a kubeconfig token', token);
  add('the OIDC client secret', process.env.WEBSHELL_OIDC_CLIENT_SECRET);
  add('oauth2-proxy client secret', process.env.WEBSHELL_OAUTH2_PROXY_CLIENT_SECRET);
  add('oauth2-proxy cookie secret', process.env.WEBSHELL_OAUTH2_PROXY_COOKIE_SECRET);
  for (const pair of (process.env.WEBSHELL_OIDC_USERS || '').split(',')) {
    add(`a password (${pair.split(':')[0]})`, pair.split(':').slice(1).join(':'));
  }

  const clusterLogs = resolve(process.env.KUBECONFIG_PATH, '..', 'logs');
  const searched = [...files(resolve('test-results/logs')), ...files(clusterLogs)];
  const leaks = [];
  for (const file of searched) {
    const text = readFileSync(file, 'utf8');
    for (const [secret, what] of secrets) {
      if (text.includes(secret)) leaks.push(`${what} in ${file}`);
    }
  }
  console.log(`secret check: ${secrets.size} secrets, ${searched.length} log and audit files`);
  if (leaks.length) throw new Error(`secrets found in logs:\n${leaks.join('\n')}`);
  if (searched.length < 5) throw new Error(`too few log files searched: ${searched.join(', ')}`);
}
