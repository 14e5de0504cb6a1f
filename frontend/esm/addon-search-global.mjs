// The ES module build of @xterm/addon-search (13 KB gzipped, against 22 KB for its UMD build)
// as the global `SearchAddon.SearchAddon` that src/xterm.rs binds. Loaded at the first search
// (src/addons.rs), as a module script.
import { SearchAddon } from './addon-search.mjs';

globalThis.SearchAddon = { SearchAddon };
