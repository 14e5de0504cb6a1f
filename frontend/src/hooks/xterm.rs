//! `use_xterm`: creates an xterm in a `<div>` once it is in the DOM, keeps it fitted to that
//! div, and disposes it when the component goes away.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::html::Div;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlDivElement, ResizeObserver};

use crate::xterm::{Dimensions, Disposable, Fit, Terminal, WebLinks, object};

/// A live xterm and its fit addon (cheap to clone: both are JS references).
#[derive(Debug, Clone)]
pub struct Xterm {
    /// The terminal.
    pub term: Terminal,
    /// Its fit addon; `fit()` resizes the terminal to the element.
    pub fit: Fit,
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
}

/// What must live exactly as long as the terminal.
struct Mounted {
    term: Terminal,
    observer: Option<ResizeObserver>,
    size_subscription: Disposable,
    _on_element_resize: Closure<dyn FnMut()>,
    _on_term_resize: Closure<dyn FnMut(Dimensions)>,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(observer) = &self.observer {
            observer.disconnect();
        }
        self.size_subscription.dispose();
        self.term.dispose();
    }
}

/// Opens an xterm into the element of `node` as soon as it is mounted and fits it. A
/// `ResizeObserver` on the element refits on every size change (window resizes included),
/// which makes xterm fire `onResize`. The terminal is disposed on cleanup.
pub fn use_xterm(node: NodeRef<Div>) -> XtermHandle {
    let (state, set_state) = signal_local(XtermState::Pending);
    let (size, set_size) = signal(None);
    let mounted: Rc<RefCell<Option<Mounted>>> = Rc::default();

    let slot = Rc::clone(&mounted);
    node.on_load(move |el: HtmlDivElement| match mount(&el, set_size) {
        Ok((xterm, parts)) => {
            *slot.borrow_mut() = Some(parts);
            set_state.set(XtermState::Ready(xterm));
        }
        Err(message) => set_state.set(XtermState::Failed(message)),
    });

    let mounted = SendWrapper::new(mounted);
    on_cleanup(move || drop(mounted.borrow_mut().take()));
    XtermHandle { state, size }
}

fn mount(
    el: &HtmlDivElement,
    set_size: WriteSignal<Option<(u32, u32)>>,
) -> Result<(Xterm, Mounted), String> {
    let not_loaded = |what: &str| format!("{what} did not load; check the page's <script> tags");
    let term = Terminal::new(&options()).map_err(|_| not_loaded("xterm.js"))?;
    let fit = match Fit::new() {
        Ok(fit) => fit,
        Err(_) => {
            term.dispose();
            return Err(not_loaded("@xterm/addon-fit"));
        }
    };
    term.load_addon(&fit);
    // Clickable URLs are a nicety: without the addon the terminal still works.
    if let Ok(links) = WebLinks::new() {
        term.load_addon(&links);
    }
    term.open(el);
    fit.fit();
    set_size.set(Some((term.cols(), term.rows())));
    let on_term_resize = Closure::<dyn FnMut(Dimensions)>::new(move |d: Dimensions| {
        set_size.try_set(Some((d.cols() as u32, d.rows() as u32)));
    });
    let size_subscription = term.on_resize(on_term_resize.as_ref().unchecked_ref());

    let refit = fit.clone();
    let on_element_resize = Closure::<dyn FnMut()>::new(move || refit.fit());
    let observer = ResizeObserver::new(on_element_resize.as_ref().unchecked_ref()).ok();
    if let Some(observer) = &observer {
        observer.observe(el);
    }
    let parts = Mounted {
        term: term.clone(),
        observer,
        size_subscription,
        _on_element_resize: on_element_resize,
        _on_term_resize: on_term_resize,
    };
    Ok((Xterm { term, fit }, parts))
}

/// `ITerminalOptions`: a dark theme matching the app, and enough scrollback for logs.
fn options() -> js_sys::Object {
    let theme = object(&[
        ("background", "#0d1117".into()),
        ("foreground", "#d6dde6".into()),
        ("cursor", "#d6dde6".into()),
        ("selectionBackground", "#264f78".into()),
    ]);
    object(&[
        ("cursorBlink", true.into()),
        (
            "fontFamily",
            "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace".into(),
        ),
        ("fontSize", 14.into()),
        ("scrollback", 10_000.into()),
        ("theme", theme.into()),
    ])
}
