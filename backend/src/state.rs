//! What every handler shares, and how it is built from settings.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use webshell_protocol::rest::AuthMode;

use crate::audit::{Audit, AuditSink};
use crate::auth::{Auth, AuthSettings, Identity, who_am_i};
use crate::clusters::Clusters;
use crate::lifecycle::Lifecycle;
use crate::limits::{Limiter, SessionLimits};
use crate::metrics::Metrics;
use crate::ops::Readiness;
use crate::session::SessionConfig;
use crate::site::Site;
use crate::terminal::{KubeLaunchers, Launchers};
use crate::upstream::{ClusterConfig, Credential, ServerIdentity, Upstream};
use crate::web_headers::WebHeaders;

/// Everything the server is configured with; `main` fills it from flags, tests directly.
pub struct Settings {
    /// The address the server listens on.
    pub listen: SocketAddr,
    /// Whether it serves TLS itself.
    pub tls: bool,
    /// URLs browsers use to reach it (`--public-url`).
    pub public_urls: Vec<String>,
    /// Other origins allowed to call it (`--allowed-origin`).
    pub allowed_origins: Vec<String>,
    /// Pages allowed to frame the SPA (`--frame-ancestors`).
    pub frame_ancestors: Vec<String>,
    /// The clusters to offer, the default first (never empty).
    pub kube: Vec<ClusterConfig>,
    /// Response-header timeout (and connect timeout) of every Kubernetes call.
    pub apiserver_timeout: Duration,
    /// How people sign in.
    pub auth: AuthSettings,
    /// The key sealing session cookies (at least 32 bytes), or `None` for a random one.
    pub session_key: Option<String>,
    /// The longest a sign-in lasts.
    pub session_ttl: Duration,
    /// Session limits.
    pub limits: SessionLimits,
    /// Session timing.
    pub session: SessionConfig,
    /// Where audit lines go.
    pub audit: AuditSink,
    /// Makes each session's process; `None` for the pod `exec` (tests set fakes).
    pub launchers: Option<Arc<dyn Launchers>>,
    /// The image of ephemeral debug containers, unless a person names another.
    pub debug_image: String,
}

impl Settings {
    /// Settings for a loopback server in `local` mode with defaults everywhere else; tests
    /// change what they exercise.
    pub fn local(listen: SocketAddr, kube: (kube::Config, String)) -> Settings {
        Settings {
            listen,
            tls: false,
            public_urls: Vec::new(),
            allowed_origins: Vec::new(),
            frame_ancestors: Vec::new(),
            kube: vec![kube.into()],
            apiserver_timeout: Duration::from_secs(15),
            auth: AuthSettings::Local { secret: None },
            session_key: None,
            session_ttl: Duration::from_secs(12 * 3600),
            limits: SessionLimits::default(),
            session: SessionConfig::default(),
            audit: AuditSink::Off,
            launchers: None,
            debug_image: crate::debug::DEFAULT_DEBUG_IMAGE.to_owned(),
        }
    }
}

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState {
    /// The names and origins this server answers to.
    pub site: Arc<Site>,
    /// How callers are identified.
    pub auth: Arc<Auth>,
    /// The Kubernetes clusters, each with its API server.
    pub clusters: Arc<Clusters>,
    /// Session limits.
    pub limits: Arc<Limiter>,
    /// The audit log.
    pub audit: Audit,
    /// Session timing.
    pub session: SessionConfig,
    /// Security headers.
    pub web_headers: Arc<WebHeaders>,
    /// Makes the process of each terminal session (the pod `exec`; tests swap in fakes).
    pub launchers: Arc<dyn Launchers>,
    /// What `/metrics` reports.
    pub metrics: Arc<Metrics>,
    /// Serving or draining, and the running sessions.
    pub lifecycle: Arc<Lifecycle>,
    /// The last API server check of `/readyz`.
    pub readiness: Arc<Readiness>,
    /// The image of ephemeral debug containers, unless a person names another.
    pub debug_image: Arc<str>,
}

impl AppState {
    /// Builds the state; every error is one line for a person (a misconfiguration).
    pub async fn build(settings: Settings) -> Result<AppState, String> {
        let mode = settings.auth.mode();
        if mode == AuthMode::Local && !settings.listen.ip().is_loopback() {
            return Err(format!(
                "--auth local serves the server's own Kubernetes identity and only listens on \
                 loopback, not {}; choose --auth token, oidc or proxy",
                settings.listen
            ));
        }
        let site = Site::new(
            settings.listen,
            settings.tls,
            &settings.public_urls,
            &settings.allowed_origins,
        )?;
        let identity = match mode {
            AuthMode::Local | AuthMode::Proxy => ServerIdentity::Keep,
            AuthMode::Token | AuthMode::Oidc => ServerIdentity::Drop,
        };
        let metrics = Arc::new(Metrics::new());
        let mut upstreams = Vec::with_capacity(settings.kube.len());
        for cluster in settings.kube {
            let upstream = Upstream::new(
                cluster.config,
                cluster.name.clone(),
                identity,
                settings.apiserver_timeout,
            )
            .map_err(|e| format!("context {:?}: {e}", cluster.name))?
            .with_metrics(metrics.clone());
            upstreams.push((upstream, cluster.namespace));
        }
        let clusters = Clusters::new(upstreams).ok_or("no cluster to offer")?;
        let upstream = clusters.default_cluster();
        // Who `local` mode acts as, for the audit log; best effort, the API may be down.
        let server = match mode {
            AuthMode::Local => who_am_i(upstream, &Credential::Server, AuthMode::Local)
                .await
                .inspect_err(
                    |e| tracing::warn!(error = %e, "cannot tell the server's own identity"),
                )
                .ok()
                .map(|i| Identity { user: i.user, ..i }),
            _ => None,
        };
        let secure = settings.tls || site.is_https();
        let auth = Auth::new(
            settings.auth,
            settings.session_key.as_deref().map(str::as_bytes),
            secure,
            settings.session_ttl,
            server,
        )
        .await?;
        let audit = Audit::open(&settings.audit, metrics.clone())
            .map_err(|e| format!("--audit-log: {e}"))?;
        Ok(AppState {
            site: Arc::new(site),
            auth: Arc::new(auth),
            clusters: Arc::new(clusters),
            limits: Limiter::new(settings.limits),
            audit,
            session: settings.session,
            web_headers: Arc::new(WebHeaders::new(&settings.frame_ancestors)?),
            launchers: settings
                .launchers
                .unwrap_or_else(|| Arc::new(KubeLaunchers)),
            metrics,
            lifecycle: Arc::new(Lifecycle::new()),
            readiness: Arc::default(),
            debug_image: settings.debug_image.into(),
        })
    }
}
