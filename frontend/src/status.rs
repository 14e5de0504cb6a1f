//! The life of one terminal session as a host sees it, and how it reads in the UI.
//!
//! Pure data and text, so it is unit-tested natively.

use webshell_protocol::ErrorKind;

/// Where a terminal session stands. Reported through the `on_status` prop of
/// [`crate::Terminal`]; a new session always starts with [`TerminalStatus::Connecting`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminalStatus {
    /// The WebSocket is opening, or open and waiting for the server's `Hello`.
    Connecting,
    /// The process runs.
    Connected {
        /// What actually runs, e.g. `["bash"]` after the server picked a shell.
        command: Vec<String>,
    },
    /// The process ended.
    Exited {
        /// Exit status; 0 on success.
        code: i32,
        /// Kubernetes' reason, e.g. `NonZeroExitCode`.
        reason: String,
    },
    /// The session failed (reported by the server, or an undecodable frame).
    Error {
        /// What failed.
        kind: ErrorKind,
        /// A message for a person.
        message: String,
    },
    /// The socket closed without an exit or an error (network loss, server restart).
    Disconnected {
        /// The WebSocket close code (1006 when the connection just dropped).
        code: u16,
        /// The close reason, often empty.
        reason: String,
    },
}

impl TerminalStatus {
    /// The machine-readable state, as in the status line's `data-state` attribute.
    pub fn state(&self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected { .. } => "connected",
            Self::Exited { .. } => "exited",
            Self::Error { .. } => "error",
            Self::Disconnected { .. } => "disconnected",
        }
    }

    /// The exit code, only once the process exited (the `data-exit-code` attribute).
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            Self::Exited { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether the session is over, so a host can offer to reconnect.
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::Connecting | Self::Connected { .. })
    }

    /// One line for a person, e.g. `connected — bash` or `exited with code 3`.
    pub fn text(&self) -> String {
        match self {
            Self::Connecting => "connecting…".to_owned(),
            Self::Connected { command } if command.is_empty() => "connected".to_owned(),
            Self::Connected { command } => format!("connected — {}", command.join(" ")),
            Self::Exited { code, .. } => format!("exited with code {code}"),
            Self::Error { kind, message } => {
                format!("error: {message} ({})", error_kind_label(*kind))
            }
            // A normal close that says why needs no "disconnected" (a log that ended).
            Self::Disconnected { code: 1000, reason } if !reason.is_empty() => reason.clone(),
            Self::Disconnected { code, reason } => {
                let why = if reason.is_empty() {
                    close_code_label(*code)
                } else {
                    reason
                };
                format!("disconnected: {why} ({code})")
            }
        }
    }
}

/// A short label for an error kind.
pub fn error_kind_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::BadRequest => "bad request",
        ErrorKind::NotFound => "not found",
        ErrorKind::Forbidden => "forbidden",
        ErrorKind::NoShell => "no shell in the container",
        ErrorKind::ExecFailed => "exec failed",
        ErrorKind::Upstream => "Kubernetes API unreachable",
        ErrorKind::Other => "other",
        ErrorKind::Unauthorized => "sign-in needed",
        ErrorKind::TooMany => "limit reached",
        ErrorKind::Timeout => "timed out",
        ErrorKind::UpstreamTimeout => "Kubernetes API timed out",
        ErrorKind::ShuttingDown => "server shutting down",
    }
}

/// Explains a close code that came without a reason.
fn close_code_label(code: u16) -> &'static str {
    use webshell_protocol::close_code as cc;
    match code {
        cc::NORMAL => "closed",
        cc::GOING_AWAY => "server going away",
        // The browser reports 1006 for a handshake refused by HTTP status, a dropped
        // connection or an unreachable server; it never tells which.
        1006 => "connection lost or refused",
        cc::BAD_FRAME => "protocol error",
        cc::FORBIDDEN => "forbidden",
        cc::NOT_FOUND => "not found",
        cc::UNSUPPORTED_SUBPROTOCOL => "unsupported protocol version",
        cc::TIMEOUT => "timed out",
        cc::EXEC_FAILED => "exec failed",
        cc::UPSTREAM => "Kubernetes API unreachable",
        cc::UNAUTHORIZED => "sign-in needed",
        cc::TOO_MANY => "limit reached",
        cc::UPSTREAM_TIMEOUT => "Kubernetes API timed out",
        _ => "closed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connected_shows_the_command_that_runs() {
        let s = TerminalStatus::Connected {
            command: vec!["bash".into()],
        };
        assert_eq!(s.text(), "connected — bash");
        assert_eq!(s.state(), "connected");
        assert_eq!(s.exit_code(), None);
        assert!(!s.is_final());
    }

    #[test]
    fn exited_carries_the_code() {
        let s = TerminalStatus::Exited {
            code: 3,
            reason: "NonZeroExitCode".into(),
        };
        assert_eq!(s.text(), "exited with code 3");
        assert_eq!(s.state(), "exited");
        assert_eq!(s.exit_code(), Some(3));
        assert!(s.is_final());
    }

    #[test]
    fn error_starts_with_error() {
        let s = TerminalStatus::Error {
            kind: ErrorKind::NoShell,
            message: "no shell".into(),
        };
        assert!(s.text().starts_with("error: no shell"));
        assert_eq!(s.state(), "error");
    }

    #[test]
    fn disconnected_explains_a_bare_code() {
        let s = TerminalStatus::Disconnected {
            code: 1006,
            reason: String::new(),
        };
        assert_eq!(s.text(), "disconnected: connection lost or refused (1006)");
        let s = TerminalStatus::Disconnected {
            code: 4502,
            reason: "apiserver down".into(),
        };
        assert_eq!(s.text(), "disconnected: apiserver down (4502)");
    }
}
