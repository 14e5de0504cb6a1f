//! `use_xterm`: creates an xterm in a `<div>` once it is in the DOM, keeps it fitted to that
//! div and in step with its [`TerminalOptions`], and disposes it when the component goes away.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::Reflect;
use leptos::html::Div;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlDivElement, ResizeObserver};

use crate::clipboard::{self, ClipboardPrefs, ClipboardShortcuts, SharedPrefs};
use crate::key_bar::CtrlLatch;
use crate::options::{TerminalOptions, Theme};
use crate::xterm::{Dimensions, Disposable, Fit, Terminal, Webgl, object};

/// A live xterm and its fit addon (cheap to clone: both are JS references).
#[derive(Debug, Clone)]
pub struct Xterm {
    /// The terminal.
    pub term: Terminal,
    /// Its fit addon; `fit()` resizes the terminal to the element.
    pub fit: Fit,
    /// The key bar's Ctrl, applied to typed input on its way to the process.
    pub ctrl: CtrlLatch,
    /// The clipboard choices now in force (the context menu's paste asks by them).
    pub clipboard_prefs: SharedPrefs,
}

/// Where the terminal of [`use_xterm`] stands.
#[derive(Debug, Clone)]
pub enum XtermState {
    /// The element is not in the DOM yet.
    Pending,
    /// Opened and fitted: its size is the real one.
    Ready(Xterm),
    /// xterm.js could not be created (its script did not load).
    Failed(String),
}

/// What [`use_xterm`] gives the component.
#[derive(Debug, Clone, Copy)]
pub struct XtermHandle {
    /// The terminal's lifecycle.
    pub state: ReadSignal<XtermState, LocalStorage>,
    /// Its size in cells `(cols, rows)` once opened; follows every resize.
    pub size: ReadSignal<Option<(u32, u32)>>,
    /// Counts the person's requests to search (Ctrl+Shift+F in the terminal).
    pub find_requests: ReadSignal<u32>,
    /// Whether Tab and Shift+Tab move focus out of the terminal (Ctrl+Shift+M toggles it).
    pub tab_moves_focus: ReadSignal<bool>,
    request_find: WriteSignal<u32>,
}

impl XtermHandle {
    /// Opens the search bar, as Ctrl+Shift+F does.
    pub fn find(&self) {
        self.request_find.update(|n| *n += 1);
    }

    /// The terminal once it is open, without subscribing (for event handlers).
    pub fn ready(&self) -> Option<Xterm> {
        match self.state.get_untracked() {
            XtermState::Ready(x) => Some(x),
            _ => None,
        }
    }
}

/// What must live exactly as long as the terminal.
struct Mounted {
    term: Terminal,
    fit: Fit,
    /// The options the terminal has now.
    applied: RefCell<TerminalOptions>,
    clipboard_prefs: SharedPrefs,
    _clipboard: ClipboardShortcuts,
    observer: Option<ResizeObserver>,
    size_subscription: Disposable,
    _on_element_resize: Closure<dyn FnMut()>,
    _on_term_resize: Closure<dyn FnMut(Dimensions)>,
    gpu: Rc<Gpu>,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(observer) = &self.observer {
            observer.disconnect();
        }
        self.size_subscription.dispose();
        self.gpu.release();
        self.term.dispose();
    }
}

/// One terminal's WebGL renderer, held only while the terminal is shown. Chromium allows 16
/// WebGL contexts per page and drops the oldest past that; with one terminal per tab, a
/// context per hidden tab would run out. A hidden terminal (its element has no size: its tab
/// panel is `display: none`) draws with the DOM renderer, which costs nothing while hidden.
/// Without WebGL2, or after the browser takes the context away, it stays on the DOM renderer.
#[derive(Default)]
struct Gpu {
    renderer: RefCell<Option<WebglRenderer>>,
    loading: Cell<bool>,
    /// No WebGL here (no addon, no context, or a context lost): do not try again.
    unavailable: Cell<bool>,
}

/// A WebGL addon in use, with its context-loss subscription and the listener it calls.
struct WebglRenderer {
    addon: Webgl,
    subscription: Disposable,
    _on_loss: Closure<dyn FnMut()>,
}

impl Gpu {
    /// Follows the element's size: WebGL while shown, the DOM while hidden.
    fn follow(self: &Rc<Gpu>, term: &Terminal, shown: bool) {
        if !shown {
            self.release();
            return;
        }
        if self.unavailable.get() || self.loading.get() || self.renderer.borrow().is_some() {
            return;
        }
        self.loading.set(true);
        let (gpu, term) = (Rc::clone(self), term.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let renderer = crate::addons::webgl(&term).await;
            gpu.loading.set(false);
            let Some(renderer) = renderer else {
                gpu.unavailable.set(true);
                return;
            };
            let lost = {
                let gpu = Rc::downgrade(&gpu);
                Closure::<dyn FnMut()>::new(move || {
                    if let Some(gpu) = gpu.upgrade() {
                        gpu.unavailable.set(true);
                        // Not from inside the addon's own event: dispose it once that returned.
                        wasm_bindgen_futures::spawn_local(async move { gpu.release() });
                    }
                })
            };
            let subscription = renderer.on_context_loss(lost.as_ref().unchecked_ref());
            gpu.renderer.replace(Some(WebglRenderer {
                addon: renderer,
                subscription,
                _on_loss: lost,
            }));
        });
    }

    fn release(&self) {
        if let Some(renderer) = self.renderer.take() {
            renderer.subscription.dispose();
            renderer.addon.dispose();
        }
    }
}

/// Opens an xterm into the element of `node` as soon as it is mounted and fits it. A
/// `ResizeObserver` on the element refits on every size change (window resizes included),
/// which makes xterm fire `onResize`. A change of `options` applies at once (a new font size
/// refits). The terminal is disposed on cleanup. A `read_only` terminal takes no input and
/// turns each `\n` into a new line (a log, not a TTY).
pub fn use_xterm(
    node: NodeRef<Div>,
    options: Signal<TerminalOptions>,
    read_only: bool,
) -> XtermHandle {
    let (state, set_state) = signal_local(XtermState::Pending);
    let (size, set_size) = signal(None);
    let (find_requests, set_find_requests) = signal(0u32);
    let (tab_moves_focus, set_tab_moves_focus) = signal(false);
    let mounted: Rc<RefCell<Option<Mounted>>> = Rc::default();

    let slot = Rc::clone(&mounted);
    let initial = options.get_untracked();
    let on_find = move || set_find_requests.update(|n| *n += 1);
    let on_tab_focus = move |on: bool| set_tab_moves_focus.set(on);
    // Cleared on cleanup: a terminal whose font arrives after it was unmounted never opens.
    let alive = Rc::new(Cell::new(true));
    let still_alive = Rc::clone(&alive);
    node.on_load(move |el: HtmlDivElement| {
        leptos::task::spawn_local(async move {
            // xterm measures its cell once, when it opens: the web font must be there by then.
            font_loaded(&format!("{}px {}", initial.font_size, initial.font_family)).await;
            if !still_alive.get() {
                return;
            }
            match mount(&el, &initial, read_only, set_size, on_find, on_tab_focus) {
                Ok((xterm, parts)) => {
                    *slot.borrow_mut() = Some(parts);
                    set_state.set(XtermState::Ready(xterm));
                }
                Err(message) => set_state.set(XtermState::Failed(message)),
            }
        });
    });

    let live = SendWrapper::new(Rc::clone(&mounted));
    Effect::new(move |_| {
        let wanted = options.get();
        if let Some(m) = live.borrow().as_ref() {
            m.apply(&wanted);
        }
    });
    let mounted = SendWrapper::new(mounted);
    let alive = SendWrapper::new(alive);
    on_cleanup(move || {
        alive.set(false);
        drop(mounted.borrow_mut().take());
    });
    XtermHandle {
        state,
        size,
        find_requests,
        tab_moves_focus,
        request_find: set_find_requests,
    }
}

/// The longest a terminal waits for its font before it measures with what there is.
const FONT_WAIT_MS: i32 = 2000;

/// Resolves once the faces that `font` (a CSS `font` shorthand) needs for Latin text are
/// loaded, or after [`FONT_WAIT_MS`]: a missing or slow font must never keep a terminal shut. A
/// family list without web fonts (a host page that bundles none) resolves at once.
async fn font_loaded(font: &str) {
    let Some(loading) = load_font(font) else {
        return;
    };
    let timeout = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, FONT_WAIT_MS);
        }
    });
    let first = js_sys::Promise::race(&js_sys::Array::of2(&loading, &timeout));
    let _ = wasm_bindgen_futures::JsFuture::from(first).await;
}

/// `document.fonts.load(font)`, through `Reflect` (one call; not worth web-sys's FontFaceSet).
fn load_font(font: &str) -> Option<js_sys::Promise> {
    let document = web_sys::window()?.document()?;
    let fonts = Reflect::get(&document, &"fonts".into()).ok()?;
    let load: js_sys::Function = Reflect::get(&fonts, &"load".into()).ok()?.dyn_into().ok()?;
    load.call1(&fonts, &font.into()).ok()?.dyn_into().ok()
}

impl Mounted {
    /// Brings a running terminal in line with `wanted`. Only what changed is set: each set
    /// makes xterm re-measure or repaint.
    fn apply(&self, wanted: &TerminalOptions) {
        let applied = self.applied.replace(wanted.clone());
        let live = self.term.options();
        let set = |key: &str, value: JsValue| {
            let _ = Reflect::set(&live, &key.into(), &value);
        };
        if wanted.font_size != applied.font_size {
            set("fontSize", wanted.font_size.into());
        }
        if wanted.font_family != applied.font_family {
            set("fontFamily", wanted.font_family.as_str().into());
        }
        if wanted.scrollback != applied.scrollback {
            set("scrollback", wanted.scrollback.into());
        }
        if wanted.theme != applied.theme {
            set("theme", theme(&wanted.theme));
        }
        self.clipboard_prefs.set(clipboard_prefs(wanted));
        if (wanted.font_size, &wanted.font_family) != (applied.font_size, &applied.font_family) {
            self.fit.fit();
        }
    }
}

fn clipboard_prefs(o: &TerminalOptions) -> ClipboardPrefs {
    ClipboardPrefs {
        copy_on_select: o.copy_on_select,
        confirm_multiline_paste: o.confirm_multiline_paste,
    }
}

fn mount(
    el: &HtmlDivElement,
    initial: &TerminalOptions,
    read_only: bool,
    set_size: WriteSignal<Option<(u32, u32)>>,
    on_find: impl Fn() + 'static,
    on_tab_focus: impl Fn(bool) + 'static,
) -> Result<(Xterm, Mounted), String> {
    let not_loaded = |what: &str| format!("{what} did not load; check the page's <script> tags");
    let term = Terminal::new(&options(initial, read_only)).map_err(|_| not_loaded("xterm.js"))?;
    let fit = match Fit::new() {
        Ok(fit) => fit,
        Err(_) => {
            term.dispose();
            return Err(not_loaded("@xterm/addon-fit"));
        }
    };
    term.load_addon(&fit);
    term.open(el);
    crate::addons::unicode11(&term);
    crate::addons::web_links(&term);
    fit.fit();
    set_size.set(Some((term.cols(), term.rows())));
    let on_term_resize = Closure::<dyn FnMut(Dimensions)>::new(move |d: Dimensions| {
        set_size.try_set(Some((d.cols() as u32, d.rows() as u32)));
    });
    let size_subscription = term.on_resize(on_term_resize.as_ref().unchecked_ref());

    let refit = fit.clone();
    let gpu = Rc::new(Gpu::default());
    let on_element_resize = {
        let (gpu, term, el) = (Rc::clone(&gpu), term.clone(), el.clone());
        Closure::<dyn FnMut()>::new(move || {
            refit.fit();
            gpu.follow(&term, el.client_width() > 0 && el.client_height() > 0);
        })
    };
    let observer = ResizeObserver::new(on_element_resize.as_ref().unchecked_ref()).ok();
    if let Some(observer) = &observer {
        observer.observe(el);
    }
    let clipboard_prefs: SharedPrefs = Rc::new(Cell::new(clipboard_prefs(initial)));
    let parts = Mounted {
        term: term.clone(),
        fit: fit.clone(),
        applied: RefCell::new(initial.clone()),
        _clipboard: clipboard::install(
            &term,
            el,
            Rc::clone(&clipboard_prefs),
            Box::new(on_find),
            Box::new(on_tab_focus),
        ),
        clipboard_prefs,
        observer,
        size_subscription,
        _on_element_resize: on_element_resize,
        _on_term_resize: on_term_resize,
        gpu,
    };
    Ok((
        Xterm {
            term,
            fit,
            ctrl: CtrlLatch::default(),
            clipboard_prefs: Rc::clone(&parts.clipboard_prefs),
        },
        parts,
    ))
}

/// `ITerminalOptions` at creation.
fn options(o: &TerminalOptions, read_only: bool) -> js_sys::Object {
    object(&[
        // For `term.unicode` (the Unicode 11 widths of crate::addons).
        ("allowProposedApi", true.into()),
        ("convertEol", read_only.into()),
        ("disableStdin", read_only.into()),
        ("cursorBlink", (!read_only).into()),
        ("fontFamily", o.font_family.as_str().into()),
        ("fontSize", o.font_size.into()),
        // At line height 1.0 the 14 px glyphs sit in 16 px rows and the underscore falls
        // below the row's clip at device scale 1 (`snake_case` showed as `snake case`).
        ("lineHeight", 1.2.into()),
        ("scrollback", o.scrollback.into()),
        ("theme", theme(&o.theme)),
    ])
}

/// xterm's `ITheme` for `t`.
fn theme(t: &Theme) -> JsValue {
    object(&[
        ("background", t.background.as_str().into()),
        ("foreground", t.foreground.as_str().into()),
        ("cursor", t.cursor.as_str().into()),
        (
            "selectionBackground",
            t.selection_background.as_str().into(),
        ),
    ])
    .into()
}
