// Makes the ES module build of @xterm/addon-webgl (36 KB gzipped, against 67 KB for its UMD
// build) the global `WebglAddon.WebglAddon` that src/xterm.rs binds, as the UMD builds of the
// other addons are. Loaded after the terminal opens (src/addons.rs), as a module script.
import { WebglAddon } from './addon-webgl.mjs';

globalThis.WebglAddon = { WebglAddon };
