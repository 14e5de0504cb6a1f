//! The server against the real test cluster: REST statuses and terminal sessions end to end,
//! driven by a WebSocket client speaking the protocol. Needs `e2e/cluster/cluster.sh up`.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use webshell::security::Security;
use webshell::site::Site;
use webshell::{AppState, kube_client};
use webshell_protocol::rest::{ApiError, Namespace, Pod};
use webshell_protocol::{ClientFrame, ErrorKind, Frame, SUBPROTOCOL, ServerFrame, close_code};

const T: Duration = Duration::from_secs(10);

/// A server on a free port, acting as `user` of the test cluster; returns its base URL.
async fn server_as(user: &str) -> String {
    server_with(user, Security::default()).await
}

async fn server_with(user: &str, security: Security) -> String {
    let kubeconfig = testcluster::kubeconfig_path();
    let client = kube_client(Some(&kubeconfig), Some(user.into()))
        .await
        .expect("test cluster is up");
    start(client, security).await
}

/// Serves on a free loopback port; returns `127.0.0.1:port`.
async fn start(client: kube::Client, security: Security) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState {
        client,
        site: Arc::new(Site::new(addr, false, &[], &[]).unwrap()),
        security: Arc::new(security),
        session: Default::default(),
    };
    tokio::spawn(webshell::serve(listener, state, std::future::pending()));
    format!("127.0.0.1:{}", addr.port())
}

async fn get(url: String) -> (u16, String) {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap();
    raw_get(host, &format!("/{path}"), &[("Host", host)]).await
}

/// A bare HTTP/1.1 GET to `addr` with exactly the given headers (so tests can send any Host
/// and Origin); keeps the dev-dependencies to the WebSocket client alone.
async fn raw_get(addr: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(base: &str, path: &str, protocols: Option<&str>) -> Result<Socket, WsError> {
    let mut request = format!("ws://{base}{path}").into_client_request()?;
    if let Some(p) = protocols {
        request
            .headers_mut()
            .insert("sec-websocket-protocol", p.parse().unwrap());
    }
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

/// A terminal session as the browser sees it.
struct Term {
    socket: Socket,
    output: Vec<u8>,
}

impl Term {
    async fn open(base: &str, pod: &str, container: &str, query: &str) -> Term {
        let path = format!(
            "{}{query}",
            webshell_protocol::rest::exec_path("demo", pod, container)
        );
        let socket = connect(base, &path, Some(SUBPROTOCOL))
            .await
            .expect("upgrade");
        let mut term = Term {
            socket,
            output: Vec::new(),
        };
        term.send(ClientFrame::Resize {
            cols: 100,
            rows: 30,
        })
        .await;
        term
    }

    async fn send(&mut self, frame: ClientFrame) {
        self.socket
            .send(Message::Binary(frame.to_bytes().into()))
            .await
            .unwrap();
    }

    async fn type_text(&mut self, text: &str) {
        self.send(ClientFrame::Stdin(text.as_bytes().to_vec()))
            .await;
    }

    /// Next server frame; output is also collected. `None` once the socket closed.
    async fn frame(&mut self) -> Option<ServerFrame> {
        loop {
            match tokio::time::timeout(T, self.socket.next())
                .await
                .expect("server silent for 10 s")?
            {
                Ok(Message::Binary(bytes)) => {
                    let frame = ServerFrame::from_bytes(&bytes).expect("valid frame");
                    if let ServerFrame::Stdout(b) | ServerFrame::Stderr(b) = &frame {
                        self.output.extend_from_slice(b);
                    }
                    return Some(frame);
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    async fn hello(&mut self) -> Vec<String> {
        match self.frame().await {
            Some(ServerFrame::Hello { command, .. }) => command,
            other => panic!("expected Hello, got {other:?}"),
        }
    }

    async fn until_output(&mut self, needle: &str) {
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
    async fn until_close(&mut self) -> (Vec<ServerFrame>, u16, String) {
        let mut frames = Vec::new();
        loop {
            match tokio::time::timeout(T, self.socket.next())
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
}

#[tokio::test]
async fn namespaces_and_pods_are_listed_with_status() {
    let base = server_as("admin").await;
    let (status, body) = get(format!("http://{base}/api/namespaces")).await;
    assert_eq!(status, 200);
    let namespaces: Vec<Namespace> = serde_json::from_str(&body).unwrap();
    assert!(namespaces.iter().any(|n| n.name == "demo"), "{body}");

    let (status, body) = get(format!("http://{base}/api/namespaces/demo/pods")).await;
    assert_eq!(status, 200);
    let pods: Vec<Pod> = serde_json::from_str(&body).unwrap();
    let multi = pods
        .iter()
        .find(|p| p.name == "multi-pod")
        .expect("multi-pod listed");
    assert_eq!(multi.phase, "Running");
    assert!(multi.ready);
    let names: Vec<_> = multi.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["main", "sidecar"]);
}

#[tokio::test]
async fn an_unknown_namespace_is_404_and_an_invalid_name_is_400() {
    let base = server_as("admin").await;
    let (status, body) = get(format!("http://{base}/api/namespaces/no-such-ns/pods")).await;
    assert_eq!(status, 404);
    let error: ApiError = serde_json::from_str(&body).unwrap();
    assert_eq!(error.reason, "NotFound");
    let (status, _) = get(format!("http://{base}/api/namespaces/Bad_Name/pods")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn rbac_refusals_pass_through_as_403() {
    let base = server_as("bob").await;
    let (status, body) = get(format!("http://{base}/api/namespaces/kube-system/pods")).await;
    assert_eq!(status, 403, "{body}");
    let error: ApiError = serde_json::from_str(&body).unwrap();
    assert_eq!(error.reason, "Forbidden");
}

#[tokio::test]
async fn an_unreachable_apiserver_is_502() {
    // A client for an API server on a port nothing listens on.
    let mut config = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
    config.connect_timeout = Some(Duration::from_secs(2));
    let client = kube::Client::try_from(config).unwrap();
    let base = start(client, Security::default()).await;
    let (status, body) = get(format!("http://{base}/api/namespaces")).await;
    assert_eq!(status, 502, "{body}");
    assert!(
        !body.contains("127.0.0.1:1"),
        "internal detail leaked: {body}"
    );
}

#[tokio::test]
async fn bash_pod_gets_bash_and_runs_what_is_typed() {
    let base = server_as("admin").await;
    let mut term = Term::open(&base, "bash-pod", "main", "").await;
    assert_eq!(term.hello().await, ["bash"]);
    term.type_text("echo $((6*7))\r").await;
    term.until_output("42").await;
}

#[tokio::test]
async fn the_first_prompt_already_has_the_browsers_size() {
    let base = server_as("admin").await;
    let mut term = Term::open(&base, "bash-pod", "main", "").await;
    term.hello().await;
    term.type_text("stty size\r").await;
    term.until_output("30 100").await;
}

#[tokio::test]
async fn sh_pod_falls_back_to_sh() {
    let base = server_as("admin").await;
    let mut term = Term::open(&base, "sh-pod", "main", "").await;
    assert_eq!(term.hello().await, ["sh"]);
    term.type_text("echo fallback-$((1+1))\r").await;
    term.until_output("fallback-2").await;
}

#[tokio::test]
async fn distroless_pod_gets_a_clear_no_shell_error() {
    let base = server_as("admin").await;
    let mut term = Term::open(&base, "distroless-pod", "main", "").await;
    let (frames, code, _) = term.until_close().await;
    match frames.last() {
        Some(ServerFrame::Error {
            kind: ErrorKind::NoShell,
            message,
        }) => {
            assert!(message.contains("container main"), "{message}");
            assert!(message.contains("debug"), "{message}");
        }
        other => panic!("expected a NoShell error, got {other:?}"),
    }
    assert_eq!(code, close_code::EXEC_FAILED);
}

#[tokio::test]
async fn exit_3_is_reported_as_exit_code_3_then_a_normal_close() {
    let base = server_as("admin").await;
    let mut term = Term::open(&base, "bash-pod", "main", "").await;
    term.hello().await;
    term.type_text("exit 3\r").await;
    let (frames, code, _) = term.until_close().await;
    assert!(
        frames.contains(&ServerFrame::Exit {
            code: 3,
            reason: "NonZeroExitCode".into()
        }),
        "{frames:?}"
    );
    assert_eq!(code, close_code::NORMAL);
}

#[tokio::test]
async fn a_command_without_tty_keeps_stderr_apart() {
    let base = server_as("admin").await;
    let query = "?command=sh&command=-c&command=echo%20out;%20echo%20err%20%3E%262&tty=false";
    let mut term = Term::open(&base, "multi-pod", "sidecar", query).await;
    assert_eq!(term.hello().await, ["sh", "-c", "echo out; echo err >&2"]);
    let (frames, _, _) = term.until_close().await;
    assert!(
        frames.contains(&ServerFrame::Stdout(b"out\n".to_vec())),
        "{frames:?}"
    );
    assert!(
        frames.contains(&ServerFrame::Stderr(b"err\n".to_vec())),
        "{frames:?}"
    );
    assert!(frames.contains(&ServerFrame::Exit {
        code: 0,
        reason: "Completed".into()
    }));
}

#[tokio::test]
async fn a_missing_pod_or_container_is_not_found() {
    let base = server_as("admin").await;
    let mut term = Term::open(&base, "no-such-pod", "main", "").await;
    let (frames, code, _) = term.until_close().await;
    assert!(
        matches!(
            frames.last(),
            Some(ServerFrame::Error {
                kind: ErrorKind::NotFound,
                ..
            })
        ),
        "{frames:?}"
    );
    assert_eq!(code, close_code::NOT_FOUND);

    let mut term = Term::open(&base, "multi-pod", "nope", "").await;
    let (frames, code, _) = term.until_close().await;
    match frames.last() {
        Some(ServerFrame::Error {
            kind: ErrorKind::NotFound,
            message,
        }) => {
            assert!(message.contains("main, sidecar"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(code, close_code::NOT_FOUND);
}

#[tokio::test]
async fn bob_cannot_open_a_terminal() {
    let base = server_as("bob").await;
    let mut term = Term::open(&base, "bash-pod", "main", "").await;
    let (frames, code, _) = term.until_close().await;
    assert!(
        matches!(
            frames.last(),
            Some(ServerFrame::Error {
                kind: ErrorKind::Forbidden,
                ..
            })
        ),
        "{frames:?}"
    );
    assert_eq!(code, close_code::FORBIDDEN);
}

#[tokio::test]
async fn a_client_without_the_subprotocol_is_refused_with_a_reason() {
    let base = server_as("admin").await;
    let path = webshell_protocol::rest::exec_path("demo", "bash-pod", "main");
    for offered in [None, Some("webshell.v0")] {
        let mut socket = connect(&base, &path, offered)
            .await
            .expect("upgrade then close");
        match socket.next().await {
            Some(Ok(Message::Close(Some(c)))) => {
                assert_eq!(c.code, CloseCode::from(close_code::UNSUPPORTED_SUBPROTOCOL));
                assert!(c.reason.contains(SUBPROTOCOL));
            }
            other => panic!("expected a close, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_rebound_name_is_refused_on_rest_and_socket_while_loopback_names_work() {
    let base = server_as("admin").await;
    let port = base.rsplit(':').next().unwrap();
    let evil = format!("evil.example:{port}");
    let evil_origin = format!("http://{evil}");
    let (status, body) = raw_get(
        &base,
        "/api/namespaces",
        &[("Host", &evil), ("Origin", &evil_origin)],
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("--public-url"), "{body}");
    let (status, _) = raw_get(&base, "/api/namespaces", &[("Host", &evil)]).await;
    assert_eq!(status, 403);

    let path = webshell_protocol::rest::exec_path("demo", "bash-pod", "main");
    let mut request = format!("ws://{base}{path}").into_client_request().unwrap();
    let headers = request.headers_mut();
    headers.insert("host", evil.parse().unwrap());
    headers.insert("origin", evil_origin.parse().unwrap());
    headers.insert("sec-websocket-protocol", SUBPROTOCOL.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }

    for name in ["127.0.0.1", "localhost", "[::1]"] {
        let host = format!("{name}:{port}");
        let origin = format!("http://{host}");
        let (status, body) = raw_get(
            &base,
            "/api/namespaces",
            &[("Host", &host), ("Origin", &origin)],
        )
        .await;
        assert_eq!(status, 200, "{host}: {body}");
        let mut request = format!("ws://{base}{path}").into_client_request().unwrap();
        let headers = request.headers_mut();
        headers.insert("host", host.parse().unwrap());
        headers.insert("origin", origin.parse().unwrap());
        headers.insert("sec-websocket-protocol", SUBPROTOCOL.parse().unwrap());
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .unwrap_or_else(|e| panic!("{host}: {e}"));
        assert_eq!(response.status(), 101, "{host}");
        let mut term = Term {
            socket,
            output: Vec::new(),
        };
        term.send(ClientFrame::Resize { cols: 80, rows: 24 }).await;
        assert_eq!(term.hello().await, ["bash"], "{host}");
    }
}

#[tokio::test]
async fn a_cross_site_origin_is_refused_on_rest_and_socket() {
    let base = server_as("admin").await;
    let (status, body) = raw_get(
        &base,
        "/api/namespaces",
        &[("Host", &base), ("Origin", "https://evil.example")],
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("--allowed-origin"), "{body}");
    let path = webshell_protocol::rest::exec_path("demo", "bash-pod", "main");
    let mut request = format!("ws://{base}{path}").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", SUBPROTOCOL.parse().unwrap());
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn the_api_requires_the_access_token_when_one_is_configured() {
    let security = Security {
        access_token: Some("t0ken".into()),
    };
    let base = server_with("admin", security).await;
    let (status, _) = get(format!("http://{base}/api/namespaces")).await;
    assert_eq!(status, 401);
    let path = webshell_protocol::rest::exec_path("demo", "bash-pod", "main");
    let offered = format!("{SUBPROTOCOL}, webshell.bearer.dDBrZW4"); // base64url("t0ken")
    let socket = connect(&base, &path, Some(&offered))
        .await
        .expect("token accepted");
    let mut term = Term {
        socket,
        output: Vec::new(),
    };
    term.send(ClientFrame::Resize { cols: 80, rows: 24 }).await;
    assert_eq!(term.hello().await, ["bash"]);
}

#[tokio::test]
async fn when_the_browser_goes_away_the_remote_process_ends_within_2s() {
    let base = server_as("admin").await;
    let mut term = Term::open(&base, "bash-pod", "main", "").await;
    term.hello().await;
    // Quoted so that the echoed command line does not itself contain "pid=".
    term.type_text("echo \"p\"\"id=$$.\"\r").await;
    term.until_output("pid=").await;
    while !String::from_utf8_lossy(&term.output)
        .rsplit("pid=")
        .next()
        .unwrap()
        .contains('.')
    {
        term.frame().await.expect("open");
    }
    let text = String::from_utf8_lossy(&term.output).into_owned();
    let pid: String = text
        .rsplit("pid=")
        .next()
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(!pid.is_empty(), "{text}");
    let pods = testcluster::demo_pods("admin").await.unwrap();
    assert!(
        testcluster::is_alive(&pods, "bash-pod", &pid)
            .await
            .unwrap(),
        "check must see it alive"
    );
    drop(term); // the TCP connection drops without a close handshake, like a killed tab

    let took = testcluster::wait_gone(&pods, "bash-pod", &pid, Duration::from_secs(2))
        .await
        .unwrap();
    println!("shell {pid} gone {took:?} after the browser went away");
}
