//! What the SPA shows instead of the terminal when the person must sign in, by the server's
//! mode (`GET /api/auth`): a token form, a link to the identity provider or the proxy's page,
//! or, for a local server, where to find the printed URL. The server's reason (expired,
//! refused, …) is shown above it.

use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use webshell_protocol::rest::{AuthInfo, AuthMode};

use crate::{api, auth};

/// The sign-in panel.
#[component]
pub fn SignIn(
    /// How the server signs people in.
    info: AuthInfo,
    /// Why the person must sign in, as the server said.
    reason: Signal<String>,
    /// Called once a sign-in in this page succeeded (token mode).
    on_signed_in: Callback<()>,
) -> impl IntoView {
    let body = match info.mode {
        AuthMode::Token => view! { <TokenForm on_signed_in /> }.into_any(),
        AuthMode::Oidc => {
            let login = info
                .sign_in_url
                .unwrap_or_else(|| webshell_protocol::rest::OIDC_LOGIN_PATH.into());
            // Come back to the same terminal after signing in.
            let path = window().location().pathname().unwrap_or_default();
            let href = format!("{login}?return_to={}", crate::url::encode_component(&path));
            view! {
                <p>"Sign in with your organisation's account."</p>
                <a class="button primary" data-testid="oidc-sign-in" href=href>"Sign in"</a>
            }
            .into_any()
        }
        AuthMode::Proxy => {
            let href = info.sign_in_url.unwrap_or_else(|| "/".into());
            view! {
                <p>"Your sign-in at the authenticating proxy is missing or has ended."</p>
                <a class="button primary" data-testid="proxy-sign-in" href=href>"Sign in"</a>
            }
            .into_any()
        }
        AuthMode::Local => view! {
            <p data-testid="local-sign-in">
                "This webshell runs with its own Kubernetes identity. Open the URL it printed "
                "when it started (it carries a one-time secret) in this browser."
            </p>
        }
        .into_any(),
    };
    view! {
        <section class="sign-in" data-testid="sign-in" data-mode=info.mode.as_str()
            aria-labelledby="sign-in-title">
            <h2 id="sign-in-title">"Sign in"</h2>
            <p class="api-error" data-testid="sign-in-reason" role="alert">
                {move || reason.get()}
            </p>
            {body}
        </section>
    }
}

/// Asks for a Kubernetes bearer token and trades it for the session cookie. The input is
/// emptied after each submit, so a refused token does not linger on screen, and the token is
/// never stored by the page.
#[component]
fn TokenForm(
    /// Called after a successful sign-in.
    on_signed_in: Callback<()>,
) -> impl IntoView {
    let input = NodeRef::<Input>::new();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |e: SubmitEvent| {
        e.prevent_default();
        let Some(field) = input.get() else {
            return;
        };
        let Some(token) = auth::normalize(&field.value()) else {
            return;
        };
        field.set_value("");
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = api::sign_in_with_token(token).await;
            busy.set(false);
            match result {
                Ok(_) => {
                    error.set(None);
                    on_signed_in.run(());
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };

    view! {
        <form class="token-form" data-testid="token-form" on:submit=submit>
            <p class="muted">
                "Paste your own Kubernetes bearer token: a service-account token "
                "(" <code>"kubectl create token NAME"</code> "), or the id-token of your "
                "kubeconfig. Your own RBAC applies. The server keeps it; this page does not."
            </p>
            <label for="token-input">"Token"</label>
            <input id="token-input" type="password" data-testid="token-input" node_ref=input
                placeholder="eyJhbGciOi…" autocomplete="off" autofocus required />
            <button type="submit" class="primary" data-testid="token-submit"
                disabled=move || busy.get()>"Sign in"</button>
            <Show when=move || error.with(Option::is_some)>
                <p class="api-error" data-testid="token-error" role="alert">
                    {move || error.get().unwrap_or_default()}
                </p>
            </Show>
        </form>
    }
}
