//! The webshell SPA entry point; build with `trunk build --release` from the repository root.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(webshell_frontend::app::App);
}
