//! A thin, hand-written binding to @xterm/xterm 6 and the addons the terminal uses.
//!
//! The bindings name globals. `Terminal` and `FitAddon.FitAddon` must exist before the wasm
//! module starts; the deferred addons' (`Unicode11Addon.…`, `WebLinksAddon.…`,
//! `SearchAddon.…`, `WebglAddon.…`) may come later ([`crate::addons`]). The UMD builds make
//! them (a page embedding the component loads those with `<script>` tags in `<head>`); the SPA
//! loads the smaller ES module builds through shims that set the same globals
//! (`frontend/esm/`, `index.html`). Only the API this crate calls is bound; the upstream
//! typings are `node_modules/@xterm/xterm/typings/xterm.d.ts`.
//!
//! `xterm-js-rs` is not used on purpose: it binds xterm 4 APIs that xterm 6 removed.

use js_sys::{Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

#[wasm_bindgen]
extern "C" {
    /// `Terminal` from @xterm/xterm.
    #[derive(Debug, Clone)]
    pub type Terminal;

    /// `new Terminal(options)`; `options` is an `ITerminalOptions` object. Fails (instead of
    /// throwing through wasm) when the xterm script did not load.
    #[wasm_bindgen(constructor, catch)]
    pub fn new(options: &Object) -> Result<Terminal, JsValue>;

    /// Attaches the terminal to `parent` and renders it there.
    #[wasm_bindgen(method)]
    pub fn open(this: &Terminal, parent: &HtmlElement);

    /// Writes raw output bytes. xterm decodes UTF-8 as a stream, so a character split across
    /// two calls still renders correctly. xterm keeps the array until it has parsed it, so it
    /// must be a JS-owned copy, never a view into wasm memory.
    #[wasm_bindgen(method, js_name = write)]
    pub fn write_bytes(this: &Terminal, data: &Uint8Array);

    /// Writes a string (used for this crate's own notices, not for process output).
    #[wasm_bindgen(method, js_name = write)]
    pub fn write_str(this: &Terminal, data: &str);

    /// `term.write(bytes, callback)`: `callback` runs once xterm has processed the bytes
    /// (the basis of flow control).
    #[wasm_bindgen(method, js_name = write)]
    pub fn write_bytes_then(this: &Terminal, data: &Uint8Array, callback: &Function);

    /// `onData(listener)`: typed or pasted text, as a string. Returns the subscription.
    #[wasm_bindgen(method, js_name = onData)]
    pub fn on_data(this: &Terminal, listener: &Function) -> Disposable;

    /// `onBinary(listener)`: binary input (some mouse reports), one char code per byte.
    #[wasm_bindgen(method, js_name = onBinary)]
    pub fn on_binary(this: &Terminal, listener: &Function) -> Disposable;

    /// `onResize(listener)`: the listener gets `{ cols, rows }` ([`Dimensions`]).
    #[wasm_bindgen(method, js_name = onResize)]
    pub fn on_resize(this: &Terminal, listener: &Function) -> Disposable;

    /// `input(data, wasUserInput)`: input as if typed, through `onData` (the key bar's keys).
    #[wasm_bindgen(method)]
    pub fn input(this: &Terminal, data: &str, was_user_input: bool);

    /// Selects the whole buffer, scrollback included.
    #[wasm_bindgen(method, js_name = selectAll)]
    pub fn select_all(this: &Terminal);

    /// Clears the scrollback, keeping the prompt line.
    #[wasm_bindgen(method)]
    pub fn clear(this: &Terminal);

    /// Moves keyboard focus into the terminal.
    #[wasm_bindgen(method)]
    pub fn focus(this: &Terminal);

    /// Clears the screen and the scrollback and resets every mode (a log read again).
    #[wasm_bindgen(method)]
    pub fn reset(this: &Terminal);

    /// Tears the terminal down and removes its DOM. Safe to call twice.
    #[wasm_bindgen(method)]
    pub fn dispose(this: &Terminal);

    /// Current width in character cells.
    #[wasm_bindgen(method, getter)]
    pub fn cols(this: &Terminal) -> u32;

    /// Current height in character cells.
    #[wasm_bindgen(method, getter)]
    pub fn rows(this: &Terminal) -> u32;

    /// Activates an addon (`FitAddon`, `WebLinksAddon`, …).
    #[wasm_bindgen(method, js_name = loadAddon)]
    pub fn load_addon(this: &Terminal, addon: &JsValue);

    /// `attachCustomKeyEventHandler(handler)`: `handler` sees every key event first; returning
    /// `false` keeps xterm from handling it (the shortcut is ours, not the shell's).
    #[wasm_bindgen(method, js_name = attachCustomKeyEventHandler)]
    pub fn attach_custom_key_event_handler(this: &Terminal, handler: &Function);

    /// `onSelectionChange(listener)`: the selection was made, changed or cleared.
    #[wasm_bindgen(method, js_name = onSelectionChange)]
    pub fn on_selection_change(this: &Terminal, listener: &Function) -> Disposable;

    /// Whether text is selected.
    #[wasm_bindgen(method, js_name = hasSelection)]
    pub fn has_selection(this: &Terminal) -> bool;

    /// The selected text.
    #[wasm_bindgen(method, js_name = getSelection)]
    pub fn get_selection(this: &Terminal) -> String;

    /// Pastes text as a paste (bracketed when the shell asked for it), through `onData`.
    #[wasm_bindgen(method)]
    pub fn paste(this: &Terminal, data: &str);

    /// `loadAddon`, failing instead of throwing (for an addon loaded after the terminal may
    /// already be disposed).
    #[wasm_bindgen(method, catch, js_name = loadAddon)]
    pub fn try_load_addon(this: &Terminal, addon: &JsValue) -> Result<(), JsValue>;

    /// The live options object; setting a property on it reconfigures the terminal.
    #[wasm_bindgen(method, getter)]
    pub fn options(this: &Terminal) -> Object;

    /// An `IDisposable` returned by event subscriptions.
    #[derive(Debug, Clone)]
    pub type Disposable;

    /// Ends the subscription.
    #[wasm_bindgen(method)]
    pub fn dispose(this: &Disposable);

    /// The `{ cols, rows }` object of `onResize` and `proposeDimensions`.
    #[derive(Debug, Clone)]
    pub type Dimensions;

    /// Columns.
    #[wasm_bindgen(method, getter)]
    pub fn cols(this: &Dimensions) -> f64;

    /// Rows.
    #[wasm_bindgen(method, getter)]
    pub fn rows(this: &Dimensions) -> f64;

}

#[wasm_bindgen]
extern "C" {
    /// `FitAddon` from @xterm/addon-fit (global `FitAddon.FitAddon`). The Rust name must
    /// differ from the JS namespace: wasm-bindgen 0.2.130 fails to expand a type named like its
    /// own `js_namespace` ("implementation is not supported in `trait`s or `impl`s").
    #[wasm_bindgen(js_namespace = FitAddon, js_name = FitAddon)]
    #[derive(Debug, Clone)]
    pub type Fit;

    /// `new FitAddon.FitAddon()`.
    #[wasm_bindgen(constructor, catch, js_namespace = FitAddon, js_class = "FitAddon")]
    pub fn new() -> Result<Fit, JsValue>;

    /// Resizes the terminal to fill its parent element; fires `onResize` when the size changes.
    #[wasm_bindgen(method)]
    pub fn fit(this: &Fit);

    /// The size `fit` would pick, or `undefined` while the element has no layout.
    #[wasm_bindgen(method, js_name = proposeDimensions)]
    pub fn propose_dimensions(this: &Fit) -> Option<Dimensions>;

}

#[wasm_bindgen]
extern "C" {
    /// `WebLinksAddon` from @xterm/addon-web-links (global `WebLinksAddon.WebLinksAddon`).
    #[wasm_bindgen(js_namespace = WebLinksAddon, js_name = WebLinksAddon)]
    #[derive(Debug, Clone)]
    pub type WebLinks;

    /// `new WebLinksAddon.WebLinksAddon()`: URLs in the output become links that open in a new
    /// tab without an opener.
    #[wasm_bindgen(constructor, catch, js_namespace = WebLinksAddon, js_class = "WebLinksAddon")]
    pub fn new() -> Result<WebLinks, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    /// `Unicode11Addon` from @xterm/addon-unicode11 (global `Unicode11Addon.Unicode11Addon`),
    /// loaded after the terminal opens (see [`crate::addons`]).
    #[wasm_bindgen(js_namespace = Unicode11Addon, js_name = Unicode11Addon)]
    #[derive(Debug, Clone)]
    pub type Unicode11;

    /// `new Unicode11Addon.Unicode11Addon()`: registers the Unicode 11 width table ("11"),
    /// which draws emoji two cells wide, as shells and `wcwidth` count them.
    #[wasm_bindgen(constructor, catch, js_namespace = Unicode11Addon, js_class = "Unicode11Addon")]
    pub fn new() -> Result<Unicode11, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    /// `WebglAddon` from @xterm/addon-webgl (global `WebglAddon.WebglAddon`), loaded after
    /// the terminal opens (see [`crate::addons`]): draws the screen with WebGL2 instead of DOM
    /// elements, several times faster for a flood of output.
    #[wasm_bindgen(js_namespace = WebglAddon, js_name = WebglAddon)]
    #[derive(Debug, Clone)]
    pub type Webgl;

    /// `new WebglAddon.WebglAddon()`. Loading it throws where the browser has no WebGL2.
    #[wasm_bindgen(constructor, catch, js_namespace = WebglAddon, js_class = "WebglAddon")]
    pub fn new() -> Result<Webgl, JsValue>;

    /// `onContextLoss(listener)`: the browser took the WebGL context away (too many, or the
    /// GPU reset); the addon must then be disposed, and xterm draws with the DOM again.
    #[wasm_bindgen(method, js_name = onContextLoss)]
    pub fn on_context_loss(this: &Webgl, listener: &js_sys::Function) -> Disposable;

    /// Removes the WebGL renderer; the DOM renderer takes over.
    #[wasm_bindgen(method)]
    pub fn dispose(this: &Webgl);
}

#[wasm_bindgen]
extern "C" {
    /// `SearchAddon` from @xterm/addon-search (global `SearchAddon.SearchAddon`), loaded
    /// when a person first searches (see [`crate::addons`]).
    #[wasm_bindgen(js_namespace = SearchAddon, js_name = SearchAddon)]
    #[derive(Debug, Clone)]
    pub type Search;

    /// `new SearchAddon.SearchAddon()`.
    #[wasm_bindgen(constructor, catch, js_namespace = SearchAddon, js_class = "SearchAddon")]
    pub fn new() -> Result<Search, JsValue>;

    /// Selects and scrolls to the next match after the selection; `false` when none.
    /// `options` is an `ISearchOptions` (`caseSensitive`, `decorations`, …).
    #[wasm_bindgen(method, js_name = findNext)]
    pub fn find_next(this: &Search, term: &str, options: &Object) -> bool;

    /// The same, backwards.
    #[wasm_bindgen(method, js_name = findPrevious)]
    pub fn find_previous(this: &Search, term: &str, options: &Object) -> bool;

    /// Removes the highlights and the selection of the last search.
    #[wasm_bindgen(method, js_name = clearDecorations)]
    pub fn clear_decorations(this: &Search);
}

/// Builds a plain JS object from key/value pairs (for `ITerminalOptions` and its theme).
pub fn object(entries: &[(&str, JsValue)]) -> Object {
    let obj = Object::new();
    for (key, value) in entries {
        // Reflect.set on a fresh plain object cannot fail.
        let _ = Reflect::set(&obj, &JsValue::from_str(key), value);
    }
    obj
}
