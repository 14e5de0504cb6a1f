//! The one error type of the server. Its [`ErrorKind`] (from `protocol`) decides everything a
//! caller sees: the HTTP status and `reason` of a REST answer, and the `Error` frame and close
//! code of a terminal session. The message is for a person; internals go to the log where the
//! error is made, never into the message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tracing::warn;
use webshell_protocol::ErrorKind;
use webshell_protocol::rest::ApiError;

/// An error answered to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// What failed; decides status, frame and close code.
    pub kind: ErrorKind,
    /// For a person. Never holds credentials or internal detail.
    pub message: String,
}

impl AppError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        AppError {
            kind,
            message: message.into(),
        }
    }

    /// A 400 for input that names no valid object.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    /// A 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// A 401: the caller must sign in (again); the message says why.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorized, message)
    }

    /// A 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    /// A 429: a limit was reached.
    pub fn too_many(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooMany, message)
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<kube::Error> for AppError {
    fn from(e: kube::Error) -> Self {
        classify(&e)
    }
}

/// Maps a kube-rs error: API statuses pass through (403 stays 403, 404 stays 404), a
/// credential the API server no longer accepts is a 401, no answer in time is a 504, and
/// anything else that means "could not talk to the API server" is a 502.
pub fn classify(e: &kube::Error) -> AppError {
    use kube::client::UpgradeConnectionError::ProtocolSwitch;
    let (code, message) = match e {
        kube::Error::Api(status) => (status.code, status.message.clone()),
        kube::Error::UpgradeConnection(ProtocolSwitch(code)) => (
            code.as_u16(),
            format!("the Kubernetes API refused the exec ({code})"),
        ),
        _ if timed_out(e) => {
            warn!(error = %e, "the Kubernetes API server did not answer in time");
            return AppError::new(
                ErrorKind::UpstreamTimeout,
                "the Kubernetes API server did not answer in time",
            );
        }
        _ => (502, String::new()),
    };
    match code {
        401 => AppError::unauthorized(
            "the Kubernetes API does not accept your credentials (expired or revoked); \
             sign in again",
        ),
        403 => AppError::forbidden(message),
        404 => AppError::not_found(message),
        c if (400..500).contains(&c) => AppError::bad_request(message),
        _ => {
            warn!(error = %e, "Kubernetes API call failed");
            AppError::new(
                ErrorKind::Upstream,
                "the Kubernetes API server is unreachable or failed",
            )
        }
    }
}

/// Whether a timeout layer or a connect timeout ended the call.
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<tower::timeout::error::Elapsed>() || err.to_string().contains("timed out") {
            return true;
        }
        source = err.source();
    }
    false
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ApiError {
            status: status.as_u16(),
            reason: self.kind.reason().to_string(),
            message: self.message,
        };
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure(&format!("status {code}"), "Reason")
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn api_statuses_pass_through_with_their_message() {
        assert_eq!(classify(&api_error(403)).status(), StatusCode::FORBIDDEN);
        assert_eq!(classify(&api_error(403)).message, "status 403");
        assert_eq!(classify(&api_error(404)).kind, ErrorKind::NotFound);
        assert_eq!(classify(&api_error(422)).kind, ErrorKind::BadRequest);
    }

    #[test]
    fn a_401_from_the_api_server_asks_to_sign_in_again() {
        let e = classify(&api_error(401));
        assert_eq!(e.status(), StatusCode::UNAUTHORIZED);
        assert!(e.message.contains("sign in again"), "{}", e.message);
    }

    #[test]
    fn server_errors_become_502_without_internal_detail() {
        let e = classify(&api_error(500));
        assert_eq!(e.status(), StatusCode::BAD_GATEWAY);
        assert!(!e.message.contains("status 500"));
    }
}
