// The ES module build of @xterm/addon-web-links as the global `WebLinksAddon.WebLinksAddon`
// that src/xterm.rs binds. Loaded after the terminal opens (src/addons.rs), as a module script:
// links are a nicety the first prompt does not wait for.
import { WebLinksAddon } from './addon-web-links.mjs';

globalThis.WebLinksAddon = { WebLinksAddon };
