//! A webshell server on a free loopback port, and clients that talk to it the way a browser
//! or a host app does: signed in (cookie, bearer token or proxy headers) or not.
#![allow(dead_code)] // each test crate uses a different part

use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use webshell::audit::AuditSink;
use webshell::auth::AuthSettings;
use webshell::{AppState, Settings};
use webshell_protocol::{ClientFrame, Frame, SUBPROTOCOL, ServerFrame};

/// How long a test waits for the server before failing.
pub const T: Duration = Duration::from_secs(10);

/// What a client presents with every request.
#[derive(Debug, Clone, Default)]
pub struct Presented {
    /// Extra headers (Cookie, Authorization, X-Forwarded-User, Origin, …).
    pub headers: Vec<(String, String)>,
}

impl Presented {
    /// With the session cookie `name=value`.
    pub fn cookie(pair: &str) -> Presented {
        Presented {
            headers: vec![("cookie".into(), pair.into())],
        }
    }

    /// With `Authorization: Bearer token`.
    pub fn bearer(token: &str) -> Presented {
        Presented {
            headers: vec![("authorization".into(), format!("Bearer {token}"))],
        }
    }
}

/// A running server.
pub struct Server {
    /// `127.0.0.1:port`.
    pub addr: String,
    /// Its state (for the launch secret).
    pub state: AppState,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: String,
}

impl Answer {
    /// The first header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `name=value` of the `Set-Cookie` header, if any.
    pub fn cookie(&self) -> Option<String> {
        self.header("set-cookie")
            .map(|c| c.split(';').next().unwrap_or_default().to_owned())
    }
}

impl Server {
    /// A server in `local` mode acting as the test cluster's `user`.
    pub async fn local(user: &str) -> Server {
        Server::start(user, |_| {}).await
    }

    /// A server whose settings `change` adjusts, acting with `user`'s kubeconfig context.
    pub async fn start(user: &str, change: impl FnOnce(&mut Settings)) -> Server {
        let kube = testcluster::kube_config(user)
            .await
            .expect("the test cluster is up (e2e/cluster/cluster.sh up)");
        Server::with_kube(kube, change).await
    }

    /// A server for any API server configuration.
    pub async fn with_kube(
        kube: (kube::Config, String),
        change: impl FnOnce(&mut Settings),
    ) -> Server {
        // RUST_LOG=debug shows the server's log with a test's output.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut settings = Settings::local(addr, kube);
        settings.audit = AuditSink::Off;
        change(&mut settings);
        let state = AppState::build(settings).await.expect("valid settings");
        tokio::spawn(webshell::serve(
            listener,
            state.clone(),
            std::future::pending(),
        ));
        Server {
            addr: addr.to_string(),
            state,
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.parse::<SocketAddr>().unwrap().port()
    }

    /// `local` mode: visits the printed URL, as a person would, and returns the cookie.
    pub async fn sign_in_locally(&self) -> Presented {
        let secret = self.state.auth.launch_secret().expect("local mode");
        let answer = self
            .get(&format!("/?secret={secret}"), &Presented::default())
            .await;
        assert_eq!(answer.status, 303, "{answer:?}");
        Presented::cookie(&answer.cookie().expect("the visit sets the session cookie"))
    }

    /// A GET with exactly the Host of this server plus `presented`'s headers.
    pub async fn get(&self, path: &str, presented: &Presented) -> Answer {
        self.request("GET", path, presented, None).await
    }

    /// A request over a bare HTTP/1.1 connection, so tests control every header (Host
    /// included, unless `presented` sets one).
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        presented: &Presented,
        json: Option<&str>,
    ) -> Answer {
        self.request_from(None, method, path, presented, json).await
    }

    /// The same, from a chosen local address (`127.0.0.2` is another host to the server).
    pub async fn request_from(
        &self,
        local: Option<&str>,
        method: &str,
        path: &str,
        presented: &Presented,
        json: Option<&str>,
    ) -> Answer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = match local {
            Some(ip) => {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket
                    .bind(format!("{ip}:0").parse().unwrap())
                    .expect("bind the local address");
                socket.connect(self.addr.parse().unwrap()).await.unwrap()
            }
            None => tokio::net::TcpStream::connect(&self.addr).await.unwrap(),
        };
        let mut request = format!("{method} {path} HTTP/1.1\r\n");
        if !presented
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("host"))
        {
            request.push_str(&format!("host: {}\r\n", self.addr));
        }
        for (name, value) in &presented.headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = json {
            request.push_str(&format!(
                "content-type: application/json\r\ncontent-length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("connection: close\r\n\r\n");
        if let Some(body) = json {
            request.push_str(body);
        }
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        tokio::time::timeout(T, stream.read_to_end(&mut response))
            .await
            .expect("the server answered within 10 s")
            .unwrap();
        let text = String::from_utf8_lossy(&response).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines.next().unwrap_or_default()[9..12].parse().unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_owned()))
            .collect();
        // Chunked bodies: good enough for the small JSON answers tests read.
        let body = if head.to_lowercase().contains("transfer-encoding: chunked") {
            dechunk(body)
        } else {
            body.to_owned()
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Opens a terminal socket offering `protocols`, presenting `presented`.
    pub async fn connect(
        &self,
        path: &str,
        protocols: Option<&str>,
        presented: &Presented,
    ) -> Result<Socket, WsError> {
        let mut request = format!("ws://{}{path}", self.addr)
            .into_client_request()
            .unwrap();
        if let Some(p) = protocols {
            request
                .headers_mut()
                .insert("sec-websocket-protocol", p.parse().unwrap());
        }
        for (name, value) in &presented.headers {
            let name: axum::http::HeaderName = name.parse().unwrap();
            request.headers_mut().insert(name, value.parse().unwrap());
        }
        Ok(
            tokio_tungstenite::connect_async_with_config(request, None, true)
                .await?
                .0,
        )
    }

    /// Opens a terminal into a demo pod and sends the first size (100×30).
    pub async fn term(
        &self,
        pod: &str,
        container: &str,
        query: &str,
        presented: &Presented,
    ) -> Term {
        let path = format!(
            "{}{query}",
            webshell_protocol::rest::exec_path("demo", pod, container)
        );
        self.open_term(&path, SUBPROTOCOL, presented).await
    }

    /// Opens a terminal socket offering `protocols` and sends the first size (100×30).
    pub async fn open_term(&self, path: &str, protocols: &str, presented: &Presented) -> Term {
        let socket = self
            .connect(path, Some(protocols), presented)
            .await
            .expect("upgrade");
        let mut term = Term {
            socket,
            output: Vec::new(),
            exit: None,
        };
        term.send(ClientFrame::Resize(webshell_protocol::TermSize {
            cols: 100,
            rows: 30,
        }))
        .await;
        term
    }
}

/// The headers of a WebSocket upgrade offering the protocol, added to `p`: for checking what
/// a server answers an upgrade with, before any WebSocket client gets involved.
pub fn with_upgrade(mut p: Presented) -> Presented {
    for (name, value) in [
        ("upgrade", "websocket"),
        ("connection", "upgrade"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("sec-websocket-protocol", SUBPROTOCOL),
    ] {
        p.headers.push((name.into(), value.into()));
    }
    p
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// A client socket.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A terminal session as the browser sees it.
pub struct Term {
    /// The socket.
    pub socket: Socket,
    /// Everything printed so far.
    pub output: Vec<u8>,
    /// The process's exit code, once an `Exit` frame came.
    pub exit: Option<i32>,
}

impl Term {
    /// Sends a frame.
    /// Sends a frame; a socket the server closed shows when reading (with its reason).
    pub async fn send(&mut self, frame: ClientFrame) {
        let _ = self
            .socket
            .send(Message::Binary(frame.to_bytes().into()))
            .await;
    }

    /// Types text.
    pub async fn type_text(&mut self, text: &str) {
        self.send(ClientFrame::Stdin(text.as_bytes().to_vec()))
            .await;
    }

    /// Next server frame; output is also collected. `None` once the socket closed.
    pub async fn frame(&mut self) -> Option<ServerFrame> {
        loop {
            match tokio::time::timeout(T, self.socket.next())
                .await
                .expect("server silent for 10 s")?
            {
                Ok(Message::Binary(bytes)) => {
                    let frame = ServerFrame::from_bytes(&bytes).expect("valid frame");
                    if let ServerFrame::Exit { code, .. } = &frame {
                        self.exit = Some(*code);
                    }
                    if let ServerFrame::Stdout(b) | ServerFrame::Stderr(b) = &frame {
                        self.output.extend_from_slice(b);
                        // Like the browser: rendered at once, acknowledged at once (v2).
                        self.send(ClientFrame::Ack(b.len() as u32)).await;
                    }
                    return Some(frame);
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Streams `input` to the process the way the browser does (chunks of at most 64 KiB,
    /// never more than the input window unacknowledged) while reading and acknowledging
    /// output, until `done` says the output is complete. Fails if nothing arrives for 10 s.
    pub async fn pump(&mut self, input: &[u8], done: impl Fn(&[u8]) -> bool) {
        use webshell_protocol::{INPUT_WINDOW, MAX_STDIN_CHUNK};
        let (mut sent, mut in_flight) = (0usize, 0u32);
        while !done(&self.output) {
            while sent < input.len() && in_flight < INPUT_WINDOW {
                let end = (sent + MAX_STDIN_CHUNK).min(input.len());
                self.send(ClientFrame::Stdin(input[sent..end].to_vec()))
                    .await;
                in_flight += (end - sent) as u32;
                sent = end;
            }
            match self.frame().await {
                Some(ServerFrame::StdinAck(n)) => in_flight -= n,
                Some(_) => {}
                None => panic!(
                    "closed after {} of {} bytes sent, {} bytes back, ending {:?}",
                    sent,
                    input.len(),
                    self.output.len(),
                    String::from_utf8_lossy(&self.output[self.output.len().saturating_sub(200)..])
                ),
            }
        }
    }

    /// The `Hello`'s command.
    pub async fn hello(&mut self) -> Vec<String> {
        match self.frame().await {
            Some(ServerFrame::Hello { command, .. }) => command,
            other => panic!("expected Hello, got {other:?}"),
        }
    }

    /// Reads until the output contains `needle`.
    pub async fn until_output(&mut self, needle: &str) {
        while !String::from_utf8_lossy(&self.output).contains(needle) {
            if self.frame().await.is_none() {
                panic!(
                    "closed before {needle:?}; output {:?}",
                    String::from_utf8_lossy(&self.output)
                );
            }
        }
    }

    /// Frames until the close, and the close frame's code and reason.
    pub async fn until_close(&mut self) -> (Vec<ServerFrame>, u16, String) {
        until_close(&mut self.socket).await
    }
}

/// Frames until the close, and the close frame's code and reason.
pub async fn until_close(socket: &mut Socket) -> (Vec<ServerFrame>, u16, String) {
    let mut frames = Vec::new();
    loop {
        match tokio::time::timeout(T, socket.next())
            .await
            .expect("no close within 10 s")
        {
            Some(Ok(Message::Binary(bytes))) => {
                frames.push(ServerFrame::from_bytes(&bytes).unwrap())
            }
            Some(Ok(Message::Close(Some(c)))) => {
                return (frames, c.code.into(), c.reason.to_string());
            }
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => {
                return (frames, 1005, String::new());
            }
            Some(Ok(_)) => {}
        }
    }
}

/// Token mode settings.
pub fn token_mode(settings: &mut Settings) {
    settings.auth = AuthSettings::Token;
}
