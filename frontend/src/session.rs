//! The client side of one terminal session as a pure state machine: events in, encoded frames
//! and [`Action`]s out. The browser wiring (`socket.rs`) only moves bytes and runs actions, so
//! the protocol rules are unit-tested natively:
//!
//! - the first frame is a `Resize` with the terminal's real size (the server starts the exec
//!   only then); nothing is sent before the socket is open;
//! - output bytes reach xterm untouched;
//! - unknown frames are skipped, undecodable ones end the session with an error, never a panic;
//! - `Exit`/`Error` are final: the close that follows them is not reported as a disconnect.

use webshell_protocol::{ClientFrame, DecodeError, ErrorKind, Frame, ServerFrame, close_code};

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
}

/// Protocol state of one session.
#[derive(Debug, Default)]
pub struct Session {
    open: bool,
    finished: bool,
    last_size: Option<(u16, u16)>,
    next_nonce: u64,
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

    /// The socket opened: returns the first frame, the `Resize` with the terminal's size.
    pub fn opened(&mut self, cols: u32, rows: u32) -> Vec<u8> {
        self.open = true;
        let size = clamp_size(cols, rows);
        self.last_size = Some(size);
        ClientFrame::Resize {
            cols: size.0,
            rows: size.1,
        }
        .to_bytes()
    }

    /// xterm changed size: a `Resize` frame if the session runs and the size is new.
    pub fn resized(&mut self, cols: u32, rows: u32) -> Option<Vec<u8>> {
        let size = clamp_size(cols, rows);
        if !self.live() || self.last_size == Some(size) {
            return None;
        }
        self.last_size = Some(size);
        Some(
            ClientFrame::Resize {
                cols: size.0,
                rows: size.1,
            }
            .to_bytes(),
        )
    }

    /// xterm `onData`: text typed or pasted, sent as its UTF-8 bytes.
    pub fn data(&self, text: &str) -> Option<Vec<u8>> {
        self.stdin(text.as_bytes().to_vec())
    }

    /// xterm `onBinary`: a "binary string" whose char codes are bytes (0–255).
    pub fn binary(&self, text: &str) -> Option<Vec<u8>> {
        // Char codes above 255 cannot occur in a binary string; truncating keeps the
        // function total rather than panicking on a misbehaving caller.
        self.stdin(text.chars().map(|c| c as u32 as u8).collect())
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

    fn stdin(&self, bytes: Vec<u8>) -> Option<Vec<u8>> {
        (self.live() && !bytes.is_empty()).then(|| ClientFrame::Stdin(bytes).to_bytes())
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
        s.opened(80, 24);
        s
    }

    #[test]
    fn first_frame_is_the_real_size() {
        let mut s = Session::new();
        assert_eq!(
            decode(&s.opened(132, 43)),
            ClientFrame::Resize {
                cols: 132,
                rows: 43
            }
        );
    }

    #[test]
    fn nothing_is_sent_before_open() {
        let mut s = Session::new();
        assert_eq!(s.data("ls\r"), None);
        assert_eq!(s.resized(100, 30), None);
        assert_eq!(s.keepalive(), None);
    }

    #[test]
    fn resize_is_sent_only_when_it_changes() {
        let mut s = open_session();
        assert_eq!(s.resized(80, 24), None);
        assert_eq!(
            decode(&s.resized(0, 70_000).expect("resize")),
            ClientFrame::Resize {
                cols: 1,
                rows: u16::MAX
            }
        );
    }

    #[test]
    fn input_is_utf8_and_binary_is_one_byte_per_char() {
        let s = open_session();
        assert_eq!(
            decode(&s.data("ü\r").expect("data")),
            ClientFrame::Stdin(vec![0xC3, 0xBC, b'\r'])
        );
        let bin: String = ['\x1b', '\u{80}', '\u{ff}'].iter().collect();
        assert_eq!(
            decode(&s.binary(&bin).expect("binary")),
            ClientFrame::Stdin(vec![0x1b, 0x80, 0xff])
        );
        assert_eq!(s.data(""), None);
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
        assert_eq!(s.data("x"), None);
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
