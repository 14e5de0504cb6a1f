//! How another Leptos app embeds the webshell terminal: its own colours and font size
//! (`options`), a status line fed by `on_status`, an `on_exit` callback, and authentication
//! supplied by the host app.
//!
//! The host here asks for the webshell server's address and the person's own Kubernetes token
//! (a real host app would take the token from its own sign-in), then mounts `<Terminal/>` with
//! both. The token rides on the socket as a subprotocol entry, never in a URL, and this page
//! keeps it only in memory. The server must run with `--auth token` and allow this page's
//! origin (`--allowed-origin http://this-page`). Served from the same site as the server, a
//! host can instead rely on the person's session cookie and pass no token at all.
//!
//! Build (from the repository root, after `eval "$(bash scripts/tools.sh wasm)"`):
//!   trunk --config frontend/examples/embed/Trunk.toml build --release

use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use webshell_frontend::{Terminal, TerminalHandle, TerminalOptions, TerminalStatus, Theme};

/// The container this page opens (the test cluster's bash pod).
const NAMESPACE: &str = "demo";
const POD: &str = "bash-pod";
const CONTAINER: &str = "main";

/// The host app's own look: Solarized dark, a larger font, a short scrollback.
fn host_look() -> TerminalOptions {
    TerminalOptions {
        theme: Theme {
            background: "#002b36".into(),
            foreground: "#93a1a1".into(),
            cursor: "#d33682".into(),
            selection_background: "#073642".into(),
        },
        font_size: 15,
        scrollback: 2_000,
        ..TerminalOptions::default()
    }
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(Example);
}

/// What the host app connects with.
#[derive(Clone)]
struct Connection {
    endpoint: String,
    token: String,
}

/// A page with a connect form, a status line and a terminal below.
#[component]
fn Example() -> impl IntoView {
    let (status, set_status) = signal(TerminalStatus::Connecting);
    let (last_exit, set_last_exit) = signal(None::<i32>);
    let connection = RwSignal::new(None::<Connection>);
    // The host's own buttons act on the terminal through its handle.
    let handle = TerminalHandle::new();
    let endpoint = NodeRef::<Input>::new();
    let token = NodeRef::<Input>::new();
    let connect = move |e: SubmitEvent| {
        e.prevent_default();
        if let (Some(endpoint), Some(token)) = (endpoint.get(), token.get()) {
            connection.set(Some(Connection {
                endpoint: endpoint.value().trim().to_owned(),
                token: token.value().trim().to_owned(),
            }));
            token.set_value("");
        }
    };

    view! {
        <header>
            <strong>"Embedded webshell"</strong>
            <code>{format!(" {NAMESPACE}/{POD}/{CONTAINER} ")}</code>
            <form class="connect" on:submit=connect>
                <label>"webshell server "
                    <input data-testid="embed-endpoint" node_ref=endpoint
                        placeholder="https://webshell.example.com" required />
                </label>
                <label>" your Kubernetes token "
                    <input data-testid="embed-token" type="password" node_ref=token
                        autocomplete="off" />
                </label>
                <button type="submit" data-testid="embed-connect">"Connect"</button>
            </form>
            <span data-testid="embed-status">{move || status.with(TerminalStatus::text)}</span>
            <span class="actions">
                <button data-testid="embed-note"
                    on:click=move |_| handle.write("\r\n\x1b[33m[host] maintenance at 18:00\x1b[0m\r\n")>
                    "Note"</button>
                <button data-testid="embed-clear" on:click=move |_| handle.clear()>"Clear"</button>
                <button data-testid="embed-reconnect" on:click=move |_| handle.reconnect()>
                    "Reconnect"</button>
                <button data-testid="embed-focus" on:click=move |_| handle.focus()>"Focus"</button>
            </span>
            {move || last_exit.get().map(|code| format!(" — the shell exited with {code}"))}
        </header>
        // The component fills its parent, so the parent decides the terminal's size. Keyed on
        // the connection: a new one mounts a new terminal (and session).
        <div class="terminal-box">
            {move || connection.get().map(|c| view! {
                <Terminal
                    endpoint=c.endpoint
                    token=Some(c.token).filter(|t| !t.is_empty())
                    namespace=NAMESPACE
                    pod=POD
                    container=CONTAINER
                    on_status=move |s: TerminalStatus| set_status.set(s)
                    on_exit=move |code: i32, _reason: String| set_last_exit.set(Some(code))
                    options=host_look()
                    handle=handle
                />
            })}
        </div>
    }
}
