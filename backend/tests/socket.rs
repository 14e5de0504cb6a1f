//! The terminal socket in process: a real WebSocket against a real server whose processes are
//! fakes (an echo, like `cat`). Subprotocol versions, refusals and their close codes, without
//! a cluster.

mod support;

use std::sync::Arc;

use futures::{FutureExt, StreamExt};
use support::{Presented, Server, Term, until_close};
use tokio_tungstenite::tungstenite::Message;
use webshell::auth::Caller;
use webshell::error::AppError;
use webshell::session::port::{Announce, Outcome, ProcessLauncher, RemoteProcess};
use webshell::terminal::{ExecTarget, Launchers};
use webshell::upstream::Upstream;
use webshell_protocol::rest::{exec_path, in_cluster};
use webshell_protocol::{SUBPROTOCOL, SUBPROTOCOL_V1, ServerFrame, TermSize, close_code};

/// Every session runs an echo of its stdin, announced as `cat` on the cluster it runs on.
struct Echoes;

struct Echo {
    cluster: String,
}

impl Launchers for Echoes {
    fn launcher(
        &self,
        cluster: &Upstream,
        _: &Caller,
        _: &ExecTarget,
    ) -> Result<Box<dyn ProcessLauncher>, AppError> {
        Ok(Box::new(Echo {
            cluster: cluster.context().to_owned(),
        }))
    }
}

impl ProcessLauncher for Echo {
    fn launch(
        self: Box<Self>,
        _: TermSize,
    ) -> futures::future::BoxFuture<'static, Result<RemoteProcess, AppError>> {
        let cluster = self.cluster;
        async move {
            let (stdin, mut inner_in) = tokio::io::duplex(64 * 1024);
            let (mut inner_out, stdout) = tokio::io::duplex(64 * 1024);
            let copied = tokio::spawn(async move {
                let _ = tokio::io::copy(&mut inner_in, &mut inner_out).await;
            });
            Ok(RemoteProcess {
                stdin: Some(Box::new(stdin)),
                stdout: Box::new(stdout),
                stderr: None,
                resize: None,
                outcome: async move {
                    let _ = copied.await;
                    Outcome::Exited {
                        code: 0,
                        reason: "Completed".into(),
                    }
                }
                .boxed(),
                command: Announce::Now(vec!["cat".into(), format!("--on={cluster}")]),
            })
        }
        .boxed()
    }
}

async fn server() -> (Server, Presented) {
    let config = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
    let server = Server::with_kube((config.clone(), "nowhere".into()), |s| {
        s.launchers = Some(Arc::new(Echoes));
        s.kube.push((config, "elsewhere".into()).into());
    })
    .await;
    let cookie = server.sign_in_locally().await;
    (server, cookie)
}

fn path() -> String {
    exec_path("demo", "web", "app")
}

async fn hello_version(term: &mut Term) -> u16 {
    match term.frame().await {
        Some(ServerFrame::Hello { version, .. }) => version,
        other => panic!("expected Hello, got {other:?}"),
    }
}

#[tokio::test]
async fn a_client_offering_both_versions_gets_v2_with_stdin_acks() {
    let (server, cookie) = server().await;
    let offered = format!("{SUBPROTOCOL}, {SUBPROTOCOL_V1}");
    let mut term = server.open_term(&path(), &offered, &cookie).await;
    assert_eq!(hello_version(&mut term).await, 2);
    term.type_text("hello").await;
    let mut acked = 0;
    while term.output.len() < 5 {
        if let Some(ServerFrame::StdinAck(n)) = term.frame().await {
            acked += n;
        }
    }
    assert_eq!(term.output, b"hello");
    if acked == 0 {
        // The ack may come after the echo.
        match term.frame().await {
            Some(ServerFrame::StdinAck(n)) => acked = n,
            other => panic!("expected a StdinAck, got {other:?}"),
        }
    }
    assert_eq!(acked, 5);
}

#[tokio::test]
async fn an_old_client_offering_only_v1_is_served_v1_without_acks() {
    let (server, cookie) = server().await;
    let mut socket = server
        .connect(&path(), Some(SUBPROTOCOL_V1), &cookie)
        .await
        .expect("served");
    let mut term = {
        use futures::SinkExt;
        use webshell_protocol::{ClientFrame, Frame};
        socket
            .send(Message::Binary(
                ClientFrame::Resize(TermSize { cols: 80, rows: 24 })
                    .to_bytes()
                    .into(),
            ))
            .await
            .unwrap();
        Term {
            socket,
            output: Vec::new(),
            exit: None,
        }
    };
    assert_eq!(hello_version(&mut term).await, 1);
    let payload = vec![b'z'; 600 * 1024]; // more than a window, never acknowledged by v1
    for chunk in payload.chunks(60 * 1024) {
        term.send(webshell_protocol::ClientFrame::Stdin(chunk.to_vec()))
            .await;
    }
    while term.output.len() < payload.len() {
        let frame = term.frame().await.expect("open");
        assert!(
            !matches!(frame, ServerFrame::StdinAck(_)),
            "v1 gets no StdinAck"
        );
    }
    assert_eq!(term.output, payload);
}

#[tokio::test]
async fn the_selected_subprotocol_is_the_version_and_never_the_bearer_entry() {
    let (server, cookie) = server().await;
    let offered = format!("webshell.bearer.eHl6, {SUBPROTOCOL_V1}, {SUBPROTOCOL}");
    let request = {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut r = format!("ws://{}{}", server.addr, path())
            .into_client_request()
            .unwrap();
        r.headers_mut()
            .insert("sec-websocket-protocol", offered.parse().unwrap());
        for (name, value) in &cookie.headers {
            let name: axum::http::HeaderName = name.parse().unwrap();
            r.headers_mut().insert(name, value.parse().unwrap());
        }
        r
    };
    let (_, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"]
            .to_str()
            .unwrap(),
        SUBPROTOCOL
    );
}

#[tokio::test]
async fn a_socket_runs_on_the_cluster_its_path_names_and_the_default_without_one() {
    let (server, cookie) = server().await;
    for (cluster, runs_on) in [
        (None, "--on=nowhere"),
        (Some("nowhere"), "--on=nowhere"),
        (Some("elsewhere"), "--on=elsewhere"),
    ] {
        let path = in_cluster(cluster, &path());
        let mut term = server.open_term(&path, SUBPROTOCOL, &cookie).await;
        assert_eq!(term.hello().await, ["cat", runs_on], "{path}");
    }
}

#[tokio::test]
async fn an_unknown_cluster_is_a_close_naming_the_ones_offered() {
    let (server, cookie) = server().await;
    let path = in_cluster(Some("prod"), &path());
    let mut socket = server
        .connect(&path, Some(SUBPROTOCOL), &cookie)
        .await
        .expect("upgraded, then closed");
    let (_, code, reason) = until_close(&mut socket).await;
    assert_eq!(code, close_code::NOT_FOUND);
    assert!(
        reason.contains("no cluster \"prod\"") && reason.contains("nowhere, elsewhere"),
        "{reason}"
    );
}

#[tokio::test]
async fn refusals_are_close_codes_with_reasons_the_browser_can_show() {
    let (server, cookie) = server().await;
    let cases: [(&str, &str, &Presented, u16, &str); 4] = [
        (
            "unknown version",
            "webshell.v9",
            &cookie,
            close_code::UNSUPPORTED_SUBPROTOCOL,
            SUBPROTOCOL,
        ),
        (
            "not signed in",
            SUBPROTOCOL,
            &Presented::default(),
            close_code::UNAUTHORIZED,
            "printed",
        ),
        (
            "bad name",
            SUBPROTOCOL,
            &cookie,
            close_code::BAD_FRAME,
            "not a valid Kubernetes name",
        ),
        (
            "bad query",
            SUBPROTOCOL,
            &cookie,
            close_code::BAD_FRAME,
            "tty must be",
        ),
    ];
    for (what, offered, presented, code, reason) in cases {
        let path = match what {
            "bad name" => exec_path("demo", "Bad_Pod", "app"),
            "bad query" => format!("{}?tty=maybe", path()),
            _ => path(),
        };
        let mut socket = server
            .connect(&path, Some(offered), presented)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        match socket.next().await {
            Some(Ok(Message::Close(Some(c)))) => {
                assert_eq!(u16::from(c.code), code, "{what}");
                assert!(c.reason.contains(reason), "{what}: {}", c.reason);
                assert!(c.reason.len() <= 123);
            }
            other => panic!("{what}: expected a close, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_foreign_origin_gets_no_session_only_a_close_naming_the_flag() {
    let (server, cookie) = server().await;
    let mut foreign = cookie.clone();
    foreign
        .headers
        .push(("origin".into(), "https://evil.example".into()));
    // The browser would show only 1006 for a refused handshake; the close says why.
    let mut socket = server
        .connect(&path(), Some(SUBPROTOCOL), &foreign)
        .await
        .expect("upgrade then close");
    let (frames, code, reason) = support::until_close(&mut socket).await;
    assert!(frames.is_empty(), "no Hello, nothing runs: {frames:?}");
    assert_eq!(code, close_code::FORBIDDEN);
    assert!(
        reason.contains("--allowed-origin https://evil.example"),
        "{reason}"
    );
    // Plain HTTP from that page is a 403 with the same words.
    let answer = server
        .get(webshell_protocol::rest::NAMESPACES_PATH, &foreign)
        .await;
    assert_eq!(answer.status, 403);
    assert!(answer.body.contains("--allowed-origin"), "{}", answer.body);
}
