//! The access token that is required whenever the server listens beyond loopback.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use webshell_protocol::BEARER_SUBPROTOCOL_PREFIX;

use crate::error::AppError;
use crate::state::AppState;

/// Access policy, fixed at start-up.
#[derive(Clone, Default)]
pub struct Security {
    /// When set, every `/api` request must present it.
    pub access_token: Option<String>,
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token, not even in debug output.
        f.debug_struct("Security")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Security {
    fn token_presented(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.access_token else {
            return true;
        };
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let subprotocol = headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(|p| p.trim().strip_prefix(BEARER_SUBPROTOCOL_PREFIX))
            .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok());
        let presented = bearer.map(|t| t.as_bytes().to_vec()).or(subprotocol);
        presented.is_some_and(|t| constant_time_eq(&t, expected.as_bytes()))
    }
}

/// Compares without an early exit, so response timing does not reveal a token prefix.
/// (Four lines; not worth a dependency.)
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware: refuses `/api` requests without the access token, when one is configured.
pub async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if state.security.token_presented(request.headers()) {
        next.run(request).await
    } else {
        AppError::unauthorized().into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn the_token_is_accepted_as_bearer_header_or_subprotocol_entry_only_when_exact() {
        let s = Security {
            access_token: Some("s3cret".into()),
        };
        assert!(s.token_presented(&headers(&[("authorization", "Bearer s3cret")])));
        assert!(s.token_presented(&headers(&[(
            "sec-websocket-protocol",
            "webshell.v1, webshell.bearer.czNjcmV0" // base64url("s3cret")
        )])));
        assert!(!s.token_presented(&headers(&[("authorization", "Bearer s3cre")])));
        assert!(!s.token_presented(&headers(&[])));
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let s = Security {
            access_token: Some("s3cret".into()),
        };
        assert!(!format!("{s:?}").contains("s3cret"));
    }
}
