//! Who is calling, and with whose Kubernetes identity their requests run (`--auth`).
//!
//! | mode | a person proves | Kubernetes calls run as | the browser holds |
//! |------|-----------------|-------------------------|-------------------|
//! | [`local`] | the secret printed at start | the server's kubeconfig identity | a sealed cookie |
//! | [`token`] | their own bearer token | that token | a sealed cookie (or the host app sends the token) |
//! | [`oidc`] | a sign-in at the cluster's OpenID Connect provider | their id-token, refreshed | a sealed cookie |
//! | [`proxy`] | a sign-in at the authenticating proxy in front | the server, impersonating them | the proxy's cookie |
//!
//! [`require_sign_in`] runs before every API route: it resolves the [`Caller`] or refuses with
//! a 401 (sign in) or 403, and writes an audit line for each refusal. Handlers take the
//! [`Caller`] as an extractor.

pub mod cookie;
pub mod local;
pub mod oidc;
pub mod proxy;
pub mod token;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::Api;
use kube::api::PostParams;
use webshell_protocol::ErrorKind;
use webshell_protocol::rest::{self, AuthInfo, AuthMode};

use crate::audit::Actor;
use crate::clusters::Cluster;
use crate::error::AppError;
use crate::state::AppState;
use crate::upstream::{Credential, Upstream};
use cookie::{Sealer, SignIn};

/// Who a caller is, as the Kubernetes API sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Kubernetes user name.
    pub user: String,
    /// Kubernetes groups.
    pub groups: Vec<String>,
    /// How they signed in.
    pub mode: AuthMode,
    /// When their sign-in ends (Unix seconds), if it does.
    pub expires_at: Option<i64>,
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who.
    pub identity: Identity,
    /// How their Kubernetes calls authenticate.
    pub credential: Credential,
    /// The client's address.
    pub source: IpAddr,
}

impl Caller {
    /// The caller as audit lines name them.
    pub fn actor(&self) -> Actor {
        Actor {
            user: Some(self.identity.user.clone()),
            groups: self.identity.groups.clone(),
            auth_mode: self.identity.mode,
            source: self.source,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // `require_sign_in` puts it there; a route without that layer has no caller.
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| AppError::unauthorized("sign in to use webshell"))
    }
}

/// How the configured mode signs people in.
pub enum AuthSettings {
    /// The server's identity, behind the launch secret (`None`: a random one).
    Local {
        /// The secret the printed URL carries.
        secret: Option<String>,
    },
    /// Each person's own bearer token.
    Token,
    /// Each person's sign-in at an OpenID Connect provider.
    Oidc(oidc::OidcSettings),
    /// Each person named by an authenticating proxy.
    Proxy(proxy::ProxySettings),
}

impl AuthSettings {
    /// The mode these settings configure.
    pub fn mode(&self) -> AuthMode {
        match self {
            AuthSettings::Local { .. } => AuthMode::Local,
            AuthSettings::Token => AuthMode::Token,
            AuthSettings::Oidc(_) => AuthMode::Oidc,
            AuthSettings::Proxy(_) => AuthMode::Proxy,
        }
    }
}

/// The configured sign-in, fixed at start-up.
pub struct Auth {
    mode: AuthMode,
    sealer: Sealer,
    ttl: Duration,
    local: Option<local::Local>,
    oidc: Option<oidc::Oidc>,
    proxy: Option<proxy::Proxy>,
}

impl Auth {
    /// Sets up `settings`. `session_key` seals cookies (random when `None`: sign-ins then end
    /// with the process and do not cross replicas); `secure` marks them `Secure`; `ttl` is the
    /// longest a sign-in lasts; `server` is the server's own identity (for `local`).
    pub async fn new(
        settings: AuthSettings,
        session_key: Option<&[u8]>,
        secure: bool,
        ttl: Duration,
        server: Option<Identity>,
    ) -> Result<Auth, String> {
        let mode = settings.mode();
        let (mut local, mut oidc, mut proxy) = (None, None, None);
        match settings {
            AuthSettings::Local { secret } => local = Some(local::Local::new(secret, server)),
            AuthSettings::Token => {}
            AuthSettings::Oidc(s) => oidc = Some(oidc::Oidc::discover(s).await?),
            AuthSettings::Proxy(s) => proxy = Some(proxy::Proxy::new(s)),
        }
        Ok(Auth {
            mode,
            sealer: Sealer::new(session_key, secure),
            ttl,
            local,
            oidc,
            proxy,
        })
    }

    /// The mode.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// The `local` mode's launch secret, to print in the start-up URL.
    pub fn launch_secret(&self) -> Option<&str> {
        self.local.as_ref().map(local::Local::secret)
    }

    /// What the UI needs to sign a person in.
    pub fn info(&self) -> AuthInfo {
        let (sign_in_url, sign_out_url) = match (&self.mode, &self.proxy) {
            (AuthMode::Oidc, _) => (Some(rest::OIDC_LOGIN_PATH.to_owned()), None),
            (AuthMode::Proxy, Some(p)) => (p.sign_in_url(), p.sign_out_url()),
            _ => (None, None),
        };
        AuthInfo {
            mode: self.mode,
            sign_in_url,
            sign_out_url,
        }
    }

    /// Resolves the caller of a request, or refuses it. A second value is a refreshed session
    /// cookie to send back (OIDC tokens refreshed before they expired).
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        source: IpAddr,
        upstream: &Upstream,
    ) -> Result<(Caller, Option<HeaderValue>), AppError> {
        if let Some(proxy) = &self.proxy {
            return proxy.identify(headers, source).map(|caller| (caller, None));
        }
        if self.mode == AuthMode::Token
            && let Some(token) = token::presented_bearer(headers)
        {
            // A host app that embeds the terminal may send the person's token itself.
            let identity = who_am_i(upstream, &token, AuthMode::Token).await?;
            return Ok((
                Caller {
                    identity,
                    credential: token,
                    source,
                },
                None,
            ));
        }
        let name = self.sealer.session_cookie();
        let Some(sign_in) = self.sealer.open::<SignIn>(headers, name) else {
            return Err(AppError::unauthorized(
                if self.sealer.present(headers, name) {
                    "your sign-in is no longer valid (the server's session key changed); sign in again"
                } else {
                    match self.mode {
                        AuthMode::Local => {
                            "open the URL the webshell server printed when it started \
                         (it carries a one-time secret)"
                        }
                        _ => "sign in to use webshell",
                    }
                },
            ));
        };
        if sign_in.mode != self.mode {
            return Err(AppError::unauthorized(
                "you signed in to a different kind of server; sign in again",
            ));
        }
        let now = unix_now();
        if sign_in.expires_at <= now {
            return Err(AppError::unauthorized(
                "your sign-in expired; sign in again",
            ));
        }
        let (sign_in, refreshed) = match &self.oidc {
            Some(oidc) if oidc.needs_refresh(&sign_in, now) => {
                let fresh = oidc.refresh(&sign_in).await?;
                let cookie = self.seal(&fresh)?;
                (fresh, Some(cookie))
            }
            _ => (sign_in, None),
        };
        if sign_in.token_expires_at.is_some_and(|t| t <= now) {
            return Err(AppError::unauthorized("your token expired; sign in again"));
        }
        let credential = match (&sign_in.token, self.mode) {
            (_, AuthMode::Local) => Credential::Server,
            (Some(token), _) => Credential::Bearer(token.clone().into()),
            (None, _) => return Err(AppError::unauthorized("sign in to use webshell")),
        };
        Ok((
            Caller {
                identity: Identity {
                    user: sign_in.user,
                    groups: sign_in.groups,
                    mode: self.mode,
                    expires_at: Some(sign_in.expires_at),
                },
                credential,
                source,
            },
            refreshed,
        ))
    }

    /// A session cookie for `sign_in`.
    fn seal(&self, sign_in: &SignIn) -> Result<HeaderValue, AppError> {
        self.sealer.seal(
            self.sealer.session_cookie(),
            sign_in,
            ::cookie::SameSite::Strict,
            "/",
        )
    }

    /// A sign-in of `identity` holding `token`, lasting at most the configured TTL.
    fn sign_in(
        &self,
        identity: &Identity,
        token: Option<String>,
        refresh_token: Option<String>,
        token_expires_at: Option<i64>,
    ) -> SignIn {
        SignIn {
            mode: self.mode,
            user: identity.user.clone(),
            groups: identity.groups.clone(),
            token,
            refresh_token,
            token_expires_at,
            expires_at: unix_now() + self.ttl.as_secs() as i64,
        }
    }

    /// The cookie that signs out.
    fn sign_out_cookie(&self) -> HeaderValue {
        self.sealer.clear(
            self.sealer.session_cookie(),
            ::cookie::SameSite::Strict,
            "/",
        )
    }
}

/// Asks the API server who the holder of `credential` is (`SelfSubjectReview`): the name and
/// groups RBAC and the API server's audit log will see.
pub async fn who_am_i(
    upstream: &Upstream,
    credential: &Credential,
    mode: AuthMode,
) -> Result<Identity, AppError> {
    let client = upstream.client(credential)?;
    let review = Api::<SelfSubjectReview>::all(client)
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .map_err(|e| match crate::error::classify(&e) {
            e if e.kind == ErrorKind::Unauthorized => {
                AppError::unauthorized("the Kubernetes API did not accept these credentials")
            }
            e => e,
        })?;
    let info = review.status.and_then(|s| s.user_info).unwrap_or_default();
    Ok(Identity {
        user: info.username.unwrap_or_default(),
        groups: info.groups.unwrap_or_default(),
        mode,
        expires_at: None,
    })
}

/// Says loudly when sign-ins would cross plain HTTP beyond loopback: the cookie then carries
/// a person's Kubernetes credential (sealed, but replayable) in the clear.
pub fn warn_if_plain_http(state: &AppState, listen: SocketAddr) {
    let carries_credentials = matches!(state.auth.mode, AuthMode::Token | AuthMode::Oidc);
    if carries_credentials && !listen.ip().is_loopback() && !state.site.is_https() {
        let warning = "sign-in cookies will cross plain HTTP beyond loopback: serve TLS \
                       (--tls-cert/--tls-key) or put an HTTPS --public-url in front";
        tracing::warn!("{warning}");
        eprintln!("webshell: WARNING: {warning}");
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The client's address, as an extractor.
#[derive(Debug, Clone, Copy)]
pub struct Source(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Source(source_of_parts(&parts.extensions)))
    }
}

/// The client address of a request's parts (see [`source_of`]).
pub fn source_of_parts(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// The client address axum recorded for the connection, if any.
pub fn source_of(request: &Request) -> IpAddr {
    source_of_parts(request.extensions())
}

/// Middleware on the API routes: resolves the caller or refuses.
pub async fn require_sign_in(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let source = source_of(&request);
    match state
        .auth
        .authenticate(request.headers(), source, state.clusters.default_cluster())
        .await
    {
        Ok((caller, refreshed)) => {
            request.extensions_mut().insert(caller);
            let mut response = next.run(request).await;
            if let Some(cookie) = refreshed {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => {
            let cause = match (error.kind, state.auth.mode) {
                (ErrorKind::Forbidden, AuthMode::Proxy) => "proxy-headers",
                (ErrorKind::Forbidden, _) => "forbidden",
                _ => "auth",
            };
            let actor = Actor::anonymous(state.auth.mode, source);
            state.audit.refused_request(cause, &error, &actor, &request);
            crate::terminal::refuse(request, error).await
        }
    }
}

/// `GET /api/auth`: how this server signs people in (no sign-in needed).
pub async fn info(State(state): State<AppState>) -> Json<AuthInfo> {
    Json(state.auth.info())
}

/// `GET /api/whoami`: the signed-in caller, as the cluster knows them. In `local` mode each
/// cluster is reached with its own context's identity, so that is asked for (and the one
/// found at start answers if the cluster cannot).
pub async fn whoami(Cluster(cluster): Cluster, caller: Caller) -> Json<rest::Identity> {
    let identity = match caller.credential {
        Credential::Server => who_am_i(&cluster, &Credential::Server, AuthMode::Local)
            .await
            .unwrap_or(caller.identity),
        _ => caller.identity,
    };
    Json(rest::Identity {
        user: identity.user,
        groups: identity.groups,
        mode: identity.mode,
        expires_at: identity.expires_at,
    })
}

/// `POST /api/auth/sign-out`: forgets the sign-in in this browser.
pub async fn sign_out(State(state): State<AppState>) -> Response {
    (
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, state.auth.sign_out_cookie())],
    )
        .into_response()
}
