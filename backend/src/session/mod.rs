//! One terminal session: a browser socket bridged to one remote process.
//!
//! - [`port`]: the pod side, a [`RemoteProcess`] (stdin, output, resize, outcome) started by a
//!   [`ProcessLauncher`] once the terminal size is known;
//! - [`bridge`]: the two pumps (input and output) and the writer, flow-controlled;
//! - [`kube`]: the launcher for the pod `exec` subresource (kube-rs);
//! - [`probe`]: the shell probe, a wrapper around the launcher that picks bash or sh;
//! - [`error`]: every way a session ends early, with its close code.
//!
//! The session is generic on both sides, so tests drive it with channels and in-memory pipes:
//! the browser side is any `Stream<Item = SocketEvent>` + `Sink<SocketCommand>`.
//!
//! [`Session::run`] owns the whole life of the exec. It starts the process only once the first
//! size arrived (typed keys wait, up to [`SessionConfig::early_stdin_limit`]), bridges it, and
//! returns when the process exited and its output was sent, or the browser went away, or a
//! limit was reached. Every path ends with the socket closed (or gone) and the
//! [`RemoteProcess`] dropped, which ends the remote process.

pub mod bridge;
pub mod error;
pub mod kube;
pub mod port;
pub mod probe;
pub mod remote_command;

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use futures::{Sink, SinkExt, Stream, StreamExt};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use webshell_protocol::{ClientFrame, DecodeError, Frame, ServerFrame, TermSize, Version};

pub use self::error::SessionError;
pub use self::port::{Outcome, ProcessLauncher, RemoteProcess, ResizeSink};
use crate::audit;
use crate::metrics::ByteCounters;
use bridge::{Bridge, Flow, Hello};

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
    /// Send an already encoded frame as a binary message (process output, encoded in place).
    Binary(Bytes),
    /// Send a WebSocket ping (keeps proxies from idling the connection out, and tells a
    /// browser that vanished without closing from one that is idle).
    Ping,
    /// Close the socket with a code from `close_code` and a reason.
    Close(u16, String),
    /// Internal: everything before this was queued; flush the socket. Never sent.
    Flush,
}

/// How long the browser gets to answer our close frame.
pub(crate) const CLOSE_HANDSHAKE: Duration = Duration::from_secs(2);

/// Timing and limits; tests shorten them.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// How long to wait for the first `Resize` before giving up.
    pub first_size_timeout: Duration,
    /// Keystrokes kept before the first `Resize`, at most.
    pub early_stdin_limit: usize,
    /// Interval of WebSocket pings to the browser.
    pub ping_interval: Duration,
    /// How long to wait for the exit status after output ended.
    pub status_timeout: Duration,
    /// How long the browser may take no output (socket blocked, or no `Ack` with a full
    /// window) before the session is ended.
    pub stall_timeout: Duration,
    /// End a session with neither input nor output for this long (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// End a session this long after it started (`None`: never).
    pub max_duration: Option<Duration>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            first_size_timeout: Duration::from_secs(15),
            early_stdin_limit: webshell_protocol::MAX_STDIN_CHUNK,
            ping_interval: Duration::from_secs(20),
            status_timeout: Duration::from_secs(5),
            stall_timeout: Duration::from_secs(60),
            idle_timeout: Some(Duration::from_secs(30 * 60)),
            max_duration: Some(Duration::from_secs(12 * 3600)),
        }
    }
}

/// One terminal session.
pub struct Session {
    /// Identifies the session in logs and in `Hello`.
    pub id: String,
    /// Timing knobs.
    pub config: SessionConfig,
    /// The protocol version the socket negotiated.
    pub version: Version,
    /// Cancelled when the server shuts down: the session then ends with close code 1001.
    pub stop: CancellationToken,
    /// Where the pumps count payload bytes.
    pub bytes: ByteCounters,
}

impl Session {
    /// A session that only its own ending stops, counting bytes nowhere shared (tests).
    pub fn new(id: impl Into<String>, config: SessionConfig, version: Version) -> Session {
        Session {
            id: id.into(),
            config,
            version,
            stop: CancellationToken::new(),
            bytes: ByteCounters::default(),
        }
    }
}

impl Session {
    /// Runs the session to its end and says how it went.
    pub async fn run<Tx, Rx>(
        self,
        launcher: Box<dyn ProcessLauncher>,
        mut tx: Tx,
        mut rx: Rx,
    ) -> audit::Ending
    where
        Tx: Sink<SocketCommand> + Unpin + Send,
        Rx: Stream<Item = SocketEvent> + Unpin + Send,
    {
        let flow = Flow::new(self.bytes.clone());
        let drive = async {
            // Dropping `drive` on shutdown drops the process, which ends it.
            tokio::select! {
                result = self.drive(launcher, &mut tx, &mut rx, &flow) => result,
                () = self.stop.cancelled() => Err(SessionError::ShuttingDown),
            }
        };
        let result = match self.config.max_duration {
            Some(limit) => tokio::time::timeout(limit, drive)
                .await
                .unwrap_or(Err(SessionError::MaxDuration(limit))),
            None => drive.await,
        };
        let mut ending = audit::Ending {
            bytes_in: flow.bytes_in.load(Ordering::Relaxed),
            bytes_out: flow.bytes_out.load(Ordering::Relaxed),
            ..Default::default()
        };
        (ending.cause, ending.exec_error) = match &result {
            Ok(Outcome::Exited { .. }) => ("exited", None),
            Ok(Outcome::Failed(e)) => ("exec_failed", Some(e.kind.reason())),
            Err(e) => (e.cause(), e.error_frame().map(|f| f.kind.reason())),
        };
        let (frame, close) = match result {
            Ok(Outcome::Exited { code, reason }) => {
                info!(code, %reason, "process exited");
                ending.exit_code = Some(code);
                (
                    Some(ServerFrame::Exit { code, reason }),
                    Some(error::exited(code)),
                )
            }
            Ok(Outcome::Failed(e)) => Self::failure(SessionError::Failed(e)),
            Err(e) => Self::failure(e),
        };
        if let Some(frame) = frame {
            let _ = self
                .send_briefly(&mut tx, SocketCommand::Frame(frame))
                .await;
        }
        match close {
            Some((code, reason)) => {
                info!(code, %reason, "session closed");
                ending.close_code = Some(code);
                ending.close_reason = reason.clone();
                if self
                    .send_briefly(&mut tx, SocketCommand::Close(code, reason))
                    .await
                    .is_ok()
                {
                    // The closing handshake: read (and drop) what the browser still sends until
                    // its own close. Closing TCP with its frames unread would make the kernel
                    // reset the connection, and the browser could lose our last frames with it.
                    let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
                        while let Some(event) = rx.next().await {
                            if matches!(event, SocketEvent::Closed) {
                                break;
                            }
                        }
                    })
                    .await;
                }
            }
            None => {
                info!("browser went away; ending the remote process");
                ending.close_reason = "the browser went away".into();
            }
        }
        ending
    }

    fn failure(e: SessionError) -> (Option<ServerFrame>, Option<(u16, String)>) {
        match &e {
            SessionError::BrowserGone(why) => debug!(why, "browser gone"),
            other => warn!(error = %other, "session ended"),
        }
        let frame = e.error_frame().map(|f| ServerFrame::Error {
            kind: f.kind,
            message: f.message.clone(),
        });
        (frame, e.close())
    }

    /// A last frame to a browser that may not be reading: never waits past the stall timeout.
    async fn send_briefly<Tx: Sink<SocketCommand> + Unpin>(
        &self,
        tx: &mut Tx,
        command: SocketCommand,
    ) -> Result<(), ()> {
        match tokio::time::timeout(self.config.stall_timeout, tx.send(command)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }

    async fn drive<Tx, Rx>(
        &self,
        launcher: Box<dyn ProcessLauncher>,
        tx: &mut Tx,
        rx: &mut Rx,
        flow: &std::sync::Arc<Flow>,
    ) -> Result<Outcome, SessionError>
    where
        Tx: Sink<SocketCommand> + Unpin + Send,
        Rx: Stream<Item = SocketEvent> + Unpin + Send,
    {
        let (size, early_stdin) = self.first_size(tx, rx).await?;
        let process = launcher.launch(size).await?;
        Bridge {
            tx,
            rx,
            config: &self.config,
            version: self.version,
            flow: flow.clone(),
            hello: Hello {
                session_id: self.id.clone(),
                version: self.version,
            },
        }
        .run(process, early_stdin)
        .await
    }

    /// Waits for the first size; keystrokes typed meanwhile are kept, in order, up to the
    /// limit.
    async fn first_size<Tx, Rx>(
        &self,
        tx: &mut Tx,
        rx: &mut Rx,
    ) -> Result<(TermSize, Vec<u8>), SessionError>
    where
        Tx: Sink<SocketCommand> + Unpin + Send,
        Rx: Stream<Item = SocketEvent> + Unpin + Send,
    {
        let mut early_stdin = Vec::new();
        let limit = self.config.early_stdin_limit;
        let waiting = async {
            loop {
                match next_frame(rx).await {
                    Incoming::Frame(ClientFrame::Resize(size)) => return Ok(size),
                    Incoming::Frame(ClientFrame::Stdin(bytes)) => {
                        if early_stdin.len() + bytes.len() > limit {
                            return Err(SessionError::EarlyInput(limit));
                        }
                        early_stdin.extend(bytes);
                    }
                    Incoming::Frame(ClientFrame::Keepalive(n)) => {
                        let echo = SocketCommand::Frame(ServerFrame::Keepalive(n));
                        if self.send_briefly(tx, echo).await.is_err() {
                            return Err(SessionError::BrowserGone("socket closed"));
                        }
                    }
                    Incoming::Frame(ClientFrame::StdinClose | ClientFrame::Ack(_))
                    | Incoming::Skip => {}
                    Incoming::End(e) => return Err(e),
                }
            }
        };
        match tokio::time::timeout(self.config.first_size_timeout, waiting).await {
            Ok(Ok(size)) => Ok((size, early_stdin)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(SessionError::NoSize(self.config.first_size_timeout)),
        }
    }
}

/// A meaningful event from the browser.
pub(crate) enum Incoming {
    Frame(ClientFrame),
    Skip,
    End(SessionError),
}

/// The next meaningful event from the browser, with protocol errors turned into an ending.
pub(crate) async fn next_frame<Rx: Stream<Item = SocketEvent> + Unpin>(rx: &mut Rx) -> Incoming {
    match rx.next().await {
        None | Some(SocketEvent::Closed) => Incoming::End(SessionError::BrowserGone("closed")),
        Some(SocketEvent::Text) => Incoming::End(SessionError::TextMessage),
        Some(SocketEvent::Pong) => Incoming::Skip,
        Some(SocketEvent::Binary(bytes)) => match ClientFrame::from_bytes(&bytes) {
            Ok(frame) => Incoming::Frame(frame),
            // A frame from a newer client: skip it, as the protocol asks.
            Err(DecodeError::UnknownFrame(tag)) => {
                debug!(tag, "skipping unknown frame");
                Incoming::Skip
            }
            Err(e) => Incoming::End(SessionError::BadFrame(e)),
        },
    }
}

#[cfg(test)]
mod flow_tests;
#[cfg(test)]
mod tests;
