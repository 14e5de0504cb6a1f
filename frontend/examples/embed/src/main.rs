//! How another Leptos app embeds the webshell terminal: one fixed container, a status line
//! fed by `on_status`, and an `on_exit` callback.
//!
//! Build (from the repository root, after `eval "$(bash scripts/tools.sh wasm)"`):
//!   trunk --config frontend/examples/embed/Trunk.toml build --release
//! The page must be served by (or its `endpoint` pointed at) a webshell backend.

use leptos::prelude::*;
use webshell_frontend::{Terminal, TerminalStatus};

/// The container this page opens (the test cluster's bash pod).
const NAMESPACE: &str = "demo";
const POD: &str = "bash-pod";
const CONTAINER: &str = "main";

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(Example);
}

/// A page with a heading, a status line and a terminal below.
#[component]
fn Example() -> impl IntoView {
    let (status, set_status) = signal(TerminalStatus::Connecting);
    let (last_exit, set_last_exit) = signal(None::<i32>);

    view! {
        <header>
            <strong>"Embedded webshell"</strong>
            <code>{format!(" {NAMESPACE}/{POD}/{CONTAINER} ")}</code>
            <span data-testid="embed-status">{move || status.with(TerminalStatus::text)}</span>
            {move || last_exit.get().map(|code| format!(" — the shell exited with {code}"))}
        </header>
        // The component fills its parent, so the parent decides the terminal's size.
        <div class="terminal-box">
            <Terminal
                namespace=NAMESPACE
                pod=POD
                container=CONTAINER
                on_status=move |s: TerminalStatus| set_status.set(s)
                on_exit=move |code: i32, _reason: String| set_last_exit.set(Some(code))
            />
        </div>
    }
}
