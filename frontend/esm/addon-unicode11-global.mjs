// The ES module build of @xterm/addon-unicode11 (11 KB gzipped, against 16 KB for its UMD
// build) as the global `Unicode11Addon.Unicode11Addon` that src/xterm.rs binds. Loaded after
// the terminal opens (src/addons.rs), as a module script.
import { Unicode11Addon } from './addon-unicode11.mjs';

globalThis.Unicode11Addon = { Unicode11Addon };
