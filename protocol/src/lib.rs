//! The webshell wire format: binary WebSocket frames shared by the browser client and the server.
//!
//! Every WebSocket *binary* message carries exactly one frame, encoded with bincode 2
//! ([`bincode::config::standard`]: the variant index is a varint, then the fields in order;
//! byte strings are a varint length followed by the raw bytes). Text messages are not used.
//!
//! The WebSocket subprotocol names the format and its version ([`Version`]): the server speaks
//! [`SUBPROTOCOL`] (`webshell.v2`) and still serves [`SUBPROTOCOL_V1`]. A peer that offers none
//! of them is refused with close code [`close_code::UNSUPPORTED_SUBPROTOCOL`].
//!
//! # Frames
//!
//! | dir | tag | frame | meaning |
//! |-----|-----|-------|---------|
//! | C→S | 0 | [`ClientFrame::Stdin`]`(bytes)` | keystrokes / pasted bytes, passed through untouched; at most [`MAX_STDIN_CHUNK`] per frame |
//! | C→S | 1 | [`ClientFrame::Resize`]`(`[`TermSize`]`)` | terminal size; the first one starts the exec |
//! | C→S | 2 | [`ClientFrame::StdinClose`] | end of input (EOF on the process's stdin) |
//! | C→S | 3 | [`ClientFrame::Keepalive`]`(nonce)` | liveness probe; the server echoes the nonce |
//! | C→S | 4 | [`ClientFrame::Ack`]`(bytes)` | v2: this many more output bytes were processed (rendered) |
//! | S→C | 0 | [`ServerFrame::Hello`]` { version, session_id, command }` | the exec runs; `command` is what actually runs |
//! | S→C | 1 | [`ServerFrame::Stdout`]`(bytes)` | terminal output (all output when a TTY is used) |
//! | S→C | 2 | [`ServerFrame::Stderr`]`(bytes)` | standard error, only without a TTY |
//! | S→C | 3 | [`ServerFrame::Exit`]` { code, reason }` | the process ended; the server then closes |
//! | S→C | 4 | [`ServerFrame::Error`]` { kind, message }` | the session failed; the server then closes |
//! | S→C | 5 | [`ServerFrame::Keepalive`]`(nonce)` | echo of a client keepalive |
//! | S→C | 6 | [`ServerFrame::StdinAck`]`(bytes)` | v2: this many more stdin bytes reached the process |
//!
//! # Flow control (v2)
//!
//! Both directions run on a window of unacknowledged bytes, like the xterm.js flow-control
//! guide's watermarks, so no side ever buffers without bound and input never queues behind
//! output:
//! - **Output.** The server has at most [`OUTPUT_WINDOW`] bytes of `Stdout`/`Stderr` payload
//!   out that the client has not acknowledged, and stops reading the process's output until
//!   `Ack`s make room. The client acks once its terminal has *processed* the bytes (xterm.js's
//!   write callback): every [`ACK_EVERY`] bytes, and at the latest when it has nothing left to
//!   process, so a trickle of small outputs never stalls the window.
//! - **Input.** The client has at most [`INPUT_WINDOW`] bytes of `Stdin` payload out that the
//!   server has not acknowledged with `StdinAck` (sent once the bytes were written to the
//!   process). A large paste is sent in chunks of at most [`MAX_STDIN_CHUNK`] as acks arrive,
//!   so the client's `Ack`s never wait in its socket behind megabytes of paste.
//!
//! A v1 client sends no `Ack` and gets no `StdinAck`; the server then relies on the socket's
//! own backpressure, bounded by a send timeout.
//!
//! # Extending the format
//!
//! New frames are only ever appended. A receiver that meets a tag it does not know gets
//! [`DecodeError::UnknownFrame`] and must skip that frame rather than fail, so old peers keep
//! working. [`ErrorKind`] likewise decodes unknown kinds to [`ErrorKind::Other`]. A frame whose
//! meaning an old peer must not ignore (like `Ack`, which the server must not wait for from a
//! client that never sends it) comes with a new [`Version`]. The golden tests below pin the
//! bytes, so a change to the format cannot be accidental.

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError as BincodeDecodeError, EncodeError};
use bincode::{Decode, Encode};

/// The WebSocket subprotocol of the current version: frames with flow control.
pub const SUBPROTOCOL: &str = "webshell.v2";
/// The previous version's subprotocol: the same frames, no flow control. Still served.
pub const SUBPROTOCOL_V1: &str = "webshell.v1";
/// Prefix of a second subprotocol entry that carries the access token of a protected server,
/// as base64url without padding (a subprotocol may only hold token characters). Browsers
/// cannot set headers on a WebSocket, so, like Kubernetes' `base64url.bearer.authorization.k8s.io.`,
/// the token rides in `Sec-WebSocket-Protocol`. The server reads it and never selects it.
pub const BEARER_SUBPROTOCOL_PREFIX: &str = "webshell.bearer.";
/// A version of this format, as negotiated by subprotocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// `webshell.v1`: no flow control.
    V1,
    /// `webshell.v2`: `Ack` and `StdinAck` windows in both directions.
    V2,
}

impl Version {
    /// The subprotocol that names it.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Version::V1 => SUBPROTOCOL_V1,
            Version::V2 => SUBPROTOCOL,
        }
    }

    /// The number carried in [`ServerFrame::Hello`].
    pub fn number(self) -> u16 {
        match self {
            Version::V1 => 1,
            Version::V2 => 2,
        }
    }

    /// Whether both sides acknowledge what they processed.
    pub fn flow_control(self) -> bool {
        self >= Version::V2
    }
}

/// The format version carried in [`ServerFrame::Hello`] of the current version.
pub const PROTOCOL_VERSION: u16 = 2;
/// v2: the most `Stdout`/`Stderr` payload bytes the server has out unacknowledged. Under the
/// xterm.js guide's 500 KB, where a terminal starts to lag behind its input.
pub const OUTPUT_WINDOW: u32 = 256 * 1024;
/// v2: how much processed output a client acknowledges in one `Ack` while more is still being
/// processed (it acks the rest as soon as nothing is left). A quarter of [`OUTPUT_WINDOW`]:
/// the server never waits on a whole window, and a flood costs one `Ack` per 64 KiB, not one
/// per frame.
pub const ACK_EVERY: u32 = OUTPUT_WINDOW / 4;
/// v2: the most `Stdin` payload bytes a client has out unacknowledged.
pub const INPUT_WINDOW: u32 = 256 * 1024;
/// The largest `Stdin` payload a client puts in one frame; a paste is split into these.
pub const MAX_STDIN_CHUNK: usize = 64 * 1024;
/// Largest encoded frame either side accepts; larger input is refused before it is allocated.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// WebSocket close codes the server uses (4000–4999 is the application range; 4000 + the
/// closest HTTP status, so they read like the REST errors).
pub mod close_code {
    /// The process exited, or the client went away.
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// A frame could not be decoded, or violated the protocol.
    pub const BAD_FRAME: u16 = 4400;
    /// The Kubernetes API refused the exec (RBAC).
    pub const FORBIDDEN: u16 = 4403;
    /// Namespace, pod or container does not exist.
    pub const NOT_FOUND: u16 = 4404;
    /// The client offered no subprotocol, or none this server speaks.
    pub const UNSUPPORTED_SUBPROTOCOL: u16 = 4406;
    /// The client never sent its first [`super::ClientFrame::Resize`].
    pub const TIMEOUT: u16 = 4408;
    /// The exec could not run (no shell, command not found, container not running).
    pub const EXEC_FAILED: u16 = 4422;
    /// The Kubernetes API server could not be reached.
    pub const UPSTREAM: u16 = 4502;
    /// No valid sign-in: none, expired, or revoked. The UI sends the person to sign in.
    pub const UNAUTHORIZED: u16 = 4401;
    /// A limit was reached: sessions per user or in total, or new sessions per minute.
    pub const TOO_MANY: u16 = 4429;
    /// The Kubernetes API server did not answer in time.
    pub const UPSTREAM_TIMEOUT: u16 = 4504;
}

/// The longest close reason a WebSocket close frame can carry (RFC 6455 §5.5: 125 bytes of
/// payload, two of them the code).
pub const MAX_CLOSE_REASON_BYTES: usize = 123;

/// `message` cut on a character boundary to fit a close frame.
pub fn close_reason(message: &str) -> &str {
    let mut end = message.len().min(MAX_CLOSE_REASON_BYTES);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    &message[..end]
}

/// A terminal size in character cells, used end to end: browser, frames, server, exec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
pub struct TermSize {
    /// Columns.
    pub cols: u16,
    /// Rows.
    pub rows: u16,
}

/// Browser → server.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum ClientFrame {
    /// Bytes for the process's stdin.
    Stdin(Vec<u8>),
    /// The terminal's size (same bytes as v1's `Resize { cols, rows }`).
    Resize(TermSize),
    /// Close the process's stdin.
    StdinClose,
    /// Liveness probe; echoed back as [`ServerFrame::Keepalive`].
    Keepalive(u64),
    /// v2: this many more output payload bytes were processed since the last `Ack`.
    Ack(u32),
}

/// Server → browser.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum ServerFrame {
    /// The exec has started.
    Hello {
        /// [`PROTOCOL_VERSION`] of the server.
        version: u16,
        /// Identifies the session in server logs.
        session_id: String,
        /// The command that actually runs (e.g. `["bash"]` after shell selection).
        command: Vec<String>,
    },
    /// Output bytes (everything, when a TTY is attached).
    Stdout(Vec<u8>),
    /// Standard error bytes (only without a TTY).
    Stderr(Vec<u8>),
    /// The process ended.
    Exit {
        /// Exit status; 0 on success.
        code: i32,
        /// Kubernetes' reason, e.g. `NonZeroExitCode`, or `Completed`.
        reason: String,
    },
    /// The session failed.
    Error {
        /// What failed.
        kind: ErrorKind,
        /// A message for a person.
        message: String,
    },
    /// Echo of [`ClientFrame::Keepalive`].
    Keepalive(u64),
    /// v2: this many more stdin payload bytes were written to the process since the last
    /// `StdinAck`.
    StdinAck(u32),
}

/// Why a session failed. Encoded as a varint; unknown values decode to [`ErrorKind::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request or a frame was malformed.
    BadRequest,
    /// Namespace, pod or container not found.
    NotFound,
    /// Kubernetes RBAC refused the exec.
    Forbidden,
    /// The container has no shell; a debug container is the way in.
    NoShell,
    /// The exec could not start or broke off.
    ExecFailed,
    /// The Kubernetes API server is unreachable.
    Upstream,
    /// A kind this build does not know.
    Other,
    /// No valid sign-in (none, expired or revoked): sign in again.
    Unauthorized,
    /// A limit was reached (sessions per user or in total, new sessions per minute).
    TooMany,
    /// The session timed out: no terminal size, idle too long, or at its maximum length.
    Timeout,
    /// The Kubernetes API server did not answer in time.
    UpstreamTimeout,
    /// The server is shutting down (a rollout or a drain): reconnect, and another replica
    /// answers.
    ShuttingDown,
}

impl ErrorKind {
    /// Wire values, in order; new kinds are appended, so `Other` keeps its value.
    const WIRE: [ErrorKind; 12] = [
        Self::BadRequest,
        Self::NotFound,
        Self::Forbidden,
        Self::NoShell,
        Self::ExecFailed,
        Self::Upstream,
        Self::Other,
        Self::Unauthorized,
        Self::TooMany,
        Self::Timeout,
        Self::UpstreamTimeout,
        Self::ShuttingDown,
    ];

    /// The HTTP status a REST error of this kind carries.
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Timeout => 408,
            Self::NoShell | Self::ExecFailed => 422,
            Self::TooMany => 429,
            Self::Other => 500,
            Self::Upstream => 502,
            Self::UpstreamTimeout => 504,
            Self::ShuttingDown => 503,
        }
    }

    /// The close code a terminal session that fails this way ends with.
    pub fn close_code(self) -> u16 {
        match self {
            Self::BadRequest => close_code::BAD_FRAME,
            Self::Unauthorized => close_code::UNAUTHORIZED,
            Self::Forbidden => close_code::FORBIDDEN,
            Self::NotFound => close_code::NOT_FOUND,
            Self::Timeout => close_code::TIMEOUT,
            Self::NoShell | Self::ExecFailed | Self::Other => close_code::EXEC_FAILED,
            Self::TooMany => close_code::TOO_MANY,
            Self::Upstream => close_code::UPSTREAM,
            Self::UpstreamTimeout => close_code::UPSTREAM_TIMEOUT,
            // The standard code: browsers and proxies know it means "come back later".
            Self::ShuttingDown => close_code::GOING_AWAY,
        }
    }

    /// The kind a REST error's `reason` names (the inverse of [`ErrorKind::reason`]);
    /// [`ErrorKind::Other`] for one this build does not know.
    pub fn from_reason(reason: &str) -> ErrorKind {
        Self::WIRE
            .into_iter()
            .find(|k| k.reason() == reason)
            .unwrap_or(Self::Other)
    }

    /// The machine-readable `reason` of a REST error of this kind.
    pub fn reason(self) -> &'static str {
        match self {
            Self::BadRequest => "BadRequest",
            Self::NotFound => "NotFound",
            Self::Forbidden => "Forbidden",
            Self::NoShell => "NoShell",
            Self::ExecFailed => "ExecFailed",
            Self::Upstream => "Upstream",
            Self::Other => "InternalError",
            Self::Unauthorized => "Unauthorized",
            Self::TooMany => "TooMany",
            Self::Timeout => "Timeout",
            Self::UpstreamTimeout => "UpstreamTimeout",
            Self::ShuttingDown => "ShuttingDown",
        }
    }
}

impl Encode for ErrorKind {
    fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        let tag = Self::WIRE
            .iter()
            .position(|k| k == self)
            .unwrap_or(Self::WIRE.len() - 1);
        (tag as u32).encode(encoder)
    }
}

impl<Context> Decode<Context> for ErrorKind {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, BincodeDecodeError> {
        let tag = u32::decode(decoder)? as usize;
        Ok(Self::WIRE.get(tag).copied().unwrap_or(Self::Other))
    }
}
bincode::impl_borrow_decode!(ErrorKind);

/// Why bytes did not decode to a frame.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    /// A frame tag from a newer peer; skip the frame.
    #[error("unknown frame tag {0}")]
    UnknownFrame(u32),
    /// Larger than [`MAX_FRAME_BYTES`].
    #[error("frame of {0} bytes exceeds the {MAX_FRAME_BYTES} byte limit")]
    TooLarge(usize),
    /// Bytes left over after the frame.
    #[error("{0} trailing bytes after the frame")]
    TrailingBytes(usize),
    /// Anything else: truncated input, bad lengths, invalid UTF-8 in a string field.
    #[error("malformed frame: {0}")]
    Malformed(String),
}

const CONFIG: bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<MAX_FRAME_BYTES>,
> = bincode::config::standard().with_limit::<MAX_FRAME_BYTES>();

/// A frame type of this protocol: [`ClientFrame`] or [`ServerFrame`].
pub trait Frame: Encode + Decode<()> + Sized {
    /// Encodes the frame into one WebSocket binary message.
    fn to_bytes(&self) -> Vec<u8> {
        // Encoding into a Vec cannot fail: no I/O, and every field type is encodable.
        bincode::encode_to_vec(self, CONFIG).unwrap_or_default()
    }

    /// Decodes one WebSocket binary message. Never panics; allocations are bounded by
    /// [`MAX_FRAME_BYTES`].
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_FRAME_BYTES {
            return Err(DecodeError::TooLarge(bytes.len()));
        }
        match bincode::decode_from_slice::<Self, _>(bytes, CONFIG) {
            Ok((frame, used)) if used == bytes.len() => Ok(frame),
            Ok((_, used)) => Err(DecodeError::TrailingBytes(bytes.len() - used)),
            Err(BincodeDecodeError::UnexpectedVariant { found, .. }) => {
                Err(DecodeError::UnknownFrame(found))
            }
            Err(e) => Err(DecodeError::Malformed(e.to_string())),
        }
    }
}

impl Frame for ClientFrame {}
impl Frame for ServerFrame {}

/// Which output stream a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// [`ServerFrame::Stdout`].
    Stdout,
    /// [`ServerFrame::Stderr`].
    Stderr,
}

/// The longest header [`output_frame_header`] writes.
pub const MAX_OUTPUT_HEADER: usize = 10;

/// The bytes of an output frame before its payload, written into `header`; returns how many.
/// `header ++ payload` is exactly `ServerFrame::Stdout(payload).to_bytes()` (or `Stderr`): the
/// encoder's own bytes for the variant index and the length prefix. It lets the server read
/// process output straight into a buffer with room in front, instead of copying it into a
/// frame.
pub fn output_frame_header(
    output: Output,
    payload_len: usize,
    header: &mut [u8; MAX_OUTPUT_HEADER],
) -> usize {
    let variant: u32 = match output {
        Output::Stdout => 1,
        Output::Stderr => 2,
    };
    // The variant index is a u32 varint (1 byte here) and a Vec's length a u64 varint (at most
    // 9 bytes); both always fit, so encoding cannot fail.
    bincode::encode_into_slice((variant, payload_len as u64), header, CONFIG).unwrap_or(0)
}

/// Picks the newest version a client offered, or `None` to refuse.
pub fn negotiate<'a>(offered: impl IntoIterator<Item = &'a str>) -> Option<Version> {
    offered
        .into_iter()
        .filter_map(|p| match p.trim() {
            SUBPROTOCOL => Some(Version::V2),
            SUBPROTOCOL_V1 => Some(Version::V1),
            _ => None,
        })
        .max()
}

pub mod rest;

#[cfg(test)]
mod tests;
