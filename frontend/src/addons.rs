//! xterm.js addons that load after the terminal opens, so the first prompt does not wait for
//! them (BENCHMARKS.md §6 counts what the first load needs).
//!
//! A page says where a deferred addon's script is with a `<meta>` (the SPA's `index.html`):
//!
//! ```html
//! <meta name="webshell-addon:unicode11" content="/addon-unicode11.js" />
//! ```
//!
//! An app that embeds [`crate::terminal::Terminal`] may load the script itself instead: a
//! global that is already there is used at once. With neither, the terminal keeps xterm's
//! built-in Unicode 6 widths, shows URLs as plain text, and without the search addon the
//! search bar says it cannot search.

use std::cell::RefCell;

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::xterm::{Search, Terminal, Unicode11, WebLinks, Webgl};

thread_local! {
    /// One load per script and page, shared by every terminal (tabs) that wants it. A list,
    /// not a HashMap: there are one or two, and a HashMap brings its hasher into the wasm.
    static SCRIPTS: RefCell<Vec<(String, Promise)>> = RefCell::default();
}

/// Draws emoji and other wide characters two cells wide, as the shell's `wcwidth` counts them,
/// so a line edited with the cursor shows what the shell will run.
pub fn unicode11(term: &Terminal) {
    activate_soon(term, "webshell-addon:unicode11", activate_unicode11);
}

/// Makes URLs in the output links that open in a new tab. Without the addon the terminal
/// still works.
pub fn web_links(term: &Terminal) {
    activate_soon(term, "webshell-addon:web-links", |term| {
        let addon = WebLinks::new()?;
        term.try_load_addon(&addon)
    });
}

/// Runs `activate` on `term` at once if its addon's global is there, else after the script
/// that `meta` names has run. A script that fails to load leaves the terminal without it.
fn activate_soon(
    term: &Terminal,
    meta: &'static str,
    activate: fn(&Terminal) -> Result<(), JsValue>,
) {
    if activate(term).is_ok() {
        return;
    }
    let term = term.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = loaded(meta, || activate(&term)).await;
    });
}

/// The search addon on `term`, loading its script the first time (`None` when the page
/// offers none, or it failed to load).
pub async fn search(term: &Terminal) -> Option<Search> {
    loaded("webshell-addon:search", || load_search(term)).await
}

/// The WebGL renderer on `term`, loading its script the first time; `None` keeps xterm's DOM
/// renderer (the page offers no addon, or the browser no WebGL2 context).
pub async fn webgl(term: &Terminal) -> Option<Webgl> {
    loaded("webshell-addon:webgl", || load_webgl(term)).await
}

/// `load()`'s addon: at once when its global is there, else after the script that `meta`
/// names has run; `None` when there is no such script, or the addon still fails.
async fn loaded<T>(meta: &str, load: impl Fn() -> Result<T, JsValue>) -> Option<T> {
    if let Ok(addon) = load() {
        return Some(addon);
    }
    let src = meta_content(meta)?;
    JsFuture::from(script(&src)).await.ok()?;
    load().ok()
}

fn load_webgl(term: &Terminal) -> Result<Webgl, JsValue> {
    let addon = Webgl::new()?;
    term.try_load_addon(&addon)?;
    Ok(addon)
}

fn load_search(term: &Terminal) -> Result<Search, JsValue> {
    let addon = Search::new()?;
    term.try_load_addon(&addon)?;
    Ok(addon)
}

fn activate_unicode11(term: &Terminal) -> Result<(), JsValue> {
    let addon = Unicode11::new()?;
    term.try_load_addon(&addon)?;
    // `term.unicode` is a proposed API (the terminal sets allowProposedApi). Through Reflect,
    // so a terminal disposed meanwhile fails here instead of throwing through wasm.
    let unicode = Reflect::get(term, &"unicode".into())?;
    Reflect::set(&unicode, &"activeVersion".into(), &"11".into())?;
    Ok(())
}

fn meta_content(name: &str) -> Option<String> {
    web_sys::window()?
        .document()?
        .query_selector(&format!("meta[name=\"{name}\"]"))
        .ok()??
        .get_attribute("content")
        .filter(|c| !c.is_empty())
}

/// Loads a script once (a module script for `.mjs`); the promise settles when it ran or failed
/// to load.
fn script(src: &str) -> Promise {
    SCRIPTS.with_borrow_mut(|scripts| {
        if let Some((_, loading)) = scripts.iter().find(|(s, _)| s == src) {
            return loading.clone();
        }
        let loading = append_script(src);
        scripts.push((src.to_owned(), loading.clone()));
        loading
    })
}

fn append_script(src: &str) -> Promise {
    let document = web_sys::window().and_then(|w| w.document());
    let element = document
        .as_ref()
        .and_then(|d| d.create_element("script").ok());
    let (Some(document), Some(element)) = (document, element) else {
        return Promise::reject(&"no document".into());
    };
    let settled = Promise::new(&mut |resolve, reject| {
        let _ = element.add_event_listener_with_callback("load", &resolve);
        let _ = element.add_event_listener_with_callback("error", &reject);
    });
    if src.ends_with(".mjs") {
        let _ = element.set_attribute("type", "module");
    }
    let _ = element.set_attribute("src", src);
    match document.document_element() {
        Some(root) if root.append_child(&element).is_ok() => settled,
        _ => Promise::reject(&"could not add the script".into()),
    }
}
