//! webshell: a browser terminal into Kubernetes pods.
//!
//! The server is thin: REST for what the UI lists ([`pods`]), one WebSocket per terminal
//! ([`terminal`]) whose life is owned by a [`session::Session`], bridged to the pod `exec`
//! subresource ([`exec`]), and the SPA embedded in the binary ([`assets`]).

pub mod assets;
pub mod error;
pub mod exec;
pub mod names;
pub mod pods;
pub mod security;
pub mod session;
pub mod shell;
pub mod site;
pub mod state;
pub mod terminal;

use std::future::Future;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::error::AppError;
pub use crate::state::AppState;

/// Every route, in one place.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/namespaces", get(pods::namespaces))
        .route("/namespaces/{namespace}/pods", get(pods::pods))
        .route(
            "/namespaces/{namespace}/pods/{pod}/containers/{container}/exec",
            get(terminal::exec),
        )
        .fallback(|| async { AppError::not_found("no such API endpoint") })
        .route_layer(from_fn_with_state(state.clone(), security::require_token));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .nest("/api", api)
        // The SPA is ~1 MB raw and ~0.3 MB gzipped; only it is compressed, not the API.
        .fallback_service(
            get(assets::serve).layer(tower_http::compression::CompressionLayer::new()),
        )
        .layer(from_fn_with_state(state.site.clone(), site::guard))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` resolves; tests pass a listener bound to port 0.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A kube client from an explicit kubeconfig and context, or the usual inference
/// (`$KUBECONFIG`, `~/.kube/config`, in-cluster service account).
pub async fn kube_client(
    kubeconfig: Option<&std::path::Path>,
    context: Option<String>,
) -> Result<kube::Client, kube::Error> {
    use kube::config::{Config, KubeConfigOptions, Kubeconfig};
    let options = KubeConfigOptions {
        context,
        ..Default::default()
    };
    let config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path).map_err(kube::Error::InferKubeconfig)?;
            Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(kube::Error::InferKubeconfig)?
        }
        None if options.context.is_some() => Config::from_kubeconfig(&options)
            .await
            .map_err(kube::Error::InferKubeconfig)?,
        None => Config::infer().await.map_err(kube::Error::InferConfig)?,
    };
    kube::Client::try_from(config)
}
