//! `use_exec_socket`: connects a ready xterm to the exec WebSocket and runs the session.
//!
//! This is only wiring; the protocol rules live in [`crate::session::Session`].

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Interval;
use js_sys::{Array, ArrayBuffer, Uint8Array};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};
use webshell_protocol::{ErrorKind, close_code};

use super::xterm::{Xterm, XtermState};
use crate::session::{Action, Session};
use crate::status::TerminalStatus;
use crate::xterm::{Dimensions, Disposable};

/// Keepalives keep idle sessions alive through proxies that drop quiet connections
/// (nginx and most load balancers time out after 60 s).
const KEEPALIVE_MS: u32 = 30_000;

/// The host's callbacks; both optional. Callbacks of an unmounted host are skipped.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionEvents {
    /// Every status change.
    pub on_status: Option<Callback<TerminalStatus>>,
    /// The process exited: `(code, reason)`.
    pub on_exit: Option<Callback<(i32, String)>>,
}

impl SessionEvents {
    /// Reports a status change to the host.
    pub fn status(&self, status: TerminalStatus) {
        if let Some(cb) = self.on_status {
            cb.try_run(status);
        }
    }

    fn exit(&self, code: i32, reason: String) {
        if let Some(cb) = self.on_exit {
            cb.try_run((code, reason));
        }
    }
}

/// Once `xterm` is ready, opens a WebSocket to `url` offering `protocols` (see
/// [`crate::auth::socket_protocols`]) and runs one session over it; closes the socket
/// (code 1000) on cleanup. A failed xterm is reported as an error status.
pub fn use_exec_socket(
    xterm: ReadSignal<XtermState, LocalStorage>,
    url: String,
    protocols: Vec<String>,
    events: SessionEvents,
) {
    let live: Rc<RefCell<Option<Live>>> = Rc::default();
    let slot = Rc::clone(&live);
    Effect::new(move |_| match xterm.get() {
        XtermState::Pending => {}
        XtermState::Failed(message) => events.status(TerminalStatus::Error {
            kind: ErrorKind::Other,
            message,
        }),
        XtermState::Ready(x) => {
            if slot.borrow().is_some() {
                return;
            }
            match Live::connect(&url, &protocols, x, events) {
                Ok(l) => *slot.borrow_mut() = Some(l),
                Err(message) => events.status(TerminalStatus::Error {
                    kind: ErrorKind::BadRequest,
                    message,
                }),
            }
        }
    });
    let live = SendWrapper::new(live);
    on_cleanup(move || drop(live.borrow_mut().take()));
}

/// State the event handlers share.
struct Shared {
    socket: WebSocket,
    xterm: Xterm,
    session: RefCell<Session>,
    events: SessionEvents,
}

impl Shared {
    fn send(&self, frame: Option<Vec<u8>>) {
        if let Some(bytes) = frame {
            // `send` copies the bytes synchronously; it only fails on a closed socket, and the
            // session stops producing frames once the socket closes.
            let _ = self.socket.send_with_u8_array(&bytes);
        }
    }

    fn send_all(&self, frames: Vec<Vec<u8>>) {
        for frame in frames {
            self.send(Some(frame));
        }
    }

    /// Hands output to xterm; once xterm has processed it, the session may acknowledge it
    /// (flow control: the server sends more only as output is processed).
    fn write(self: &Rc<Self>, bytes: Vec<u8>) {
        let len = bytes.len();
        self.session.borrow_mut().writing();
        let shared = Rc::downgrade(self);
        let done = Closure::once_into_js(move || {
            if let Some(s) = shared.upgrade() {
                let ack = s.session.borrow_mut().processed(len);
                s.send(ack);
            }
        });
        // A JS-owned copy: xterm parses asynchronously and keeps the array until then.
        self.xterm
            .term
            .write_bytes_then(&Uint8Array::from(bytes.as_slice()), done.unchecked_ref());
    }

    /// Runs actions; the session is not borrowed here, so host callbacks may do anything.
    fn run(self: &Rc<Self>, actions: Vec<Action>) {
        let term = &self.xterm.term;
        for action in actions {
            match action {
                Action::Write(bytes) => self.write(bytes),
                Action::Send(frames) => self.send_all(frames),
                Action::Notice(text) => term.write_str(&text),
                Action::Status(status) => self.events.status(status),
                Action::Exited { code, reason } => self.events.exit(code, reason),
                Action::Focus => term.focus(),
                Action::Close(code, reason) => {
                    let _ = self.socket.close_with_code_and_reason(code, reason);
                }
            }
        }
    }

    fn on_open(&self) {
        // Fit once more: layout may have settled since the terminal was opened. The resize
        // this may fire is dropped (the session is not open yet); `opened` sends the final size.
        self.xterm.fit.fit();
        let (cols, rows) = (self.xterm.term.cols(), self.xterm.term.rows());
        let protocol = self.socket.protocol();
        let first = self.session.borrow_mut().opened(&protocol, cols, rows);
        self.send(Some(first));
    }

    fn on_message(self: &Rc<Self>, event: MessageEvent) {
        let data = event.data();
        let actions = match data.dyn_ref::<ArrayBuffer>() {
            Some(buf) => self
                .session
                .borrow_mut()
                .received(&Uint8Array::new(buf).to_vec()),
            None => self.session.borrow_mut().received_text(),
        };
        self.run(actions);
    }
}

/// The socket's event handlers; JS calls them until `Live` detaches them on drop.
struct SocketHandlers {
    _open: Closure<dyn FnMut()>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
}

/// A connected session: the socket, its handlers and the xterm subscriptions. Dropping it
/// detaches everything and closes the socket.
struct Live {
    shared: Rc<Shared>,
    subscriptions: Vec<Disposable>,
    _socket_handlers: SocketHandlers,
    _input_handlers: [Closure<dyn FnMut(String)>; 2],
    _on_resize: Closure<dyn FnMut(Dimensions)>,
    _keepalive: Interval,
}

impl Live {
    fn connect(
        url: &str,
        protocols: &[String],
        xterm: Xterm,
        events: SessionEvents,
    ) -> Result<Live, String> {
        let offered: Array = protocols.iter().map(|p| JsValue::from_str(p)).collect();
        // The error names the URL only: the protocols may carry the access token.
        let socket = WebSocket::new_with_str_sequence(url, &offered)
            .map_err(|_| format!("invalid terminal URL {url}"))?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        let shared = Rc::new(Shared {
            socket: socket.clone(),
            xterm: xterm.clone(),
            session: RefCell::new(Session::new()),
            events,
        });

        let s = Rc::clone(&shared);
        let on_open = Closure::<dyn FnMut()>::new(move || s.on_open());
        let s = Rc::clone(&shared);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e| s.on_message(e));
        let s = Rc::clone(&shared);
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            let actions = s.session.borrow_mut().closed(e.code(), &e.reason());
            s.run(actions);
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // No onerror: the browser always follows an error with a close event, which carries
        // the code; the error event itself carries nothing useful.

        let s = Rc::clone(&shared);
        let ctrl = xterm.ctrl;
        let on_data = Closure::<dyn FnMut(String)>::new(move |text: String| {
            let text = ctrl.apply(text);
            let frames = s.session.borrow_mut().data(&text);
            s.send_all(frames);
        });
        let s = Rc::clone(&shared);
        let on_binary = Closure::<dyn FnMut(String)>::new(move |text: String| {
            let frames = s.session.borrow_mut().binary(&text);
            s.send_all(frames);
        });
        let s = Rc::clone(&shared);
        let on_resize = Closure::<dyn FnMut(Dimensions)>::new(move |d: Dimensions| {
            // xterm reports whole numbers; `as` saturates anything odd into range.
            let frame = s
                .session
                .borrow_mut()
                .resized(d.cols() as u32, d.rows() as u32);
            s.send(frame);
        });
        let term = &xterm.term;
        let subscriptions = vec![
            term.on_data(on_data.as_ref().unchecked_ref()),
            term.on_binary(on_binary.as_ref().unchecked_ref()),
            term.on_resize(on_resize.as_ref().unchecked_ref()),
        ];

        let s = Rc::clone(&shared);
        let keepalive = Interval::new(KEEPALIVE_MS, move || {
            let frame = s.session.borrow_mut().keepalive();
            s.send(frame);
        });

        Ok(Live {
            shared,
            subscriptions,
            _socket_handlers: SocketHandlers {
                _open: on_open,
                _message: on_message,
                _close: on_close,
            },
            _input_handlers: [on_data, on_binary],
            _on_resize: on_resize,
            _keepalive: keepalive,
        })
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let socket = &self.shared.socket;
        // Detach first: the handlers are freed with `self`, and the close below must not be
        // reported to a host that is going away.
        socket.set_onopen(None);
        socket.set_onmessage(None);
        socket.set_onclose(None);
        if matches!(
            socket.ready_state(),
            WebSocket::CONNECTING | WebSocket::OPEN
        ) {
            let _ = socket.close_with_code_and_reason(close_code::NORMAL, "terminal closed");
        }
        for subscription in &self.subscriptions {
            subscription.dispose();
        }
    }
}
