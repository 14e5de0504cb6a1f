//! webshell: a browser terminal into Kubernetes pods.
//!
//! The server is thin: REST for what the UI lists ([`pods`]), one WebSocket per terminal
//! ([`terminal`]) whose life is owned by a [`session::Session`], bridged to the pod `exec`
//! subresource ([`exec`]), and the SPA embedded in the binary ([`assets`]). Every Kubernetes
//! call runs with the caller's own identity ([`auth`], [`upstream`]).

pub mod access;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod clusters;
pub mod config;
pub mod debug;
pub mod error;
pub mod lifecycle;
pub mod limits;
pub mod logs;
pub mod metrics;
pub mod names;
pub mod ops;
pub mod pods;
pub mod security;
pub mod serving;
pub mod session;
pub mod site;
pub mod state;
pub mod terminal;
pub mod upstream;
pub mod web_headers;

use std::future::Future;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{any, get, post};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use webshell_protocol::rest;

use crate::error::AppError;
pub use crate::state::{AppState, Settings};

/// Every route, in one place.
pub fn app(state: AppState) -> Router {
    // Routes that act for a signed-in person.
    let signed_in = Router::new()
        .route(rest::WHOAMI_PATH, get(auth::whoami))
        .route(rest::CLUSTERS_PATH, get(clusters::list))
        .route(rest::NAMESPACES_PATH, get(pods::namespaces))
        .route(rest::PODS_ROUTE, get(pods::pods))
        .route(rest::POD_EVENTS_ROUTE, get(pods::pod_events))
        .route(rest::ALL_PODS_PATH, get(pods::all_pods))
        .route(rest::ALL_POD_EVENTS_PATH, get(pods::all_pod_events))
        .route(rest::EXEC_ROUTE, get(terminal::exec))
        .route(rest::ATTACH_ROUTE, get(terminal::exec))
        .route(rest::LOG_ROUTE, get(logs::log))
        .route(rest::DEBUG_ROUTE, post(debug::start))
        .route(rest::SERVER_SETTINGS_PATH, get(debug::settings))
        .route_layer(from_fn_with_state(state.clone(), auth::require_sign_in));
    // Routes that sign people in and out.
    let sign_in = Router::new()
        .route(rest::AUTH_PATH, get(auth::info))
        .route(rest::TOKEN_SIGN_IN_PATH, post(auth::token::sign_in))
        .route(rest::SIGN_OUT_PATH, post(auth::sign_out))
        .route(rest::OIDC_LOGIN_PATH, get(auth::oidc::login))
        .route(rest::OIDC_CALLBACK_PATH, get(auth::oidc::callback));
    // The SPA: in `local` mode a visit with the launch secret trades it for the cookie. It is
    // sent compressed as the build compressed it (assets.rs); the API's JSON is not.
    let spa = get(assets::serve).layer::<_, std::convert::Infallible>(from_fn_with_state(
        state.clone(),
        auth::local::exchange_secret,
    ));
    let app = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .merge(signed_in)
        .merge(sign_in)
        .route(
            "/api/{*rest}",
            any(|| async { AppError::not_found("no such API endpoint") }),
        )
        .fallback_service(spa)
        .layer(from_fn_with_state(
            state.web_headers.clone(),
            web_headers::add,
        ))
        .layer(from_fn_with_state(state.clone(), site::guard))
        // Spans name the path only: a query may carry the launch secret.
        .layer(TraceLayer::new_for_http().make_span_with(
            |request: &axum::http::Request<axum::body::Body>| {
                tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
            },
        ))
        .with_state(state);
    // Outside the routes, so the rewrite of cluster-scoped paths happens before routing.
    Router::new()
        .fallback_service(app)
        .layer(axum::middleware::from_fn(clusters::scope))
}

/// Serves plain HTTP with default options until `shutdown` resolves; tests pass a listener
/// bound to port 0. See [`serving::serve_with`] for TLS and timeouts.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serving::serve_with(listener, state, shutdown, serving::ServeOptions::default()).await
}
