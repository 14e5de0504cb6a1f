//! The embeddable `<Terminal/>`: an xterm connected to a shell in a Kubernetes container.

use leptos::html::Div;
use leptos::prelude::*;

use crate::auth::socket_protocols;
use crate::context_menu::{ContextMenu, open_at};
use crate::hooks::{SessionEvents, XtermHandle, use_exec_socket, use_xterm};
use crate::key_bar::{KeyBar, touch_screen};
use crate::options::TerminalOptions;
use crate::search_bar::SearchBar;
use crate::status::TerminalStatus;
use crate::url::{SocketTarget, exec_socket_url};

/// A terminal into one container of a pod, served by a webshell backend.
///
/// It fills its parent element (give the parent a size), fits itself to it on every resize,
/// and runs exactly one session: the props are read once at mount. To connect elsewhere or
/// to reconnect, mount a new `<Terminal/>` (e.g. inside `{move || …}` keyed on the target);
/// unmounting closes the socket (code 1000) and disposes the terminal.
///
/// The page must load xterm.js and its fit addon before the wasm starts (their UMD builds in
/// `<head>`, as `frontend/examples/embed/index.html` does, or the ES module builds with the
/// shims the SPA uses, `frontend/esm/`) and `xterm.css`. The web-links addon makes URLs
/// clickable when the page loads it too (the embed example does; the SPA loads it after the
/// terminal opens, [`crate::addons`]).
///
/// # Authentication
///
/// The terminal runs with the Kubernetes identity of the person the server knows, in one of
/// two ways:
/// - **The session cookie.** Serve the host app and the webshell server on one site (the same
///   origin, or behind one reverse proxy that routes, say, `/webshell/` to the server and sets
///   `endpoint="/webshell"`). The person signs in once at the webshell server (its `/` page,
///   or its OIDC or proxy sign-in) and the browser sends the `HttpOnly`, `SameSite=Strict`
///   cookie with the socket by itself. The host app never sees a credential.
/// - **A token the host app supplies** (`--auth token` servers): pass the person's own
///   Kubernetes bearer token as `token`. It travels as the socket subprotocol entry
///   `webshell.bearer.<base64url(token)>`, never in the URL. A host page on another origin
///   must also be allowed by the server: `--allowed-origin https://host.example`.
///
/// A refused sign-in ends the session as [`TerminalStatus::Disconnected`] with close code
/// 4401 and the server's reason; a refused exec (RBAC) as an `Error` naming what is missing.
///
/// ```ignore
/// let look = TerminalOptions {
///     theme: Theme { background: "#002b36".into(), ..Theme::dark() },
///     font_size: 15,
///     ..TerminalOptions::default()
/// };
/// view! {
///     <div style="height: 400px">
///         <Terminal namespace="demo" pod="web-0" container="app" options=look
///             on_exit=move |code: i32, _reason: String| log!("exit {code}") />
///     </div>
/// }
/// ```
///
/// Keyboard: Tab and Shift+Tab go to the shell (completion) until the person presses
/// Ctrl+Shift+M, which makes them move focus out of the terminal (a badge says so) and back.
///
/// A [`TerminalHandle`] passed as `handle` lets the host's own buttons focus it, write a
/// notice on its screen, send input, clear it or reconnect:
///
/// ```ignore
/// let handle = TerminalHandle::new();
/// view! {
///     <button on:click=move |_| handle.reconnect()>"Reconnect"</button>
///     <Terminal namespace="demo" pod="web-0" container="app" handle />
/// }
/// ```
///
/// `options` may also be a signal (a settings menu), applied live. Search (Ctrl+Shift+F) and
/// Unicode 11 widths need their addon scripts on the page: load `addon-search.js` and
/// `addon-unicode11.js` yourself, or name a script that makes their global in
/// `<meta name="webshell-addon:search">` and `<meta name="webshell-addon:unicode11">`
/// ([`crate::addons`]; a `.mjs` name loads as a module).
#[component]
pub fn Terminal(
    /// Base URL of the webshell server: `https://host[:port][/prefix]`, `ws(s)://…`, or a path
    /// on this origin such as `/webshell`. `http(s)` becomes `ws(s)`. Default (or empty): this
    /// page's origin.
    #[prop(optional, into)]
    endpoint: Option<String>,
    /// One of the server's clusters (`GET /api/clusters`), by name. Default: the server's
    /// default cluster.
    #[prop(default = None, into)]
    cluster: Option<String>,
    /// Namespace of the pod.
    #[prop(into)]
    namespace: String,
    /// Pod name.
    #[prop(into)]
    pod: String,
    /// Container name.
    #[prop(into)]
    container: String,
    /// Command to run instead of the server's shell detection, e.g. `vec!["sh".into()]`.
    /// Empty (the default) lets the server pick a shell.
    #[prop(optional)]
    command: Vec<String>,
    /// Attach to the container's main process (`kubectl attach`) instead of starting one;
    /// `command` must then be empty. Unmounting detaches: the process keeps running.
    #[prop(optional)]
    attach: bool,
    /// The person's own Kubernetes bearer token, for a `--auth token` server, when the host
    /// app supplies it (see "Authentication" above). Default: none; the session cookie is used.
    #[prop(default = None, into)]
    token: Option<String>,
    /// Theme, font, font size, scrollback and clipboard behaviour; may change while the
    /// terminal runs (a signal), e.g. from a settings menu. Default: [`TerminalOptions::default`].
    #[prop(optional, into)]
    options: Option<Signal<TerminalOptions>>,
    /// Show a row of Esc, Tab, Ctrl and arrow keys under the terminal, for phones. Default:
    /// on a touch screen (`pointer: coarse`).
    #[prop(optional)]
    key_bar: Option<bool>,
    /// Called once when the process exits, with its exit code and Kubernetes' reason.
    #[prop(optional, into)]
    on_exit: Option<Callback<(i32, String)>>,
    /// Called on every status change, starting with [`TerminalStatus::Connecting`]; use it to
    /// drive a status line or a reconnect button.
    #[prop(optional, into)]
    on_status: Option<Callback<TerminalStatus>>,
    /// Lets the host act on the terminal: focus, write, clear, reconnect
    /// ([`TerminalHandle`]).
    #[prop(optional)]
    handle: Option<TerminalHandle>,
) -> impl IntoView {
    let props = SessionProps {
        endpoint,
        cluster,
        namespace,
        pod,
        container,
        command,
        attach,
        token,
        options,
        key_bar,
        on_exit,
        on_status,
        handle,
    };
    // One session per reconnect: a new socket, process and screen, as the SPA's Reconnect.
    move || {
        if let Some(h) = handle {
            h.reconnects.track();
        }
        one_session(props.clone())
    }
}

/// A host's hold on a mounted [`Terminal`]: make one with [`TerminalHandle::new`], pass it as
/// the `handle` prop, and call it from the host's own event handlers. Calls before the
/// terminal opens (or after it is gone) do nothing.
#[derive(Debug, Clone, Copy)]
pub struct TerminalHandle {
    xterm: RwSignal<Option<XtermHandle>>,
    reconnects: RwSignal<u32>,
}

impl Default for TerminalHandle {
    fn default() -> Self {
        Self::new()
    }
}

impl TerminalHandle {
    /// A handle for one `<Terminal/>`.
    pub fn new() -> Self {
        TerminalHandle {
            xterm: RwSignal::new(None),
            reconnects: RwSignal::new(0),
        }
    }

    fn term(&self) -> Option<crate::xterm::Terminal> {
        self.xterm.get_untracked()?.ready().map(|x| x.term)
    }

    /// Moves the keyboard focus into the terminal.
    pub fn focus(&self) {
        if let Some(term) = self.term() {
            term.focus();
        }
    }

    /// Writes `text` on the screen, for the host's own notices; the process never sees it.
    /// Escape sequences work (colours, `\r\n`).
    pub fn write(&self, text: &str) {
        if let Some(term) = self.term() {
            term.write_str(text);
        }
    }

    /// Sends `text` to the process as if typed (e.g. a command and `\r`).
    pub fn input(&self, text: &str) {
        if let Some(term) = self.term() {
            term.input(text, true);
        }
    }

    /// Clears the scrollback, keeping the prompt line.
    pub fn clear(&self) {
        if let Some(term) = self.term() {
            term.clear();
        }
    }

    /// Ends this session and starts a new one: a new process and a fresh screen.
    pub fn reconnect(&self) {
        self.reconnects.update(|n| *n += 1);
    }
}

/// The props of one session, kept to start it again on reconnect.
#[derive(Clone)]
struct SessionProps {
    endpoint: Option<String>,
    cluster: Option<String>,
    namespace: String,
    pod: String,
    container: String,
    command: Vec<String>,
    attach: bool,
    token: Option<String>,
    options: Option<Signal<TerminalOptions>>,
    key_bar: Option<bool>,
    on_exit: Option<Callback<(i32, String)>>,
    on_status: Option<Callback<TerminalStatus>>,
    handle: Option<TerminalHandle>,
}

fn one_session(props: SessionProps) -> impl IntoView {
    let SessionProps {
        namespace,
        pod,
        container,
        attach,
        handle,
        ..
    } = props.clone();
    let events = SessionEvents {
        on_status: props.on_status,
        on_exit: props.on_exit,
    };
    events.status(TerminalStatus::Connecting);

    let origin = window().location().origin().unwrap_or_default();
    let url = exec_socket_url(
        props.endpoint.as_deref(),
        &origin,
        &SocketTarget {
            cluster: props.cluster.as_deref(),
            namespace: &namespace,
            pod: &pod,
            container: &container,
            command: &props.command,
            attach,
        },
    );

    let node = NodeRef::<Div>::new();
    let xterm = use_xterm(
        node,
        props
            .options
            .unwrap_or_else(|| Signal::stored(TerminalOptions::default())),
        false,
    );
    if attach {
        // An attach joins a running screen: nothing is redrawn until the process writes.
        let hint = format!(
            "\x1b[2mAttached to the main process of {pod}/{container}. If no prompt shows, \
             press Enter. Closing detaches; the process keeps running.\x1b[0m\r\n"
        );
        Effect::new(move |done: Option<bool>| {
            if done == Some(true) {
                return true;
            }
            match xterm.state.get() {
                crate::hooks::XtermState::Ready(x) => {
                    x.term.write_str(&hint);
                    true
                }
                _ => false,
            }
        });
    }
    use_exec_socket(
        xterm.state,
        url,
        socket_protocols(props.token.as_deref()),
        events,
    );
    if let Some(h) = handle {
        h.xterm.set(Some(xterm));
        on_cleanup(move || {
            h.xterm.try_set(None);
        });
    }
    let with_key_bar = props.key_bar.unwrap_or_else(touch_screen);
    let menu = RwSignal::new(None);
    let bar_height = if with_key_bar { "40px" } else { "0" };
    let cols = move || xterm.size.get().map(|(c, _)| c);
    let rows = move || xterm.size.get().map(|(_, r)| r);

    // The outer div takes the parent's size; xterm opens into the absolutely positioned inner
    // div, so its size never depends on the terminal's own content (no fit feedback loop).
    // data-cols/data-rows let tests compare xterm's size with `stty size` in the pod.
    view! {
        <div class="webshell-terminal" data-testid="terminal" data-cols=cols data-rows=rows
            on:contextmenu=open_at(menu)
            style="position: relative; width: 100%; height: 100%; min-height: 0; overflow: hidden">
            <div node_ref=node style=format!("position: absolute; inset: 0 0 {bar_height} 0")></div>
            <SearchBar xterm />
            <ContextMenu xterm at=menu />
            <Show when=move || xterm.tab_moves_focus.get()>
                <div class="tab-focus-badge" data-testid="tab-moves-focus" role="status">
                    "Tab moves focus · Ctrl+Shift+M for the shell's Tab"
                </div>
            </Show>
            {with_key_bar.then(|| view! { <KeyBar xterm /> })}
        </div>
    }
}
