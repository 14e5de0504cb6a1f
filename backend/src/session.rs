//! One terminal session: the bridge between a browser socket and one remote process.
//!
//! The bridge is generic on both sides, so tests drive it with channels and in-memory pipes:
//! - the browser side is any `Stream<Item = SocketEvent>` + `Sink<SocketCommand>`;
//! - the pod side is a [`ProcessLauncher`] that, given the first terminal size, returns a
//!   [`RemoteProcess`] (stdin writer, stdout/stderr readers, resize channel, exit status).
//!
//! [`Session::run`] owns the whole life of the exec. It returns only when the process has
//! exited and its output has been flushed, or the browser went away. In both cases the
//! [`RemoteProcess`] is dropped on return, which is what ends the remote process (for kube-rs,
//! dropping the `AttachedProcess` aborts its connection; the kubelet then hangs up the process).

use std::time::Duration;

use futures::future::BoxFuture;
use futures::{Sink, SinkExt, Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::io::ReaderStream;
use tracing::{debug, info, warn};
use webshell_protocol::{
    ClientFrame, DecodeError, ErrorKind, Frame, PROTOCOL_VERSION, ServerFrame, close_code,
    close_reason,
};

use crate::audit;
use crate::error::AppError;
use crate::shell::{Scan, ShellMarker};

/// What the browser side produced.
#[derive(Debug)]
pub enum SocketEvent {
    /// A binary message: one encoded [`ClientFrame`].
    Binary(Vec<u8>),
    /// A text message; the protocol has none, so it is a protocol error.
    Text,
    /// A pong: the browser is still there.
    Pong,
    /// The browser closed the socket, or the connection broke.
    Closed,
}

/// What the session asks of the browser side.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketCommand {
    /// Send one frame as a binary message.
    Frame(ServerFrame),
    /// Send a WebSocket ping (keeps proxies from idling the connection out, and tells a
    /// browser that vanished without closing from one that is idle).
    Ping,
    /// Close the socket with a code from [`close_code`] and a reason.
    Close(u16, String),
}

/// Where TTY size changes go.
pub type ResizeSink = std::pin::Pin<Box<dyn Sink<TermSize, Error = ()> + Send>>;

/// A terminal size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermSize {
    /// Columns.
    pub cols: u16,
    /// Rows.
    pub rows: u16,
}

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
    /// Resolves once the process ended and output is complete.
    pub outcome: BoxFuture<'static, Outcome>,
    /// Whether stdout starts with a [`ShellMarker`] naming the shell that was chosen.
    pub shell_probe: bool,
    /// The command as requested (reported in `Hello` unless the probe names a shell).
    pub command: Vec<String>,
}

/// Starts a remote process once the first terminal size is known.
pub trait ProcessLauncher: Send {
    /// Starts the process with an initial TTY size.
    fn launch(self, size: TermSize) -> BoxFuture<'static, Result<RemoteProcess, AppError>>;
}

/// Timing knobs; tests shorten them.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// How long to wait for the first `Resize` before giving up.
    pub first_size_timeout: Duration,
    /// Interval of WebSocket pings to the browser.
    pub ping_interval: Duration,
    /// How long to wait for the exit status after output ended.
    pub status_timeout: Duration,
    /// End a session with neither input nor output for this long (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// End a session this long after it started (`None`: never).
    pub max_duration: Option<Duration>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            first_size_timeout: Duration::from_secs(15),
            ping_interval: Duration::from_secs(20),
            status_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(30 * 60)),
            max_duration: Some(Duration::from_secs(12 * 3600)),
        }
    }
}

/// Read size for process output; one frame carries at most this much.
const READ_CHUNK: usize = 32 * 1024;

/// One terminal session.
pub struct Session {
    /// Identifies the session in logs and in `Hello`.
    pub id: String,
    /// Timing knobs.
    pub config: SessionConfig,
}

/// How the browser loop ended.
enum Ending {
    BrowserGone,
    Close(u16, String),
}

impl Session {
    /// Runs the session to its end and says how it went. Every path ends with the socket
    /// closed (or gone) and the remote process dropped.
    pub async fn run<L, Tx, Rx>(self, launcher: L, mut tx: Tx, mut rx: Rx) -> audit::Ending
    where
        L: ProcessLauncher,
        Tx: Sink<SocketCommand> + Unpin + Send,
        Rx: Stream<Item = SocketEvent> + Unpin + Send,
    {
        let mut stats = audit::Ending::default();
        let ending = match self.config.max_duration {
            Some(limit) => {
                tokio::time::timeout(limit, self.drive(launcher, &mut tx, &mut rx, &mut stats))
                    .await
                    .unwrap_or_else(|_| {
                        Ending::Close(
                            close_code::TIMEOUT,
                            format!(
                                "the session reached its maximum length ({})",
                                humantime::format_duration(limit)
                            ),
                        )
                    })
            }
            None => self.drive(launcher, &mut tx, &mut rx, &mut stats).await,
        };
        if let Ending::Close(code, reason) = ending {
            info!(code, %reason, "session closed");
            stats.close_code = Some(code);
            stats.close_reason = reason.clone();
            let _ = tx.send(SocketCommand::Close(code, reason)).await;
        } else {
            info!("browser went away; ending the remote process");
            stats.close_reason = "the browser went away".into();
        }
        stats
    }

    async fn drive<L, Tx, Rx>(
        &self,
        launcher: L,
        tx: &mut Tx,
        rx: &mut Rx,
        stats: &mut audit::Ending,
    ) -> Ending
    where
        L: ProcessLauncher,
        Tx: Sink<SocketCommand> + Unpin + Send,
        Rx: Stream<Item = SocketEvent> + Unpin + Send,
    {
        // 1. Wait for the first size; keystrokes typed meanwhile are kept, in order.
        let mut early_stdin = Vec::new();
        let first = tokio::time::timeout(self.config.first_size_timeout, async {
            loop {
                match next_frame(rx).await {
                    Incoming::Frame(ClientFrame::Resize { cols, rows }) => {
                        return Ok(TermSize { cols, rows });
                    }
                    Incoming::Frame(ClientFrame::Stdin(bytes)) => early_stdin.extend(bytes),
                    Incoming::Frame(ClientFrame::Keepalive(n)) => {
                        let _ = tx
                            .send(SocketCommand::Frame(ServerFrame::Keepalive(n)))
                            .await;
                    }
                    Incoming::Frame(ClientFrame::StdinClose) | Incoming::Skip => {}
                    Incoming::End(ending) => return Err(ending),
                }
            }
        })
        .await;
        let size = match first {
            Ok(Ok(size)) => size,
            Ok(Err(ending)) => return ending,
            Err(_) => {
                return Ending::Close(close_code::TIMEOUT, "no terminal size received".into());
            }
        };

        // 2. Start the process at that size.
        let process = match launcher.launch(size).await {
            Ok(process) => process,
            Err(e) => return self.fail(tx, e).await,
        };
        self.bridge(process, early_stdin, tx, rx, stats).await
    }

    async fn bridge<Tx, Rx>(
        &self,
        process: RemoteProcess,
        early_stdin: Vec<u8>,
        tx: &mut Tx,
        rx: &mut Rx,
        stats: &mut audit::Ending,
    ) -> Ending
    where
        Tx: Sink<SocketCommand> + Unpin + Send,
        Rx: Stream<Item = SocketEvent> + Unpin + Send,
    {
        let RemoteProcess {
            mut stdin,
            stdout,
            stderr,
            mut resize,
            outcome,
            shell_probe,
            command,
        } = process;
        let mut stdout = ReaderStream::with_capacity(stdout, READ_CHUNK);
        let mut stderr = stderr.map(|r| ReaderStream::with_capacity(r, READ_CHUNK));
        let (mut stdout_open, mut stderr_open) = (true, stderr.is_some());

        // With the shell probe, `Hello` waits for the marker that names the chosen shell.
        let mut marker = shell_probe.then(ShellMarker::default);
        if marker.is_none() && self.hello(tx, command.clone()).await.is_err() {
            return Ending::BrowserGone;
        }
        if !early_stdin.is_empty()
            && let Some(w) = stdin.as_mut()
        {
            stats.bytes_in += early_stdin.len() as u64;
            let _ = w.write_all(&early_stdin).await;
        }
        // Input or output counts as activity; the idle deadline moves with each.
        let idle = self.config.idle_timeout;
        let idle_deadline = tokio::time::sleep(idle.unwrap_or(Duration::MAX / 4));
        tokio::pin!(idle_deadline);
        macro_rules! active {
            () => {
                if let Some(limit) = idle {
                    idle_deadline
                        .as_mut()
                        .reset(tokio::time::Instant::now() + limit);
                }
            };
        }

        let mut ping = tokio::time::interval(self.config.ping_interval);
        ping.reset();
        // Browsers answer pings by themselves; silence for two intervals means the browser is
        // gone (a laptop lid, a dropped network) even though TCP has not noticed yet.
        let mut last_heard = tokio::time::Instant::now();

        while stdout_open || stderr_open {
            tokio::select! {
                chunk = stdout.next(), if stdout_open => match chunk {
                    Some(Ok(bytes)) => {
                        let bytes = match marker.as_mut().map(|m| m.scan(&bytes)) {
                            None => bytes.to_vec(),
                            Some(Scan::Pending) => continue,
                            Some(Scan::Found { shell, rest }) => {
                                marker = None;
                                if self.hello(tx, vec![shell]).await.is_err() {
                                    return Ending::BrowserGone;
                                }
                                rest
                            }
                        };
                        active!();
                        stats.bytes_out += bytes.len() as u64;
                        if !bytes.is_empty() && send(tx, ServerFrame::Stdout(bytes)).await.is_err() {
                            return Ending::BrowserGone;
                        }
                    }
                    Some(Err(e)) => {
                        warn!(error = %e, "reading stdout failed");
                        stdout_open = false;
                    }
                    None => stdout_open = false,
                },
                chunk = next_chunk(&mut stderr), if stderr_open => match chunk {
                    Some(bytes) => {
                        active!();
                        stats.bytes_out += bytes.len() as u64;
                        if send(tx, ServerFrame::Stderr(bytes)).await.is_err() {
                            return Ending::BrowserGone;
                        }
                    }
                    None => stderr_open = false,
                },
                event = next_frame(rx) => {
                    last_heard = tokio::time::Instant::now();
                    match event {
                        Incoming::Frame(ClientFrame::Stdin(bytes)) => {
                            active!();
                            stats.bytes_in += bytes.len() as u64;
                            if let Some(w) = stdin.as_mut()
                                && w.write_all(&bytes).await.is_err()
                            {
                                debug!("stdin closed by the remote side");
                            }
                        }
                        Incoming::Frame(ClientFrame::Resize { cols, rows }) => {
                            if let Some(r) = resize.as_mut() {
                                let _ = r.send(TermSize { cols, rows }).await;
                            }
                        }
                        Incoming::Frame(ClientFrame::StdinClose) => {
                            if let Some(mut w) = stdin.take() {
                                let _ = w.shutdown().await;
                            }
                        }
                        Incoming::Frame(ClientFrame::Keepalive(n)) => {
                            if send(tx, ServerFrame::Keepalive(n)).await.is_err() {
                                return Ending::BrowserGone;
                            }
                        }
                        Incoming::Skip => {}
                        Incoming::End(ending) => return ending,
                    }
                }
                _ = &mut idle_deadline, if idle.is_some() => {
                    let limit = idle.unwrap_or_default();
                    return Ending::Close(
                        close_code::TIMEOUT,
                        format!(
                            "no input or output for {}; the session was ended",
                            humantime::format_duration(limit)
                        ),
                    );
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > self.config.ping_interval * 2 {
                        warn!("no pong from the browser for two ping intervals");
                        return Ending::BrowserGone;
                    }
                    if tx.send(SocketCommand::Ping).await.is_err() {
                        return Ending::BrowserGone;
                    }
                }
            }
        }
        // A probe that ended before its marker: whatever it printed is still output.
        if let Some(pending) = marker
            .map(ShellMarker::into_pending)
            .filter(|p| !p.is_empty())
        {
            let _ = send(tx, ServerFrame::Stdout(pending)).await;
        }

        // 3. Output is complete; report how the process ended.
        match tokio::time::timeout(self.config.status_timeout, outcome).await {
            Ok(Outcome::Exited { code, reason }) => {
                info!(code, %reason, "process exited");
                stats.exit_code = Some(code);
                let _ = send(tx, ServerFrame::Exit { code, reason }).await;
                Ending::Close(
                    close_code::NORMAL,
                    format!("process exited with code {code}"),
                )
            }
            Ok(Outcome::Failed(e)) => self.fail(tx, e).await,
            Err(_) => {
                let e = AppError {
                    kind: ErrorKind::ExecFailed,
                    message: "the exec stream ended without an exit status".into(),
                };
                self.fail(tx, e).await
            }
        }
    }

    async fn hello<Tx: Sink<SocketCommand> + Unpin>(
        &self,
        tx: &mut Tx,
        command: Vec<String>,
    ) -> Result<(), Tx::Error> {
        info!(?command, "process started");
        let hello = ServerFrame::Hello {
            version: PROTOCOL_VERSION,
            session_id: self.id.clone(),
            command,
        };
        send(tx, hello).await
    }

    async fn fail<Tx: Sink<SocketCommand> + Unpin>(&self, tx: &mut Tx, e: AppError) -> Ending {
        warn!(kind = ?e.kind, message = %e.message, "session failed");
        let code = e.kind.close_code();
        let _ = send(
            tx,
            ServerFrame::Error {
                kind: e.kind,
                message: e.message.clone(),
            },
        )
        .await;
        Ending::Close(code, close_reason(&e.message).to_owned())
    }
}

async fn send<Tx: Sink<SocketCommand> + Unpin>(
    tx: &mut Tx,
    frame: ServerFrame,
) -> Result<(), Tx::Error> {
    tx.send(SocketCommand::Frame(frame)).await
}

async fn next_chunk(
    reader: &mut Option<ReaderStream<Box<dyn AsyncRead + Send + Unpin>>>,
) -> Option<Vec<u8>> {
    match reader.as_mut()?.next().await {
        Some(Ok(bytes)) => Some(bytes.to_vec()),
        _ => None,
    }
}

enum Incoming {
    Frame(ClientFrame),
    Skip,
    End(Ending),
}

/// The next meaningful event from the browser, with protocol errors turned into an ending.
async fn next_frame<Rx: Stream<Item = SocketEvent> + Unpin>(rx: &mut Rx) -> Incoming {
    match rx.next().await {
        None | Some(SocketEvent::Closed) => Incoming::End(Ending::BrowserGone),
        Some(SocketEvent::Text) => Incoming::End(Ending::Close(
            close_code::BAD_FRAME,
            "text messages are not part of the protocol; send binary frames".into(),
        )),
        Some(SocketEvent::Pong) => Incoming::Skip,
        Some(SocketEvent::Binary(bytes)) => match ClientFrame::from_bytes(&bytes) {
            Ok(frame) => Incoming::Frame(frame),
            // A frame from a newer client: skip it, as the protocol asks.
            Err(DecodeError::UnknownFrame(tag)) => {
                debug!(tag, "skipping unknown frame");
                Incoming::Skip
            }
            Err(e) => Incoming::End(Ending::Close(
                close_code::BAD_FRAME,
                close_reason(&e.to_string()).to_owned(),
            )),
        },
    }
}

#[cfg(test)]
mod tests;
