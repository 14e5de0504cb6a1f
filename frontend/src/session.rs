//! The client side of one terminal session as a pure state machine: events in, encoded frames
//! and [`Action`]s out. The browser wiring (`socket.rs`) only moves bytes and runs actions, so
//! the protocol rules are unit-tested natively:
//!
//! - the first frame is a `Resize` with the terminal's real size (the server starts the exec
//!   only then); nothing is sent before the socket is open;
//! - output bytes reach xterm untouched;
//! - unknown frames are skipped, undecodable ones end the session with an error, never a panic;
//! - `Exit`/`Error` are final: the close that follows them is not reported as a disconnect;
//! - flow control (`webshell.v2`): output is acknowledged once xterm has processed it, and
//!   stdin (a large paste included) goes out in chunks within the input window as the server
//!   acknowledges it, so acknowledgements never wait behind a paste. With a `webshell.v1`
//!   server, stdin goes out at once and nothing is acknowledged.

use std::collections::VecDeque;

use webshell_protocol::{
    ACK_EVERY, ClientFrame, DecodeError, ErrorKind, Frame, INPUT_WINDOW, MAX_STDIN_CHUNK,
    ServerFrame, TermSize, Version, close_code,
};

use crate::status::TerminalStatus;

/// What the browser side must do after an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write process output to xterm, byte for byte.
    Write(Vec<u8>),
    /// Write a notice of ours (already formatted with ANSI styling) to xterm.
    Notice(String),
    /// Report a new status to the host.
    Status(TerminalStatus),
    /// The process exited: call the host's `on_exit`.
    Exited {
        /// Exit status.
        code: i32,
        /// Kubernetes' reason.
        reason: String,
    },
    /// Give the terminal keyboard focus.
    Focus,
    /// Close the socket with this code and reason.
    Close(u16, &'static str),
    /// Send these frames (stdin the input window now has room for).
    Send(Vec<Vec<u8>>),
}

/// Protocol state of one session.
#[derive(Debug)]
pub struct Session {
    open: bool,
    finished: bool,
    last_size: Option<(u16, u16)>,
    next_nonce: u64,
    version: Version,
    /// Stdin not yet sent (it waits for room in the input window).
    stdin_queue: VecDeque<u8>,
    /// Stdin sent and not yet acknowledged by the server.
    stdin_in_flight: u32,
    /// Output handed to xterm and not yet processed.
    writes_pending: u32,
    /// Output processed and not yet acknowledged.
    processed: u32,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            open: false,
            finished: false,
            last_size: None,
            next_nonce: 0,
            version: Version::V2,
            stdin_queue: VecDeque::new(),
            stdin_in_flight: 0,
            writes_pending: 0,
            processed: 0,
        }
    }
}

impl Session {
    /// A session whose socket is still connecting.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the session ended (exit, error or close); a host can then reconnect.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// The socket opened with the server's chosen subprotocol: returns the first frame, the
    /// `Resize` with the terminal's size.
    pub fn opened(&mut self, protocol: &str, cols: u32, rows: u32) -> Vec<u8> {
        self.open = true;
        self.version = webshell_protocol::negotiate([protocol]).unwrap_or(Version::V2);
        let size = clamp_size(cols, rows);
        self.last_size = Some(size);
        resize(size)
    }

    /// xterm changed size: a `Resize` frame if the session runs and the size is new.
    pub fn resized(&mut self, cols: u32, rows: u32) -> Option<Vec<u8>> {
        let size = clamp_size(cols, rows);
        if !self.live() || self.last_size == Some(size) {
            return None;
        }
        self.last_size = Some(size);
        Some(resize(size))
    }

    /// xterm `onData`: text typed or pasted, as its UTF-8 bytes: the frames to send now (a
    /// paste beyond the input window waits for the server's acknowledgements).
    pub fn data(&mut self, text: &str) -> Vec<Vec<u8>> {
        self.stdin(text.as_bytes())
    }

    /// xterm `onBinary`: a "binary string" whose char codes are bytes (0–255).
    pub fn binary(&mut self, text: &str) -> Vec<Vec<u8>> {
        // Char codes above 255 cannot occur in a binary string; truncating keeps the
        // function total rather than panicking on a misbehaving caller.
        let bytes: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
        self.stdin(&bytes)
    }

    /// Output was handed to xterm (call before `xterm.write`).
    pub fn writing(&mut self) {
        self.writes_pending += 1;
    }

    /// xterm's write callback: `len` bytes were processed. The `Ack` to send, if it is time:
    /// every [`ACK_EVERY`] bytes, and whenever nothing is left to process, so that a trickle
    /// of small outputs never leaves the server's window waiting.
    pub fn processed(&mut self, len: usize) -> Option<Vec<u8>> {
        self.writes_pending = self.writes_pending.saturating_sub(1);
        if !self.version.flow_control() || !self.live() {
            return None;
        }
        self.processed = self.processed.saturating_add(len as u32);
        if self.processed >= ACK_EVERY || (self.writes_pending == 0 && self.processed > 0) {
            let ack = ClientFrame::Ack(std::mem::take(&mut self.processed));
            return Some(ack.to_bytes());
        }
        None
    }

    /// The keepalive timer fired: the next `Keepalive` frame, while the session runs.
    pub fn keepalive(&mut self) -> Option<Vec<u8>> {
        if !self.live() {
            return None;
        }
        self.next_nonce += 1;
        Some(ClientFrame::Keepalive(self.next_nonce).to_bytes())
    }

    /// A binary message arrived.
    pub fn received(&mut self, bytes: &[u8]) -> Vec<Action> {
        if self.finished {
            return Vec::new();
        }
        match ServerFrame::from_bytes(bytes) {
            Ok(ServerFrame::Hello { command, .. }) => {
                vec![
                    Action::Status(TerminalStatus::Connected { command }),
                    Action::Focus,
                ]
            }
            Ok(ServerFrame::Stdout(b) | ServerFrame::Stderr(b)) => vec![Action::Write(b)],
            Ok(ServerFrame::Exit { code, reason }) => {
                self.finished = true;
                vec![
                    Action::Notice(format!(
                        "\r\n\x1b[2m[process exited with code {code}]\x1b[0m\r\n"
                    )),
                    Action::Status(TerminalStatus::Exited {
                        code,
                        reason: reason.clone(),
                    }),
                    Action::Exited { code, reason },
                ]
            }
            Ok(ServerFrame::Error { kind, message }) => self.fail(kind, message),
            Ok(ServerFrame::Keepalive(_)) => Vec::new(),
            Ok(ServerFrame::StdinAck(n)) => {
                self.stdin_in_flight = self.stdin_in_flight.saturating_sub(n);
                let more = self.flush_stdin();
                if more.is_empty() {
                    Vec::new()
                } else {
                    vec![Action::Send(more)]
                }
            }
            // A newer server's frame: skipping it is how the format stays extensible.
            Err(DecodeError::UnknownFrame(_)) => Vec::new(),
            Err(e) => {
                let mut actions = self.fail(
                    ErrorKind::BadRequest,
                    format!("bad frame from the server: {e}"),
                );
                actions.push(Action::Close(close_code::BAD_FRAME, "bad frame"));
                actions
            }
        }
    }

    /// A text message arrived; the protocol has none, so the server is not speaking it.
    pub fn received_text(&mut self) -> Vec<Action> {
        if self.finished {
            return Vec::new();
        }
        let mut actions = self.fail(
            ErrorKind::BadRequest,
            "unexpected text message from the server".into(),
        );
        actions.push(Action::Close(close_code::BAD_FRAME, "text message"));
        actions
    }

    /// The socket closed. Reported as a disconnect unless an exit or error came first.
    pub fn closed(&mut self, code: u16, reason: &str) -> Vec<Action> {
        self.open = false;
        if std::mem::replace(&mut self.finished, true) {
            return Vec::new();
        }
        let status = TerminalStatus::Disconnected {
            code,
            reason: reason.to_owned(),
        };
        vec![
            Action::Notice(format!(
                "\r\n\x1b[2m[{}]\x1b[0m\r\n",
                sanitize(&status.text())
            )),
            Action::Status(status),
        ]
    }

    fn live(&self) -> bool {
        self.open && !self.finished
    }

    fn stdin(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        if !self.live() || bytes.is_empty() {
            return Vec::new();
        }
        self.stdin_queue.extend(bytes);
        self.flush_stdin()
    }

    /// Frames for queued stdin, in chunks of at most [`MAX_STDIN_CHUNK`], while the input
    /// window has room (v1: all of it).
    fn flush_stdin(&mut self) -> Vec<Vec<u8>> {
        let mut frames = Vec::new();
        while !self.stdin_queue.is_empty() {
            let room = if self.version.flow_control() {
                INPUT_WINDOW.saturating_sub(self.stdin_in_flight) as usize
            } else {
                usize::MAX
            };
            let n = self.stdin_queue.len().min(MAX_STDIN_CHUNK).min(room);
            if n == 0 {
                break;
            }
            let chunk: Vec<u8> = self.stdin_queue.drain(..n).collect();
            self.stdin_in_flight += n as u32;
            frames.push(ClientFrame::Stdin(chunk).to_bytes());
        }
        frames
    }

    /// Bytes typed or pasted that wait for room in the input window.
    pub fn stdin_waiting(&self) -> usize {
        self.stdin_queue.len()
    }

    fn fail(&mut self, kind: ErrorKind, message: String) -> Vec<Action> {
        self.finished = true;
        vec![
            Action::Notice(format!(
                "\r\n\x1b[31m[error: {}]\x1b[0m\r\n",
                sanitize(&message)
            )),
            Action::Status(TerminalStatus::Error { kind, message }),
        ]
    }
}

fn resize(size: (u16, u16)) -> Vec<u8> {
    ClientFrame::Resize(TermSize {
        cols: size.0,
        rows: size.1,
    })
    .to_bytes()
}

/// xterm's size as protocol values: at least one cell, at most `u16::MAX`.
fn clamp_size(cols: u32, rows: u32) -> (u16, u16) {
    let c = |v: u32| v.clamp(1, u32::from(u16::MAX)) as u16;
    (c(cols), c(rows))
}

/// Makes text from the server safe to print inside our notices: control characters (escape
/// sequences could restyle or move the cursor) become spaces, newlines become CRLF.
fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\n' => out.push_str("\r\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> ClientFrame {
        ClientFrame::from_bytes(bytes).expect("client frame")
    }

    fn open_session() -> Session {
        let mut s = Session::new();
        s.opened("webshell.v2", 80, 24);
        s
    }

    fn one(frames: Vec<Vec<u8>>) -> ClientFrame {
        assert_eq!(frames.len(), 1, "{frames:?}");
        decode(&frames[0])
    }

    #[test]
    fn first_frame_is_the_real_size() {
        let mut s = Session::new();
        assert_eq!(
            decode(&s.opened("webshell.v2", 132, 43)),
            ClientFrame::Resize(TermSize {
                cols: 132,
                rows: 43
            })
        );
    }

    #[test]
    fn nothing_is_sent_before_open() {
        let mut s = Session::new();
        assert!(s.data("ls\r").is_empty());
        assert_eq!(s.resized(100, 30), None);
        assert_eq!(s.keepalive(), None);
    }

    #[test]
    fn resize_is_sent_only_when_it_changes() {
        let mut s = open_session();
        assert_eq!(s.resized(80, 24), None);
        assert_eq!(
            decode(&s.resized(0, 70_000).expect("resize")),
            ClientFrame::Resize(TermSize {
                cols: 1,
                rows: u16::MAX
            })
        );
    }

    #[test]
    fn input_is_utf8_and_binary_is_one_byte_per_char() {
        let mut s = open_session();
        assert_eq!(
            one(s.data("ü\r")),
            ClientFrame::Stdin(vec![0xC3, 0xBC, b'\r'])
        );
        let bin: String = ['\x1b', '\u{80}', '\u{ff}'].iter().collect();
        assert_eq!(
            one(s.binary(&bin)),
            ClientFrame::Stdin(vec![0x1b, 0x80, 0xff])
        );
        assert!(s.data("").is_empty());
    }

    #[test]
    fn keepalive_nonces_increase() {
        let mut s = open_session();
        assert_eq!(
            decode(&s.keepalive().expect("k")),
            ClientFrame::Keepalive(1)
        );
        assert_eq!(
            decode(&s.keepalive().expect("k")),
            ClientFrame::Keepalive(2)
        );
    }

    #[test]
    fn hello_connects_and_focuses() {
        let mut s = open_session();
        let hello = ServerFrame::Hello {
            version: 1,
            session_id: "s".into(),
            command: vec!["bash".into()],
        };
        assert_eq!(
            s.received(&hello.to_bytes()),
            vec![
                Action::Status(TerminalStatus::Connected {
                    command: vec!["bash".into()]
                }),
                Action::Focus
            ]
        );
    }

    #[test]
    fn output_bytes_pass_untouched_even_split_utf8() {
        let mut s = open_session();
        let half = vec![0xE2, 0x82];
        assert_eq!(
            s.received(&ServerFrame::Stdout(half.clone()).to_bytes()),
            vec![Action::Write(half)]
        );
        assert_eq!(
            s.received(&ServerFrame::Stderr(vec![0xAC]).to_bytes()),
            vec![Action::Write(vec![0xAC])]
        );
    }

    #[test]
    fn exit_is_final_and_the_following_close_is_not_a_disconnect() {
        let mut s = open_session();
        let actions = s.received(
            &ServerFrame::Exit {
                code: 3,
                reason: "E".into(),
            }
            .to_bytes(),
        );
        assert!(actions.contains(&Action::Status(TerminalStatus::Exited {
            code: 3,
            reason: "E".into()
        })));
        assert!(actions.contains(&Action::Exited {
            code: 3,
            reason: "E".into()
        }));
        assert!(matches!(&actions[0], Action::Notice(n) if n.contains("exited with code 3")));
        assert!(s.finished());
        assert_eq!(s.closed(1000, ""), vec![]);
        assert!(s.data("x").is_empty());
    }

    #[test]
    fn server_error_is_shown_in_red_without_its_control_characters() {
        let mut s = open_session();
        let frame = ServerFrame::Error {
            kind: ErrorKind::NoShell,
            message: "no shell\x1b[2J".into(),
        };
        let actions = s.received(&frame.to_bytes());
        assert_eq!(
            actions[0],
            Action::Notice("\r\n\x1b[31m[error: no shell [2J]\x1b[0m\r\n".into())
        );
        assert_eq!(
            actions[1],
            Action::Status(TerminalStatus::Error {
                kind: ErrorKind::NoShell,
                message: "no shell\x1b[2J".into()
            })
        );
    }

    #[test]
    fn unknown_frames_are_skipped() {
        let mut s = open_session();
        assert_eq!(s.received(&[99]), vec![]);
        assert!(!s.finished());
    }

    #[test]
    fn garbage_ends_the_session_with_an_error_not_a_panic() {
        for garbage in [&[][..], &[1, 200], &[3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]] {
            let mut s = open_session();
            let actions = s.received(garbage);
            assert!(
                matches!(
                    actions.get(1),
                    Some(Action::Status(TerminalStatus::Error {
                        kind: ErrorKind::BadRequest,
                        ..
                    }))
                ),
                "{garbage:?}: {actions:?}"
            );
            assert_eq!(
                actions.last(),
                Some(&Action::Close(close_code::BAD_FRAME, "bad frame"))
            );
        }
        let mut s = open_session();
        assert!(
            s.received_text()
                .contains(&Action::Close(close_code::BAD_FRAME, "text message"))
        );
    }

    #[test]
    fn a_paste_goes_out_in_chunks_within_the_input_window_as_the_server_acknowledges() {
        let mut s = open_session();
        let paste = "x".repeat(1 << 20);
        let first = s.data(&paste);
        let sent: usize = first
            .iter()
            .map(|f| match decode(f) {
                ClientFrame::Stdin(b) => {
                    assert!(b.len() <= MAX_STDIN_CHUNK);
                    b.len()
                }
                other => panic!("{other:?}"),
            })
            .sum();
        assert_eq!(
            sent, INPUT_WINDOW as usize,
            "a window's worth goes out at once"
        );
        assert_eq!(s.stdin_waiting(), (1 << 20) - sent);
        // Keystrokes typed meanwhile queue behind the paste, in order.
        assert!(s.data("y").is_empty());
        let acked = s.received(&ServerFrame::StdinAck(MAX_STDIN_CHUNK as u32).to_bytes());
        match &acked[..] {
            [Action::Send(frames)] => assert_eq!(
                one(frames.clone()),
                ClientFrame::Stdin(vec![b'x'; MAX_STDIN_CHUNK])
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_v1_server_gets_all_stdin_at_once_and_no_acks() {
        let mut s = Session::new();
        s.opened("webshell.v1", 80, 24);
        let frames = s.data(&"x".repeat(1 << 20));
        assert_eq!(frames.len(), (1 << 20) / MAX_STDIN_CHUNK);
        s.writing();
        assert_eq!(s.processed(100_000), None);
    }

    #[test]
    fn output_is_acknowledged_every_64_kib_and_whenever_xterm_is_idle() {
        let mut s = open_session();
        for _ in 0..3 {
            s.writing();
        }
        assert_eq!(s.processed(10), None, "more writes pending, under 64 KiB");
        assert_eq!(
            decode(&s.processed(ACK_EVERY as usize).unwrap()),
            ClientFrame::Ack(ACK_EVERY + 10)
        );
        assert_eq!(
            decode(&s.processed(5).unwrap()),
            ClientFrame::Ack(5),
            "idle: ack the rest"
        );
        assert_eq!(s.processed(0), None, "nothing to ack");
    }

    #[test]
    fn close_without_exit_is_a_disconnect_with_code_and_reason() {
        let mut s = open_session();
        let actions = s.closed(1006, "");
        assert_eq!(
            actions[1],
            Action::Status(TerminalStatus::Disconnected {
                code: 1006,
                reason: String::new()
            })
        );
        assert_eq!(s.closed(1006, ""), vec![]);
    }
}
