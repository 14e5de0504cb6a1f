//! The pod side of a session: a remote process with stdin, output, resize and an outcome, and
//! the launcher that starts one once the terminal size is known.
//!
//! [`RemoteProcess`] is the one object that owns a remote process: dropping it ends the
//! process (for kube-rs, dropping the `AttachedProcess` closes the exec connection and the
//! kubelet hangs the process up). The bridge borrows its parts for one socket's life; nothing
//! about a socket lives in here, so a later session registry can keep a process while sockets
//! come and go.

use futures::Sink;
use futures::future::BoxFuture;
use tokio::io::{AsyncRead, AsyncWrite};
use webshell_protocol::TermSize;

use crate::error::AppError;

/// Where TTY size changes go.
pub type ResizeSink = std::pin::Pin<Box<dyn Sink<TermSize, Error = ()> + Send>>;

/// How a remote process ended, as reported by its status channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It exited with this code.
    Exited {
        /// The exit code.
        code: i32,
        /// Kubernetes' reason (`NonZeroExitCode`) or `Completed`.
        reason: String,
    },
    /// It failed to run (e.g. executable not found).
    Failed(AppError),
}

/// A started remote process.
pub struct RemoteProcess {
    /// Its stdin, if attached.
    pub stdin: Option<Box<dyn AsyncWrite + Send + Unpin>>,
    /// Its stdout (with a TTY: all output).
    pub stdout: Box<dyn AsyncRead + Send + Unpin>,
    /// Its stderr, without a TTY.
    pub stderr: Option<Box<dyn AsyncRead + Send + Unpin>>,
    /// Resizes the TTY; `None` without a TTY.
    pub resize: Option<ResizeSink>,
    /// Resolves once the process ended and output is complete. Owns the connection: dropping
    /// it ends the process.
    pub outcome: BoxFuture<'static, Outcome>,
    /// What runs, as `Hello` reports it.
    pub command: Announce,
}

/// What a process runs, for `Hello`: known at start, or once its output says (the shell
/// probe names the shell it chose, always before the first byte of output).
pub enum Announce {
    /// Known now.
    Now(Vec<String>),
    /// Told before the first output.
    Later(tokio::sync::oneshot::Receiver<Vec<String>>),
}

/// Starts a remote process once the first terminal size is known.
pub trait ProcessLauncher: Send {
    /// Starts the process with an initial TTY size.
    fn launch(
        self: Box<Self>,
        size: TermSize,
    ) -> BoxFuture<'static, Result<RemoteProcess, AppError>>;
}
