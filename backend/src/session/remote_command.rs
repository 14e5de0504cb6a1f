//! The Kubernetes remote-command protocol (`pods/exec`, `pods/attach`) over WebSocket,
//! `v5.channel.k8s.io` with `v4.channel.k8s.io` as fallback, turned into a [`RemoteProcess`].
//!
//! Hand-written rather than kube-rs's `Api::exec` for two reasons the profile and the flow
//! tests showed:
//! - kube-rs opens the socket with tungstenite's default 128 KiB read buffer and offers no way
//!   to change it: 124 KiB of every idle terminal's ~240 KiB (massif, 20 sessions);
//! - kube-rs moves both directions in one loop, so while a stdout write waits, stdin does
//!   too. Here a reader task and a writer task own one half each: Ctrl-C goes out even while
//!   output waits for the browser.
//!
//! The HTTP part (URL, query, authentication, timeouts) stays kube-rs's: the request comes from
//! `kube::core::Request` and goes through the caller's `kube::Client`; only the upgrade and the
//! channel framing are here.
//!
//! Frames are binary messages whose first byte is the channel
//! ([remotecommand constants](https://github.com/kubernetes/kubernetes/blob/master/staging/src/k8s.io/apimachinery/pkg/util/remotecommand/constants.go)).

use bytes::Bytes;
use futures::channel::mpsc;
use futures::{FutureExt, SinkExt, StreamExt};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::oneshot;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use webshell_protocol::TermSize;

use super::kube::outcome_of;
use super::port::{Announce, RemoteProcess, ResizeSink};
use crate::error::{AppError, classify};

/// stdin.
const STDIN: u8 = 0;
/// stdout.
const STDOUT: u8 = 1;
/// stderr.
const STDERR: u8 = 2;
/// The final `metav1.Status` (exit code), JSON.
const STATUS: u8 = 3;
/// Terminal size, JSON `{"Width":…,"Height":…}`.
const RESIZE: u8 = 4;
/// v5: close a channel (`[255, channel]`); used to send EOF on stdin.
const CLOSE: u8 = 255;

/// The subprotocols, newest first.
const V5: &str = "v5.channel.k8s.io";
const V4: &str = "v4.channel.k8s.io";

/// Pipe sizes between the socket tasks and the bridge: enough for a full read of either side.
const PIPE: usize = 64 * 1024;
/// The socket's initial read buffer; it grows for large frames.
const READ_BUFFER: usize = 4 * 1024;

/// Starts `request` (an exec or attach request from `kube::core::Request`) as a process.
/// `size` is sent before anything else when there is a TTY, so the first prompt fits.
pub async fn start(
    client: &kube::Client,
    mut request: http::Request<Vec<u8>>,
    tty: bool,
    size: TermSize,
    command: Vec<String>,
) -> Result<RemoteProcess, StartError> {
    let key = tokio_tungstenite::tungstenite::handshake::client::generate_key();
    let headers = request.headers_mut();
    for (name, value) in [
        (http::header::CONNECTION, "Upgrade"),
        (http::header::UPGRADE, "websocket"),
        (http::header::SEC_WEBSOCKET_VERSION, "13"),
        (
            http::header::SEC_WEBSOCKET_PROTOCOL,
            "v5.channel.k8s.io, v4.channel.k8s.io",
        ),
    ] {
        headers.insert(name, http::HeaderValue::from_static(value));
    }
    headers.insert(
        http::header::SEC_WEBSOCKET_KEY,
        http::HeaderValue::from_str(&key).map_err(|_| StartError::Protocol("bad key"))?,
    );
    let response = client
        .send(request.map(kube::client::Body::from))
        .await
        .map_err(StartError::Kube)?;
    if response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
        return Err(refusal(response).await);
    }
    let accepted = response
        .headers()
        .get(http::header::SEC_WEBSOCKET_ACCEPT)
        .and_then(|v| v.to_str().ok());
    if accepted != Some(derive_accept_key(key.as_bytes()).as_str()) {
        return Err(StartError::Protocol(
            "the API server's upgrade answer does not match",
        ));
    }
    let v5 = match response
        .headers()
        .get(http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
    {
        Some(V5) => true,
        Some(V4) => false,
        _ => {
            return Err(StartError::Protocol(
                "the API server chose no known subprotocol",
            ));
        }
    };
    let upgraded = hyper::upgrade::on(response)
        .await
        .map_err(|_| StartError::Protocol("the upgrade did not complete"))?;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0);
    let socket =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Client, Some(config)).await;
    Ok(attach_tasks(socket, tty, size, v5, command))
}

/// Why a remote command did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The request failed or was refused (the API server's status is in it).
    #[error("{0}")]
    Kube(#[source] kube::Error),
    /// The upgrade was not a remote-command WebSocket.
    #[error("{0}")]
    Protocol(&'static str),
}

impl StartError {
    /// As the one error type.
    pub fn to_app_error(&self) -> AppError {
        match self {
            StartError::Kube(e) => classify(e),
            StartError::Protocol(why) => AppError::new(
                webshell_protocol::ErrorKind::ExecFailed,
                format!("the exec could not start: {why}"),
            ),
        }
    }
}

/// A refused upgrade: its body is a `metav1.Status` when the API server refused it.
async fn refusal(response: http::Response<kube::client::Body>) -> StartError {
    let code = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let status = serde_json::from_slice::<kube::core::Status>(&body)
        .unwrap_or_else(|_| {
            kube::core::Status::failure(&format!("the exec was refused ({code})"), "")
        })
        .with_code(code.as_u16());
    StartError::Kube(kube::Error::Api(status.boxed()))
}

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Splits the socket into a reader task (stdout, stderr, status) and a writer task (stdin,
/// resizes), connected to the bridge by pipes.
fn attach_tasks(
    socket: Socket,
    tty: bool,
    size: TermSize,
    v5: bool,
    command: Vec<String>,
) -> RemoteProcess {
    let (sink, stream) = socket.split();
    let (stdin_ours, stdin_theirs) = tokio::io::duplex(PIPE);
    let (stdout_theirs, stdout_ours) = tokio::io::duplex(PIPE);
    let (stderr_theirs, stderr_ours) = if tty {
        (None, None)
    } else {
        let (theirs, ours) = tokio::io::duplex(PIPE);
        (Some(theirs), Some(ours))
    };
    let (resize_tx, resize_rx) = mpsc::channel::<TermSize>(4);
    let (status_tx, status_rx) = oneshot::channel();
    let first_size = tty.then_some(size);
    let writer = tokio::spawn(write_loop(sink, stdin_theirs, resize_rx, first_size, v5));
    let reader = tokio::spawn(read_loop(stream, stdout_theirs, stderr_theirs, status_tx));
    // The outcome owns both tasks: dropping it (the session ends, polled or not) aborts them,
    // which drops the socket and ends the remote process.
    let tasks = AbortOnDrop(vec![writer.abort_handle(), reader.abort_handle()]);
    let outcome = async move {
        let _tasks = tasks;
        outcome_of(status_rx.await.ok().flatten())
    }
    .boxed();
    let resize: Option<ResizeSink> = tty.then(|| Box::pin(resize_tx.sink_map_err(|_| ())) as _);
    RemoteProcess {
        stdin: Some(Box::new(stdin_ours)),
        stdout: Box::new(stdout_ours),
        stderr: stderr_ours.map(|r| Box::new(r) as _),
        resize,
        outcome,
        command: Announce::Now(command),
    }
}

struct AbortOnDrop(Vec<tokio::task::AbortHandle>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Sends stdin and resizes; EOF on stdin becomes a close of channel 0 (v5).
async fn write_loop(
    mut sink: futures::stream::SplitSink<Socket, Message>,
    mut stdin: DuplexStream,
    mut resizes: mpsc::Receiver<TermSize>,
    first_size: Option<TermSize>,
    v5: bool,
) {
    if let Some(size) = first_size
        && sink.send(resize_message(size)).await.is_err()
    {
        return;
    }
    let mut buf = vec![0u8; 1 + PIPE / 2];
    let (mut stdin_open, mut resizes_open) = (true, true);
    while stdin_open || resizes_open {
        tokio::select! {
            read = stdin.read(&mut buf[1..]), if stdin_open => match read {
                Ok(0) | Err(_) => {
                    stdin_open = false;
                    if v5 && sink.send(Message::Binary(Bytes::from_static(&[CLOSE, STDIN]))).await.is_err() {
                        return;
                    }
                }
                Ok(n) => {
                    buf[0] = STDIN;
                    if sink.send(Message::Binary(Bytes::copy_from_slice(&buf[..=n]))).await.is_err() {
                        return;
                    }
                }
            },
            size = resizes.next(), if resizes_open => match size {
                Some(size) => {
                    if sink.send(resize_message(size)).await.is_err() {
                        return;
                    }
                }
                // No TTY, or the session let go of its resizer.
                None => resizes_open = false,
            },
        }
    }
}

fn resize_message(size: TermSize) -> Message {
    let json = format!(r#"{{"Width":{},"Height":{}}}"#, size.cols, size.rows);
    let mut frame = Vec::with_capacity(1 + json.len());
    frame.push(RESIZE);
    frame.extend_from_slice(json.as_bytes());
    Message::Binary(frame.into())
}

/// Demultiplexes output into the pipes and delivers the final status. A full stdout pipe stops
/// this loop, which is backpressure all the way to the container; stdin is unaffected.
async fn read_loop(
    mut stream: futures::stream::SplitStream<Socket>,
    mut stdout: DuplexStream,
    mut stderr: Option<DuplexStream>,
    status: oneshot::Sender<Option<Status>>,
) {
    let mut last_status = None;
    while let Some(Ok(message)) = stream.next().await {
        let Message::Binary(frame) = message else {
            continue;
        };
        let Some((&channel, payload)) = frame.split_first() else {
            continue;
        };
        match channel {
            STDOUT if stdout.write_all(payload).await.is_err() => break,
            STDOUT => {}
            STDERR => match stderr.as_mut() {
                Some(pipe) => {
                    if pipe.write_all(payload).await.is_err() {
                        break;
                    }
                }
                // With a TTY there is no stderr; anything on it is output all the same.
                None => {
                    if stdout.write_all(payload).await.is_err() {
                        break;
                    }
                }
            },
            STATUS => {
                last_status = serde_json::from_slice::<Status>(payload).ok();
            }
            _ => {}
        }
    }
    // Output is complete: EOF on the pipes, then the status.
    drop(stdout);
    drop(stderr);
    let _ = status.send(last_status);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resize_is_channel_4_with_the_size_as_json() {
        let Message::Binary(frame) = resize_message(TermSize {
            cols: 120,
            rows: 40,
        }) else {
            panic!("binary");
        };
        assert_eq!(&frame[..], b"\x04{\"Width\":120,\"Height\":40}");
    }
}
