//! How a session ends other than by its process exiting. Each case decides, through its
//! [`ErrorKind`], the close code; failures of the exec itself also send an `Error` frame.

use std::time::Duration;

use webshell_protocol::{DecodeError, ErrorKind, close_code, close_reason};

use crate::error::AppError;

/// Why a session ended early.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The browser closed the socket, the connection broke, or it stopped answering pings.
    #[error("the browser went away ({0})")]
    BrowserGone(&'static str),
    /// No `Resize` came within the configured time.
    #[error("no terminal size received within {}", human(*.0))]
    NoSize(Duration),
    /// More input than allowed arrived before the first size.
    #[error("more than {0} bytes were typed before the terminal size was known")]
    EarlyInput(usize),
    /// A binary message that is not a frame.
    #[error("{0}")]
    BadFrame(#[source] DecodeError),
    /// A text message.
    #[error("text messages are not part of the protocol; send binary frames")]
    TextMessage,
    /// Neither input nor output for the idle timeout.
    #[error("no input or output for {}; the session was ended", human(*.0))]
    Idle(Duration),
    /// The session reached its maximum length.
    #[error("the session reached its maximum length ({})", human(*.0))]
    MaxDuration(Duration),
    /// The browser did not take output (a blocked socket, or no `Ack` while the window was
    /// full) for the stall timeout.
    #[error("the browser did not take output for {}; the session was ended", human(*.0))]
    ClientStalled(Duration),
    /// The server is shutting down (SIGTERM): the person reconnects to another replica.
    #[error("the server is shutting down; reconnect to continue")]
    ShuttingDown,
    /// The exec failed: refused, not found, no shell, unreachable API server, …
    #[error("{0}")]
    Failed(#[from] AppError),
}

impl SessionError {
    /// The error kind, which decides the close code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SessionError::BadFrame(_) | SessionError::TextMessage | SessionError::EarlyInput(_) => {
                ErrorKind::BadRequest
            }
            SessionError::NoSize(_)
            | SessionError::Idle(_)
            | SessionError::MaxDuration(_)
            | SessionError::ClientStalled(_) => ErrorKind::Timeout,
            SessionError::Failed(e) => e.kind,
            SessionError::ShuttingDown => ErrorKind::ShuttingDown,
            SessionError::BrowserGone(_) => ErrorKind::Other,
        }
    }

    /// How the session ended, as a fixed word for the audit log and metrics.
    pub fn cause(&self) -> &'static str {
        match self {
            SessionError::BrowserGone(_) => "browser_gone",
            SessionError::NoSize(_) => "no_size",
            SessionError::EarlyInput(_) | SessionError::BadFrame(_) | SessionError::TextMessage => {
                "protocol_error"
            }
            SessionError::Idle(_) => "idle",
            SessionError::MaxDuration(_) => "max_duration",
            SessionError::ClientStalled(_) => "stalled",
            SessionError::ShuttingDown => "shutdown",
            SessionError::Failed(_) => "exec_failed",
        }
    }

    /// The `Error` frame to send before closing: only for failures of the exec, which the
    /// browser shows as such.
    pub fn error_frame(&self) -> Option<&AppError> {
        match self {
            SessionError::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The close frame to send, or `None` when nobody is there to read it.
    pub fn close(&self) -> Option<(u16, String)> {
        match self {
            SessionError::BrowserGone(_) => None,
            other => Some((
                other.kind().close_code(),
                close_reason(&other.to_string()).to_owned(),
            )),
        }
    }
}

/// The normal end: the process exited.
pub fn exited(code: i32) -> (u16, String) {
    (
        close_code::NORMAL,
        format!("process exited with code {code}"),
    )
}

fn human(d: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ending_has_its_close_code_and_a_reason_that_fits_a_close_frame() {
        let cases = [
            (
                SessionError::NoSize(Duration::from_secs(15)),
                close_code::TIMEOUT,
            ),
            (SessionError::EarlyInput(65536), close_code::BAD_FRAME),
            (SessionError::TextMessage, close_code::BAD_FRAME),
            (
                SessionError::Idle(Duration::from_secs(1800)),
                close_code::TIMEOUT,
            ),
            (
                SessionError::ClientStalled(Duration::from_secs(60)),
                close_code::TIMEOUT,
            ),
            (
                SessionError::Failed(AppError::forbidden("x".repeat(500))),
                close_code::FORBIDDEN,
            ),
            (SessionError::ShuttingDown, close_code::GOING_AWAY),
        ];
        for (error, code) in cases {
            let (got, reason) = error.close().expect("a close frame");
            assert_eq!(got, code, "{error}");
            assert!(reason.len() <= 123, "{reason}");
        }
        assert_eq!(SessionError::BrowserGone("closed").close(), None);
        assert!(
            SessionError::Idle(Duration::from_secs(1800))
                .to_string()
                .contains("30m")
        );
    }

    #[test]
    fn only_exec_failures_send_an_error_frame() {
        assert!(
            SessionError::Failed(AppError::not_found("pod"))
                .error_frame()
                .is_some()
        );
        assert!(
            SessionError::Idle(Duration::from_secs(1))
                .error_frame()
                .is_none()
        );
    }
}
