// trunk's post_build hook. Its steps run here one after the other: trunk starts every hook of
// a stage at once, and two hooks rewriting index.html would race.
import { moveInlineScripts } from './no-inline-script.mjs';
import { addDevEndpoint } from './dev-endpoint.mjs';
import { precompress } from './precompress.mjs';

const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) throw new Error('run me as a trunk post_build hook (TRUNK_STAGING_DIR unset)');
moveInlineScripts(staging, process.env.TRUNK_PUBLIC_URL || '/');
addDevEndpoint(staging);
// Last: it compresses index.html as the steps above left it. Only release builds: `trunk serve`
// rebuilds on every save, and a debug wasm takes seconds at brotli's best level.
if (process.env.TRUNK_PROFILE === 'release') precompress(staging);
