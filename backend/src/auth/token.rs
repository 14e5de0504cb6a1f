//! `--auth token`: each person signs in with their own Kubernetes bearer token (a
//! service-account token, or the id-token of their kubeconfig).
//!
//! The token is checked once at sign-in (`SelfSubjectReview`: the API server says whose it is),
//! then sealed into the session cookie; the browser never keeps it. Every Kubernetes call of
//! that person's requests and sessions carries it, so their own RBAC applies and the API
//! server's audit log names them.
//!
//! A host app embedding the terminal may instead send the token with each request: as
//! `Authorization: Bearer …` on REST, or on the socket as the subprotocol entry
//! `webshell.bearer.<base64url(token)>` (browsers cannot set headers on a WebSocket).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use webshell_protocol::BEARER_SUBPROTOCOL_PREFIX;
use webshell_protocol::rest::{self, AuthMode, TokenSignIn};

use super::{AppError, unix_now, who_am_i};
use crate::state::AppState;
use crate::upstream::Credential;

/// A bearer token larger than this is not one (service-account tokens are about 1 KB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The token a request carries itself, if any: the `Authorization` header, else the socket's
/// bearer subprotocol entry.
pub fn presented_bearer(headers: &HeaderMap) -> Option<Credential> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let from_subprotocol = || {
        headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(|p| p.trim().strip_prefix(BEARER_SUBPROTOCOL_PREFIX))
            .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
    };
    from_header
        .or_else(from_subprotocol)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_BYTES)
        .map(|t| Credential::Bearer(t.into()))
}

/// `POST /api/auth/token`: signs in with a bearer token.
pub async fn sign_in(State(state): State<AppState>, Json(body): Json<TokenSignIn>) -> Response {
    match sign_in_with(&state, body.token.trim()).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn sign_in_with(state: &AppState, token: &str) -> Result<Response, AppError> {
    if state.auth.mode() != AuthMode::Token {
        return Err(AppError::not_found(
            "this server does not take tokens; see GET /api/auth",
        ));
    }
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Err(AppError::bad_request("paste a Kubernetes bearer token"));
    }
    let credential = Credential::Bearer(token.to_owned().into());
    let identity = who_am_i(
        state.clusters.default_cluster(),
        &credential,
        AuthMode::Token,
    )
    .await?;
    let expires = jwt_expiry(token);
    if expires.is_some_and(|t| t <= unix_now()) {
        return Err(AppError::unauthorized("this token has expired"));
    }
    let sign_in = state
        .auth
        .sign_in(&identity, Some(token.to_owned()), None, expires);
    let cookie = state.auth.seal(&sign_in)?;
    let body = rest::Identity {
        user: identity.user,
        groups: identity.groups,
        mode: AuthMode::Token,
        expires_at: Some(sign_in.expires_at),
    };
    Ok((StatusCode::OK, [(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// The `exp` claim of a JWT, read without verifying it: the API server verifies the token;
/// this only keeps the sign-in from outliving it. `None` for tokens that are not JWTs.
pub fn jwt_expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .or_else(|_| STANDARD_NO_PAD.decode(payload.trim_end_matches('=')))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_i64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use secrecy::ExposeSecret;

    fn bearer(credential: Option<Credential>) -> Option<String> {
        match credential {
            Some(Credential::Bearer(t)) => Some(t.expose_secret().to_owned()),
            _ => None,
        }
    }

    #[test]
    fn the_token_comes_from_the_header_or_the_socket_subprotocol() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer t0ken"),
        );
        assert_eq!(bearer(presented_bearer(&headers)).as_deref(), Some("t0ken"));

        let mut headers = HeaderMap::new();
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("webshell.v1, webshell.bearer.dDBrZW4"),
        );
        assert_eq!(bearer(presented_bearer(&headers)).as_deref(), Some("t0ken"));
    }

    #[test]
    fn an_empty_token_is_no_token() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer  "));
        assert!(presented_bearer(&headers).is_none());
        let mut headers = HeaderMap::new();
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("webshell.v1, webshell.bearer."),
        );
        assert!(presented_bearer(&headers).is_none());
    }

    #[test]
    fn a_jwt_expiry_is_read_and_other_tokens_have_none() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"x","exp":1700000000}"#);
        assert_eq!(jwt_expiry(&format!("h.{payload}.s")), Some(1_700_000_000));
        assert_eq!(jwt_expiry("0123456789abcdef"), None);
        assert_eq!(jwt_expiry("a.!!!.c"), None);
    }
}
