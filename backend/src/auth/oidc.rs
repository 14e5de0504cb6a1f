//! `--auth oidc`: sign-in through the cluster's OpenID Connect provider (authorization code
//! flow with PKCE), as Headlamp offers and most platform teams run.
//!
//! The API server trusts the same issuer, so the id-token the provider hands back is the
//! person's Kubernetes credential. It is sealed into the session cookie with the refresh token
//! and renewed shortly before it expires (`--oidc-refresh-before`); the browser never sees
//! either. Concurrent requests that all find the token due share one refresh, since providers
//! that rotate refresh tokens accept each one only once.
//!
//! The flow's own state (CSRF state, nonce, PKCE verifier, where to return) rides in a second,
//! short-lived sealed cookie scoped to `/auth/oidc`. It is `SameSite=Lax`: the provider's
//! redirect back is a cross-site navigation, which a `Strict` cookie would not survive.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use webshell_protocol::rest::{AuthMode, OIDC_CALLBACK_PATH, OIDC_LOGIN_PATH};

use super::cookie::SignIn;
use super::{AppError, Source, unix_now, who_am_i};
use crate::state::AppState;
use crate::upstream::Credential;

/// The flow cookie's name and path.
const FLOW_COOKIE: &str = "webshell-oidc-flow";
const FLOW_PATH: &str = "/auth/oidc";
/// How long a person may take at the provider's login page.
const FLOW_SECONDS: i64 = 600;
/// How long a finished refresh is remembered for requests that raced it.
const REFRESH_MEMORY: Duration = Duration::from_secs(60);

/// The provider and this server's client registration.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// Issuer URL (discovery at `/.well-known/openid-configuration`).
    pub issuer: String,
    /// Client id; the API server must accept it as an audience.
    pub client_id: String,
    /// Client secret, for a confidential client.
    pub client_secret: Option<String>,
    /// A CA bundle the provider's certificate chains to, besides the usual roots.
    pub ca_file: Option<PathBuf>,
    /// Scopes beyond `openid` (`offline_access` asks for a refresh token).
    pub scopes: Vec<String>,
    /// Renew the id-token when it expires within this.
    pub refresh_before: Duration,
}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

type SharedRefresh = Arc<OnceCell<Result<SignIn, AppError>>>;

/// The discovered provider.
pub struct Oidc {
    client: Client,
    http: reqwest::Client,
    scopes: Vec<String>,
    refresh_before: Duration,
    refreshes: Mutex<HashMap<[u8; 32], (Instant, SharedRefresh)>>,
}

/// What the flow cookie holds between the redirect out and the redirect back.
#[derive(Serialize, Deserialize)]
struct Flow {
    state: String,
    nonce: String,
    verifier: String,
    redirect_uri: String,
    return_to: String,
    expires_at: i64,
}

impl Oidc {
    /// Discovers the provider; fails with one line if it cannot be reached or read.
    pub async fn discover(settings: OidcSettings) -> Result<Oidc, String> {
        let mut http = reqwest::Client::builder()
            // The token endpoint must not redirect; following would open SSRF paths.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15));
        if let Some(path) = &settings.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("--oidc-ca-file {}: {e}", path.display()))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("--oidc-ca-file {}: {e}", path.display()))?
            {
                http = http.add_root_certificate(cert);
            }
        }
        let http = http.build().map_err(|e| format!("OIDC HTTP client: {e}"))?;
        let issuer = IssuerUrl::new(settings.issuer.clone())
            .map_err(|e| format!("--oidc-issuer {:?}: {e}", settings.issuer))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| {
                format!(
                    "--oidc-issuer {}: discovery failed: {}",
                    settings.issuer,
                    error_chain(&e)
                )
            })?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.clone()),
            settings.client_secret.clone().map(ClientSecret::new),
        );
        Ok(Oidc {
            client,
            http,
            scopes: settings.scopes,
            refresh_before: settings.refresh_before,
            refreshes: Mutex::default(),
        })
    }

    /// Whether `sign_in`'s id-token is due for renewal.
    pub fn needs_refresh(&self, sign_in: &SignIn, now: i64) -> bool {
        sign_in.refresh_token.is_some()
            && sign_in
                .token_expires_at
                .is_some_and(|t| t - now <= self.refresh_before.as_secs() as i64)
    }

    /// Renews `sign_in`'s id-token with its refresh token; concurrent callers with the same
    /// refresh token share one call.
    pub async fn refresh(&self, sign_in: &SignIn) -> Result<SignIn, AppError> {
        let Some(refresh_token) = &sign_in.refresh_token else {
            return Err(AppError::unauthorized(
                "your sign-in expired; sign in again",
            ));
        };
        let key: [u8; 32] = Sha256::digest(refresh_token.as_bytes()).into();
        let shared = {
            let mut refreshes = self.refreshes.lock().unwrap_or_else(|e| e.into_inner());
            refreshes.retain(|_, (at, _)| at.elapsed() < REFRESH_MEMORY);
            refreshes
                .entry(key)
                .or_insert_with(|| (Instant::now(), SharedRefresh::default()))
                .1
                .clone()
        };
        shared
            .get_or_init(|| self.refresh_now(sign_in, refresh_token))
            .await
            .clone()
    }

    async fn refresh_now(&self, sign_in: &SignIn, refresh_token: &str) -> Result<SignIn, AppError> {
        let expired = |why: &str| {
            tracing::info!(user = %sign_in.user, why, "OIDC refresh failed");
            AppError::unauthorized("your sign-in expired and could not be renewed; sign in again")
        };
        let refresh_token = RefreshToken::new(refresh_token.to_owned());
        let response = self
            .client
            .exchange_refresh_token(&refresh_token)
            .map_err(|_| expired("no token endpoint"))?
            .request_async(&self.http)
            .await
            .map_err(|e| expired(&error_chain(&e)))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| expired("the provider returned no id-token"))?;
        // A refreshed id-token carries no nonce of ours (OpenID Connect Core §12.2).
        let claims = id_token
            .claims(&self.client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
            .map_err(|e| expired(&e.to_string()))?;
        Ok(SignIn {
            token: Some(id_token.to_string()),
            token_expires_at: Some(claims.expiration().timestamp()),
            refresh_token: response
                .refresh_token()
                .map(|t| t.secret().clone())
                .or_else(|| sign_in.refresh_token.clone()),
            ..sign_in.clone()
        })
    }
}

/// `GET /auth/oidc/login?return_to=/path`: sends the browser to the provider.
pub async fn login(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some(oidc) = state.auth.oidc.as_ref() else {
        return AppError::not_found("this server does not sign in with OpenID Connect")
            .into_response();
    };
    let Some(origin) = state.site.origin_of(&uri, &headers) else {
        return AppError::bad_request("no valid Host header").into_response();
    };
    let redirect_uri = format!("{origin}{OIDC_CALLBACK_PATH}");
    let Ok(redirect) = RedirectUrl::new(redirect_uri.clone()) else {
        return AppError::bad_request("no valid redirect URL").into_response();
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut authorize = oidc
        .client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .set_redirect_uri(Cow::Owned(redirect));
    for scope in &oidc.scopes {
        authorize = authorize.add_scope(Scope::new(scope.clone()));
    }
    let (url, csrf, nonce) = authorize.url();
    let flow = Flow {
        state: csrf.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        redirect_uri,
        return_to: safe_return_path(query.return_to.as_deref()),
        expires_at: unix_now() + FLOW_SECONDS,
    };
    let cookie = match state
        .auth
        .sealer
        .seal(FLOW_COOKIE, &flow, cookie::SameSite::Lax, FLOW_PATH)
    {
        Ok(cookie) => cookie,
        Err(e) => return e.into_response(),
    };
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, url.to_string()),
            (
                header::SET_COOKIE,
                cookie.to_str().unwrap_or_default().to_owned(),
            ),
        ],
    )
        .into_response()
}

/// The query of [`login`].
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

/// The query the provider sends back.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/oidc/callback`: the provider's redirect back; signs the person in.
pub async fn callback(
    State(state): State<AppState>,
    Query(query): Query<CallbackQuery>,
    Source(source): Source,
    headers: HeaderMap,
) -> Response {
    let clear_flow = state
        .auth
        .sealer
        .clear(FLOW_COOKIE, cookie::SameSite::Lax, FLOW_PATH);
    let result = finish(&state, query, &headers).await;
    let mut response = match result {
        Ok((cookie, return_to)) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, return_to)],
            [(header::SET_COOKIE, cookie)],
        )
            .into_response(),
        Err(e) => {
            let actor = crate::audit::Actor::anonymous(AuthMode::Oidc, source);
            state.audit.refused(
                "auth",
                e.kind.http_status(),
                &actor,
                "GET",
                OIDC_CALLBACK_PATH,
                &e.message,
            );
            failure_page(&e)
        }
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_flow);
    response
}

async fn finish(
    state: &AppState,
    query: CallbackQuery,
    headers: &HeaderMap,
) -> Result<(axum::http::HeaderValue, String), AppError> {
    let oidc =
        state.auth.oidc.as_ref().ok_or_else(|| {
            AppError::not_found("this server does not sign in with OpenID Connect")
        })?;
    if let Some(error) = query.error {
        let detail = query.error_description.unwrap_or_default();
        return Err(AppError::unauthorized(format!(
            "the identity provider refused the sign-in: {error} {detail}"
        )));
    }
    let flow: Flow = state
        .auth
        .sealer
        .open(headers, FLOW_COOKIE)
        .filter(|f: &Flow| f.expires_at > unix_now())
        .ok_or_else(|| {
            AppError::unauthorized(
                "the sign-in took too long or started in another browser; start again",
            )
        })?;
    let (Some(code), Some(returned_state)) = (query.code, query.state) else {
        return Err(AppError::bad_request(
            "the provider sent no authorization code",
        ));
    };
    if !crate::security::constant_time_eq(returned_state.as_bytes(), flow.state.as_bytes()) {
        return Err(AppError::unauthorized(
            "the sign-in answer does not belong to this browser (state mismatch); start again",
        ));
    }
    let redirect = RedirectUrl::new(flow.redirect_uri.clone())
        .map_err(|_| AppError::bad_request("bad redirect URL"))?;
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        tracing::warn!(error = %e, "OIDC {what} failed");
        AppError::unauthorized(format!("the sign-in failed at the {what}; start again"))
    };
    let response = oidc
        .client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| failed("token endpoint", &e))?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier))
        .set_redirect_uri(Cow::Owned(redirect))
        .request_async(&oidc.http)
        .await
        .map_err(|e| failed("token exchange", &error_chain(&e)))?;
    let id_token = response
        .id_token()
        .ok_or_else(|| AppError::unauthorized("the provider returned no id-token"))?;
    let claims = id_token
        .claims(
            &oidc.client.id_token_verifier(),
            &Nonce::new(flow.nonce.clone()),
        )
        .map_err(|e| failed("id-token check", &e))?;
    let raw = id_token.to_string();
    let credential = Credential::Bearer(raw.clone().into());
    let identity = who_am_i(
        state.clusters.default_cluster(),
        &credential,
        AuthMode::Oidc,
    )
    .await
    .map_err(|e| {
        if e.kind == webshell_protocol::ErrorKind::Unauthorized {
            AppError::unauthorized(
                "you signed in, but the Kubernetes API does not accept this provider's \
                     id-token; its OIDC settings must trust the same issuer and client id",
            )
        } else {
            e
        }
    })?;
    let sign_in = state.auth.sign_in(
        &identity,
        Some(raw),
        response.refresh_token().map(|t| t.secret().clone()),
        Some(claims.expiration().timestamp()),
    );
    let cookie = state.auth.seal(&sign_in)?;
    tracing::info!(user = %identity.user, "signed in with OIDC");
    Ok((cookie, flow.return_to))
}

/// Only a path on this site: anything else (another host, `//host`, a backslash trick)
/// returns to the start page.
fn safe_return_path(path: Option<&str>) -> String {
    match path {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_owned(),
        _ => "/".to_owned(),
    }
}

fn failure_page(e: &AppError) -> Response {
    let escaped = e
        .message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let page = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Sign-in failed — webshell</title>\
         <h1>Sign-in failed</h1><p data-testid=\"sign-in-error\">{escaped}</p>\
         <p><a href=\"{OIDC_LOGIN_PATH}\">Sign in again</a></p></html>"
    );
    (e.status(), Html(page)).into_response()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_returned_to() {
        assert_eq!(safe_return_path(Some("/t/demo/web/app")), "/t/demo/web/app");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "t/x",
        ] {
            assert_eq!(safe_return_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_return_path(None), "/");
    }

    #[test]
    fn the_failure_page_escapes_the_message() {
        let response = failure_page(&AppError::unauthorized("<script>x</script>"));
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}
