//! The one error type at the HTTP boundary: Kubernetes errors mapped to proper statuses, with
//! a short message for the person and the details in the log.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tracing::warn;
use webshell_protocol::rest::ApiError;

/// An error answered to a REST caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable reason.
    pub reason: &'static str,
    /// For a person.
    pub message: String,
}

impl AppError {
    /// A 400 for input that names no valid object.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            reason: "BadRequest",
            message: message.into(),
        }
    }

    /// A 404 with the given message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            reason: "NotFound",
            message: message.into(),
        }
    }

    /// A 401 for a request without valid credentials.
    pub fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            reason: "Unauthorized",
            message: "a valid access token is required".into(),
        }
    }
}

impl From<kube::Error> for AppError {
    fn from(e: kube::Error) -> Self {
        classify(&e)
    }
}

/// Maps a kube-rs error: API statuses pass through (403 stays 403, 404 stays 404), and
/// anything that means "could not talk to the API server" becomes 502.
pub fn classify(e: &kube::Error) -> AppError {
    use kube::client::UpgradeConnectionError::ProtocolSwitch;
    let (code, message) = match e {
        kube::Error::Api(status) => (status.code, status.message.clone()),
        kube::Error::UpgradeConnection(ProtocolSwitch(code)) => (
            code.as_u16(),
            format!("the Kubernetes API refused the exec ({code})"),
        ),
        _ => (502, String::new()),
    };
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
    let (status, reason, message) = match status {
        StatusCode::NOT_FOUND => (status, "NotFound", message),
        StatusCode::FORBIDDEN => (status, "Forbidden", message),
        StatusCode::UNAUTHORIZED => (status, "Unauthorized", message),
        s if s.is_client_error() => (s, "BadRequest", message),
        _ => {
            warn!(error = %e, "Kubernetes API call failed");
            (
                StatusCode::BAD_GATEWAY,
                "Upstream",
                "the Kubernetes API server is unreachable or failed".to_string(),
            )
        }
    };
    AppError {
        status,
        reason,
        message,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ApiError {
            status: self.status.as_u16(),
            reason: self.reason.to_string(),
            message: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}
