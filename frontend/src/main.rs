//! The webshell SPA entry point; build with `trunk build --release` from the repository root.

fn main() {
    // Panic messages in the browser console while developing. Release builds leave the hook
    // (and the panic formatting it pulls in) out: a panic there is a bug either way, and the
    // bundle is size-budgeted.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(webshell_frontend::app::App);
}
