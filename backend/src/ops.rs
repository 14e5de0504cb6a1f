//! Endpoints for the orchestrator and the monitoring system: `/healthz` (the process is
//! alive), `/readyz` (it can serve: the API server answers and no shutdown started) and
//! `/metrics` (Prometheus).
//!
//! The probes answer on the main listener too (exempt from the Host check, see
//! [`crate::site::PROBE_PATHS`]); `/metrics` only on the operations listener (`--ops-listen`),
//! which a Service for people never exposes. That listener has no Host or Origin check: it
//! serves no person and no page, only counts.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::Mutex;

use crate::metrics::CONTENT_TYPE;
use crate::state::AppState;

/// How long a readiness answer is reused: probes from several kubelets and a curious person
/// cost the API server at most one call per second.
const READINESS_TTL: Duration = Duration::from_secs(1);

/// The last answer of the API server check, shared by concurrent probes.
#[derive(Debug, Default)]
pub struct Readiness {
    last: Mutex<Option<(Instant, Result<(), String>)>>,
}

/// The operations listener's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// `GET /healthz`: the process runs and answers.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: 200 while serving with a reachable API server; 503 with the reason while
/// shutting down or while the API server does not answer.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.lifecycle.is_draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    // Held across the check, so concurrent probes wait for one call instead of each making one.
    let mut last = state.readiness.last.lock().await;
    let answer = match &*last {
        Some((at, answer)) if at.elapsed() < READINESS_TTL => answer.clone(),
        _ => {
            let answer = state.clusters.default_cluster().reachable().await;
            if let Err(why) = &answer {
                tracing::warn!(%why, "not ready");
            }
            *last = Some((Instant::now(), answer.clone()));
            answer
        }
    };
    match answer {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response(),
    }
}

/// `GET /metrics`: every metric, OpenMetrics text.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}
