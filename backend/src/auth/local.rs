//! `--auth local`: one developer on their own machine, with the server's kubeconfig identity.
//!
//! Loopback is not a boundary: other local users, and any web page the developer visits, can
//! reach 127.0.0.1. So, like Jupyter, the server makes a random secret at start and prints the
//! URL that carries it. The first visit trades the secret for a sealed, `HttpOnly`,
//! `SameSite=Strict` cookie and is redirected to the same address without it, so the secret
//! leaves the address bar and the history. Without the cookie every API route answers 401.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use webshell_protocol::rest::{AuthMode, LOCAL_SECRET_PARAM};

use super::{Identity, source_of};
use crate::audit::Actor;
use crate::state::AppState;

/// The launch secret and whose identity it unlocks.
pub struct Local {
    secret: String,
    server: Identity,
}

impl Local {
    /// `secret` from `--local-secret-file`, or a random one; `server` is the kubeconfig
    /// identity as the API server reported it.
    pub fn new(secret: Option<String>, server: Option<Identity>) -> Local {
        let secret = secret.unwrap_or_else(|| {
            let bytes: [u8; 32] = rand::rng().random();
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        });
        let server = server.unwrap_or(Identity {
            user: "local".into(),
            groups: Vec::new(),
            mode: AuthMode::Local,
            expires_at: None,
        });
        Local { secret, server }
    }

    /// The secret, for the start-up URL.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    fn matches(&self, presented: &str) -> bool {
        crate::security::constant_time_eq(presented.as_bytes(), self.secret.as_bytes())
    }
}

/// Splits the launch secret off a query: the secret, and the query without it.
fn take_secret(query: &str) -> Option<(String, String)> {
    let mut presented = None;
    let mut kept = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == LOCAL_SECRET_PARAM {
            presented = Some(value.into_owned());
        } else {
            kept.append_pair(&key, &value);
        }
    }
    presented.map(|p| (p, kept.finish()))
}

/// Middleware on the SPA's pages: a visit whose query carries the launch secret gets the
/// session cookie and a redirect to the same page without the secret. A wrong secret is
/// dropped from the address too, and audited.
pub async fn exchange_secret(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(local) = state.auth.local.as_ref() else {
        return next.run(request).await;
    };
    let Some((presented, kept)) = take_secret(request.uri().query().unwrap_or_default()) else {
        return next.run(request).await;
    };
    let location = if kept.is_empty() {
        request.uri().path().to_owned()
    } else {
        format!("{}?{kept}", request.uri().path())
    };
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    if local.matches(&presented) {
        let sign_in = state.auth.sign_in(&local.server, None, None, None);
        match state.auth.seal(&sign_in) {
            Ok(cookie) => {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            Err(e) => return e.into_response(),
        }
    } else {
        let actor = Actor::anonymous(AuthMode::Local, source_of(&request));
        let reason = "wrong launch secret";
        state
            .audit
            .refused("auth", 401, &actor, "GET", request.uri().path(), reason);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_taken_out_of_the_query_and_the_rest_kept() {
        assert_eq!(
            take_secret("secret=abc&x=1"),
            Some(("abc".into(), "x=1".into()))
        );
        assert_eq!(
            take_secret("secret=abc"),
            Some(("abc".into(), String::new()))
        );
        assert_eq!(take_secret("x=1"), None);
        assert_eq!(take_secret(""), None);
    }

    #[test]
    fn a_random_secret_is_long_and_compared_exactly() {
        let local = Local::new(None, None);
        assert_eq!(local.secret().len(), 64);
        assert!(local.matches(local.secret()));
        assert!(!local.matches(&local.secret()[..63]));
        assert_ne!(Local::new(None, None).secret(), local.secret());
    }
}
