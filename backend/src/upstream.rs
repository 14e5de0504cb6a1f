//! The Kubernetes API server, as each caller reaches it.
//!
//! Every Kubernetes call of a request or a session is made with the caller's own
//! [`Credential`]: their bearer token (`token`, `oidc`), the server's identity impersonating
//! them (`proxy`), or the server's identity itself (`local`). One connection pool serves them
//! all, since HTTP authenticates each request on its own; only the headers differ. That is why
//! this builds kube-rs clients from a shared `hyper` pool rather than one `kube::Config` per
//! person, which would mean a TLS handshake for every REST call.
//!
//! Two rules keep identities apart:
//! - in `token` and `oidc` modes the pool carries no identity of the server's: no client
//!   certificate (the API server would pick the certificate over the person's token) and no
//!   token;
//! - the server's own token (kubeconfig, exec plugin, or the in-cluster service account,
//!   re-read as it rotates) is added only for [`Credential::Server`] and
//!   [`Credential::Impersonate`].
//!
//! Every call must get its response headers within the configured timeout: a stalled API
//! server costs the person seconds, not a hang. Streams that follow (exec, logs) are not cut.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Request, Response, header};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube::client::middleware::AuthLayer;
use kube::client::{Body, ConfigExt};
use secrecy::{ExposeSecret, SecretString};
use tower::util::BoxCloneSyncService;
use tower::{BoxError, Layer, ServiceBuilder, ServiceExt};

use crate::error::AppError;
use crate::metrics::Metrics;

/// How one caller's requests authenticate to the API server.
#[derive(Clone)]
pub enum Credential {
    /// The server's own identity (`--auth local`).
    Server,
    /// The caller's own bearer token (`--auth token` and `--auth oidc`).
    Bearer(SecretString),
    /// The server's identity, impersonating a user and their groups (`--auth proxy`).
    Impersonate {
        /// `Impersonate-User`.
        user: String,
        /// `Impersonate-Group`, one header each.
        groups: Vec<String>,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Server => f.write_str("Server"),
            Credential::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Credential::Impersonate { user, groups } => f
                .debug_struct("Impersonate")
                .field("user", user)
                .field("groups", groups)
                .finish(),
        }
    }
}

/// Whether the pool may carry the server's own identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerIdentity {
    /// `local` and `proxy`: calls are made as the server (or on its authority).
    Keep,
    /// `token` and `oidc`: calls carry only the person's token.
    Drop,
}

/// Why the API server's configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The kubeconfig or in-cluster configuration could not be loaded.
    #[error("loading the Kubernetes configuration: {0}")]
    Config(String),
    /// TLS or authentication settings are unusable.
    #[error("setting up the connection to the Kubernetes API: {0}")]
    Client(#[source] kube::Error),
}

type Pool = BoxCloneSyncService<Request<Body>, Response<Incoming>, BoxError>;

/// The kernel receive buffer of connections to the API server.
const UPSTREAM_RECV_BUFFER: usize = 64 * 1024;

/// Idle connections kept to the API server.
const POOL_IDLE: usize = 8;

/// The API server and the connection pool every caller's client shares.
#[derive(Clone)]
pub struct Upstream {
    cluster_url: axum::http::Uri,
    default_namespace: String,
    /// Names the cluster in audit lines: the kubeconfig context, or `in-cluster`.
    context: String,
    pool: Pool,
    server_auth: Option<Arc<AuthLayer>>,
    identity: ServerIdentity,
    timeout: Duration,
    /// The server's own client, made once: every call with [`Credential::Server`] shares it.
    server_client: Arc<std::sync::OnceLock<kube::Client>>,
    /// Where call latencies are recorded.
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("cluster_url", &self.cluster_url)
            .field("context", &self.context)
            .field("identity", &self.identity)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Upstream {
    /// The API server of `config`, with or without the server's identity, answering within
    /// `timeout` (connect and response headers).
    pub fn new(
        mut config: kube::Config,
        context: String,
        identity: ServerIdentity,
        timeout: Duration,
    ) -> Result<Upstream, UpstreamError> {
        let server_auth = match identity {
            ServerIdentity::Keep => config.auth_layer().map_err(UpstreamError::Client)?,
            ServerIdentity::Drop => {
                config.auth_info = Default::default();
                None
            }
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        // Keystrokes are single bytes: no Nagle delay on the way to the API server either.
        http.set_nodelay(true);
        // A small receive window on these sockets: output the browser has not taken yet waits
        // upstream, not in megabytes of kernel buffer that a Ctrl-C would have to wait behind.
        http.set_recv_buffer_size(Some(UPSTREAM_RECV_BUFFER));
        let https = config
            .rustls_https_connector_with_connector(http)
            .map_err(UpstreamError::Client)?;
        // A burst of session starts opens many connections at once; keep a few for reuse, not
        // all of them (each holds TLS state and buffers).
        let client: hyper_util::client::legacy::Client<_, Body> =
            hyper_util::client::legacy::Builder::new(TokioExecutor::new())
                .pool_max_idle_per_host(POOL_IDLE)
                .pool_idle_timeout(Duration::from_secs(30))
                .build(https);
        let pool = ServiceBuilder::new()
            .layer(config.base_uri_layer())
            .layer(
                config
                    .extra_headers_layer()
                    .map_err(UpstreamError::Client)?,
            )
            .service(client)
            .map_err(BoxError::from);
        Ok(Upstream {
            cluster_url: config.cluster_url.clone(),
            default_namespace: config.default_namespace.clone(),
            context,
            pool: BoxCloneSyncService::new(pool),
            server_auth: server_auth.map(Arc::new),
            identity,
            timeout,
            server_client: Arc::default(),
            metrics: Arc::default(),
        })
    }

    /// Records call latencies in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Upstream {
        self.metrics = metrics;
        self
    }

    /// Whether the API server answers: `/readyz` with no credential (the default
    /// `system:public-info-viewer` role allows it). Any answer below 500, even a refusal of
    /// anonymous calls, means it is reachable; no answer within the timeout means it is not.
    pub async fn reachable(&self) -> Result<(), String> {
        let request = Request::get("/readyz")
            .body(Body::empty())
            .map_err(|e| e.to_string())?;
        let call = self.pool.clone().oneshot(request);
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(response)) if response.status().as_u16() < 500 => Ok(()),
            Ok(Ok(response)) => Err(format!("the API server answered {}", response.status())),
            Ok(Err(e)) => Err(format!("the API server is unreachable: {e}")),
            Err(_) => Err(format!(
                "the API server did not answer within {}",
                humantime::format_duration(self.timeout)
            )),
        }
    }

    /// The context name for audit lines.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The response-header timeout of every call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A client acting with `credential`. Fails for a credential this pool must not carry,
    /// or a name that cannot be a header value.
    pub fn client(&self, credential: &Credential) -> Result<kube::Client, AppError> {
        if matches!(credential, Credential::Server) && self.identity == ServerIdentity::Keep {
            if let Some(client) = self.server_client.get() {
                return Ok(client.clone());
            }
            let client = self.build_client(credential)?;
            return Ok(self.server_client.get_or_init(|| client).clone());
        }
        self.build_client(credential)
    }

    fn build_client(&self, credential: &Credential) -> Result<kube::Client, AppError> {
        let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
        let server_auth = match (credential, self.identity) {
            (Credential::Server, ServerIdentity::Keep) => self.server_auth.clone(),
            (Credential::Bearer(token), ServerIdentity::Drop) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                    .map_err(|_| AppError::unauthorized("the token is not a valid bearer token"))?;
                value.set_sensitive(true);
                headers.push((header::AUTHORIZATION, value));
                None
            }
            (Credential::Impersonate { user, groups }, ServerIdentity::Keep) => {
                let value = |name: &str| {
                    HeaderValue::from_str(name).map_err(|_| {
                        AppError::bad_request(format!(
                            "the identity {name:?} cannot be sent to Kubernetes"
                        ))
                    })
                };
                headers.push((HeaderName::from_static("impersonate-user"), value(user)?));
                for group in groups {
                    headers.push((HeaderName::from_static("impersonate-group"), value(group)?));
                }
                self.server_auth.clone()
            }
            (credential, identity) => {
                // A wiring error, not a caller's: never let one mode's credential reach
                // another mode's pool.
                tracing::error!(
                    ?credential,
                    ?identity,
                    "credential does not fit this server"
                );
                return Err(AppError::new(
                    webshell_protocol::ErrorKind::Other,
                    "internal error: credential does not fit this server",
                ));
            }
        };
        let headers = Arc::new(headers);
        let with_headers = ServiceBuilder::new()
            .timeout(self.timeout)
            .map_request(move |mut request: Request<Body>| {
                for (name, value) in headers.iter() {
                    request.headers_mut().append(name.clone(), value.clone());
                }
                request
            })
            .service(self.pool.clone());
        let with_headers = timed(with_headers, self.metrics.clone());
        Ok(match server_auth {
            Some(auth) => kube::Client::new(
                auth.layer(with_headers).map_err(BoxError::from),
                self.default_namespace.clone(),
            ),
            None => kube::Client::new(with_headers, self.default_namespace.clone()),
        })
    }
}

/// Times each call to its response headers (including timeouts and connection failures) into
/// the metrics.
fn timed<S>(
    inner: S,
    metrics: Arc<Metrics>,
) -> BoxCloneSyncService<Request<Body>, Response<Incoming>, BoxError>
where
    S: tower::Service<Request<Body>, Response = Response<Incoming>, Error = BoxError>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    BoxCloneSyncService::new(tower::service_fn(move |request: Request<Body>| {
        let inner = inner.clone();
        let metrics = metrics.clone();
        async move {
            let method = request.method().clone();
            let started = std::time::Instant::now();
            let result = inner.oneshot(request).await;
            let status = result.as_ref().ok().map(|r| r.status().as_u16());
            metrics.apiserver_call(&method, status, started.elapsed());
            result
        }
    }))
}

/// The name of the cluster a pod's own service account reaches.
pub const IN_CLUSTER: &str = "in-cluster";

/// One cluster to offer: a kubeconfig context, or the pod's own service account.
pub struct ClusterConfig {
    /// Its name in URLs and audit lines: the context's name, or [`IN_CLUSTER`].
    pub name: String,
    /// How to reach it, and as whom.
    pub config: kube::Config,
    /// The namespace the context names, if it names one: the one the UI shows first.
    pub namespace: Option<String>,
}

impl From<(kube::Config, String)> for ClusterConfig {
    fn from((config, name): (kube::Config, String)) -> ClusterConfig {
        ClusterConfig {
            name,
            config,
            namespace: None,
        }
    }
}

/// Which kubeconfig contexts to offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextChoice {
    /// These, the first being the default (`--context a,b`); [`IN_CLUSTER`] names the pod's
    /// own service account.
    Named(Vec<String>),
    /// The current context, or the in-cluster account without a kubeconfig.
    Current,
    /// Every context, the current one first, then the in-cluster account when there is one.
    All,
}

/// Loads the clusters to offer, the default first, from an explicit kubeconfig or the usual
/// places (`$KUBECONFIG`, `~/.kube/config`) and the in-cluster service account.
///
/// A context named explicitly (or the current one) that cannot be loaded is an error; with
/// [`ContextChoice::All`], another context that cannot be loaded (a certificate file gone,
/// say) is skipped with a warning, so one stale entry does not keep the server from starting.
pub async fn load_clusters(
    kubeconfig: Option<&std::path::Path>,
    choice: &ContextChoice,
) -> Result<Vec<ClusterConfig>, UpstreamError> {
    use kube::config::{Config, KubeConfigOptions, Kubeconfig};
    let in_cluster = Config::incluster().ok();
    let file = match kubeconfig {
        Some(path) => Some(
            Kubeconfig::read_from(path)
                .map_err(|e| UpstreamError::Config(format!("{}: {e}", path.display())))?,
        ),
        None => match Kubeconfig::read() {
            Ok(file) => Some(file),
            // Inside a pod with no kubeconfig: its own service account is the cluster.
            Err(_) if in_cluster.is_some() => None,
            Err(e) => return Err(UpstreamError::Config(e.to_string())),
        },
    };
    let contexts: Vec<&str> = file
        .iter()
        .flat_map(|f| f.contexts.iter().map(|c| c.name.as_str()))
        .collect();
    let current = file.as_ref().and_then(|f| f.current_context.clone());
    let has_in_cluster = in_cluster.is_some() && !contexts.contains(&IN_CLUSTER);
    let mut known: Vec<&str> = contexts.clone();
    if has_in_cluster {
        known.push(IN_CLUSTER);
    }
    let (wanted, required): (Vec<String>, usize) = match choice {
        ContextChoice::Named(names) => (names.clone(), names.len()),
        ContextChoice::Current | ContextChoice::All => {
            let first = current
                .clone()
                .filter(|c| !c.is_empty())
                .or_else(|| has_in_cluster.then(|| IN_CLUSTER.to_owned()))
                .ok_or_else(|| {
                    UpstreamError::Config(
                        "the kubeconfig names no current context; choose one with --context".into(),
                    )
                })?;
            let mut wanted = vec![first];
            if *choice == ContextChoice::All {
                for name in &known {
                    if !wanted.iter().any(|w| w == name) {
                        wanted.push((*name).to_owned());
                    }
                }
            }
            (wanted, 1)
        }
    };
    let mut clusters = Vec::with_capacity(wanted.len());
    for (i, name) in wanted.into_iter().enumerate() {
        if !known.contains(&name.as_str()) {
            let place = kubeconfig.map_or("the kubeconfig".to_owned(), |p| p.display().to_string());
            return Err(UpstreamError::Config(format!(
                "{place} has no context {name:?}; it has: {}",
                known.join(", ")
            )));
        }
        let loaded = match (&file, &in_cluster) {
            (_, Some(config)) if name == IN_CLUSTER && has_in_cluster => Ok((config.clone(), None)),
            (Some(file), _) => {
                let namespace = file
                    .contexts
                    .iter()
                    .find(|c| c.name == name)
                    .and_then(|c| c.context.as_ref()?.namespace.clone());
                let options = KubeConfigOptions {
                    context: Some(name.clone()),
                    ..Default::default()
                };
                Config::from_custom_kubeconfig(file.clone(), &options)
                    .await
                    .map(|config| (config, namespace))
                    .map_err(|e| e.to_string())
            }
            (None, _) => Err("no kubeconfig".to_owned()),
        };
        match loaded {
            Ok((config, namespace)) => clusters.push(ClusterConfig {
                name,
                config,
                namespace,
            }),
            Err(e) if i < required => {
                return Err(UpstreamError::Config(format!("context {name:?}: {e}")));
            }
            Err(e) => {
                tracing::warn!(context = %name, error = %e, "skipping a context that cannot be loaded")
            }
        }
    }
    Ok(clusters)
}
