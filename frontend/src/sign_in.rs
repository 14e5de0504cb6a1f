//! The sign-in form the SPA shows when its server requires an access token.

use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;

use crate::auth;

/// Asks for the server's access token. The token goes to `on_submit` only (the host keeps it,
/// see [`crate::auth`]); the input is emptied after each submit, so a refused token does not
/// linger on screen.
#[component]
pub fn TokenForm(
    /// Whether the server refused the last token sent; shows "token refused".
    refused: Signal<bool>,
    /// Called with the trimmed, non-empty token typed.
    on_submit: Callback<String>,
) -> impl IntoView {
    let input = NodeRef::<Input>::new();
    let submit = move |e: SubmitEvent| {
        e.prevent_default();
        let Some(field) = input.get() else {
            return;
        };
        if let Some(token) = auth::normalize(&field.value()) {
            field.set_value("");
            on_submit.run(token);
        }
    };

    view! {
        <form class="token-form" data-testid="token-form" on:submit=submit>
            <h2>"Access token required"</h2>
            <p class="muted">
                "This webshell server requires an access token. Ask whoever runs it; "
                "it is kept in this browser tab only, until you sign out or close the tab."
            </p>
            <input type="password" data-testid="token-input" node_ref=input
                placeholder="Access token" autocomplete="current-password" autofocus required />
            <button type="submit" class="primary" data-testid="token-submit">"Sign in"</button>
            <Show when=move || refused.get()>
                <p class="api-error" data-testid="token-error" role="alert">"token refused"</p>
            </Show>
        </form>
    }
}
