// trunk post_build step (post-build.mjs), release builds only: writes a brotli (`name.br`,
// quality 11) and a gzip (`name.gz`, level 9) copy beside every text asset, once, at build time.
// The server embeds them and sends the one the browser accepts (backend/src/assets.rs), so it
// compresses nothing per request: compressing the wasm on the fly with tower-http took 35 ms
// of every first visit, and the best levels are too slow to run per request at all. Brotli at
// 11 is what makes them worth it: the wasm is 239 KB with gzip -9 and 188 KB with brotli.
// Node's zlib has both (no tool to install). woff2 is brotli inside already: left alone.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';

const TEXT = /\.(wasm|js|mjs|css|html|svg|json)$/;

export function precompress(staging) {
  let written = 0;
  for (const name of readdirSync(staging)) {
    if (!TEXT.test(name)) continue;
    const raw = readFileSync(join(staging, name));
    const br = brotliCompressSync(raw, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      },
    });
    const gz = gzipSync(raw, { level: 9 });
    // A copy that does not decode to the file would be served as the file: never write one.
    if (!brotliDecompressSync(br).equals(raw) || !gunzipSync(gz).equals(raw)) {
      throw new Error(`precompress: ${name} does not round-trip`);
    }
    // Tiny files can grow; the server then sends them as they are.
    for (const [suffix, bytes] of [['.br', br], ['.gz', gz]]) {
      if (bytes.length < raw.length) {
        writeFileSync(join(staging, name + suffix), bytes);
        written += 1;
      }
    }
  }
  console.log(`precompress: ${written} compressed copies written`);
}
