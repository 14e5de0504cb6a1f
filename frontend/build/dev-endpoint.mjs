// trunk post_build step for debug-profile builds (`trunk serve`): names the backend that
// terminal sockets go to, as <meta name="webshell-dev-endpoint">. trunk's proxy forwards the
// REST API but cannot carry the socket's subprotocol (see Trunk.toml), so a debug build of the
// SPA opens its sockets straight at this backend (frontend/src/app.rs). Release builds get no
// tag and would ignore one. WEBSHELL_DEV_ENDPOINT changes it from http://127.0.0.1:8080.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function addDevEndpoint(staging, profile = process.env.TRUNK_PROFILE) {
  if (profile !== 'debug') return;
  const endpoint = process.env.WEBSHELL_DEV_ENDPOINT || 'http://127.0.0.1:8080';
  if (!/^https?:\/\/[^\s"<>]+$/.test(endpoint)) {
    throw new Error(`WEBSHELL_DEV_ENDPOINT must be an http(s) URL, not ${JSON.stringify(endpoint)}`);
  }
  const index = join(staging, 'index.html');
  const html = readFileSync(index, 'utf8');
  const tag = `<meta name="webshell-dev-endpoint" content="${endpoint}" />`;
  if (!html.includes('</head>')) throw new Error(`no </head> in ${index}`);
  writeFileSync(index, html.replace('</head>', `${tag}</head>`));
  console.log(`dev-endpoint: terminal sockets go to ${endpoint}`);
}
