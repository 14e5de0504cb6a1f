// trunk post_build step (post-build.mjs): moves every inline <script> of the built index.html into a file of
// its own, so the page runs under a Content-Security-Policy with no inline script at all
// (`script-src 'self' 'wasm-unsafe-eval'`). trunk 0.21 writes its wasm loader inline
// (trunk-rs/trunk#288); a per-request nonce would need the server to rewrite every page.
// The file name carries a hash of the content, like trunk's own assets, so it caches forever.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function moveInlineScripts(staging, publicUrl) {
  const index = join(staging, 'index.html');
  const html = readFileSync(index, 'utf8');

  let moved = 0;
  const out = html.replace(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi, (tag, attrs, body) => {
    if (/\bsrc\s*=/i.test(attrs) || body.trim() === '') return tag;
    // `trunk serve`'s live-reload script: trunk fills in its {{__trunk_…}} placeholders as it
    // serves index.html, so it must stay there. Only trunk serve's pages carry it, and trunk
    // serve sends no CSP.
    if (body.includes('{{__trunk_')) return tag;
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
    const name = `boot-${hash}.js`;
    writeFileSync(join(staging, name), body);
    moved += 1;
    // Keep type="module" (top-level await) and drop any build-time nonce.
    const kept = attrs.replace(/\snonce="[^"]*"/i, '');
    return `<script${kept} src="${publicUrl}${name}"></script>`;
  });
  if (moved === 0) throw new Error(`no inline script found in ${index}: has trunk's output changed?`);
  writeFileSync(index, out);
  console.log(`no-inline-script: moved ${moved} inline script(s) out of index.html`);
}
