//! The server against the real test cluster: REST statuses and terminal sessions end to end,
//! driven by a WebSocket client speaking the protocol, signed in to a `local` mode server the
//! way a person is (the printed URL's secret, then the cookie). Needs `e2e/cluster/cluster.sh up`.

mod support;

use std::time::Duration;

use futures::StreamExt;
use support::{Presented, Server, Term, with_upgrade};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use webshell_protocol::rest::{
    ApiError, CLUSTERS_PATH, ClusterList, Identity, NAMESPACES_PATH, Namespace, Pod, WHOAMI_PATH,
    in_cluster, pods_path,
};
use webshell_protocol::{ErrorKind, SUBPROTOCOL, ServerFrame, close_code};

/// A `local` mode server acting as `user`, and the signed-in browser's cookie.
async fn signed_in_as(user: &str) -> (Server, Presented) {
    let server = Server::local(user).await;
    let cookie = server.sign_in_locally().await;
    (server, cookie)
}

async fn open_term(user: &str, pod: &str, container: &str, query: &str) -> Term {
    let (server, cookie) = signed_in_as(user).await;
    let term = server.term(pod, container, query, &cookie).await;
    // The server task lives on in the runtime; the socket keeps the session.
    std::mem::forget(server);
    term
}

#[tokio::test]
async fn namespaces_and_pods_are_listed_with_status() {
    let (server, cookie) = signed_in_as("admin").await;
    let answer = server.get("/api/namespaces", &cookie).await;
    let (status, body) = (answer.status, answer.body);
    assert_eq!(status, 200);
    let namespaces: Vec<Namespace> = serde_json::from_str(&body).unwrap();
    assert!(namespaces.iter().any(|n| n.name == "demo"), "{body}");

    let answer = server.get("/api/namespaces/demo/pods", &cookie).await;
    let (status, body) = (answer.status, answer.body);
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
    let (server, cookie) = signed_in_as("admin").await;
    let answer = server.get("/api/namespaces/no-such-ns/pods", &cookie).await;
    assert_eq!(answer.status, 404);
    let error: ApiError = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(error.reason, "NotFound");
    let answer = server.get("/api/namespaces/Bad_Name/pods", &cookie).await;
    assert_eq!(answer.status, 400);
}

#[tokio::test]
async fn rbac_refusals_pass_through_as_403() {
    let (server, cookie) = signed_in_as("bob").await;
    let answer = server
        .get("/api/namespaces/kube-system/pods", &cookie)
        .await;
    assert_eq!(answer.status, 403, "{answer:?}");
    let error: ApiError = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(error.reason, "Forbidden");
}

#[tokio::test]
async fn each_cluster_answers_as_its_own_contexts_identity() {
    let bob = testcluster::kube_config("bob").await.expect("cluster up");
    let server = Server::start("admin", |s| s.kube.push(bob.into())).await;
    let cookie = server.sign_in_locally().await;
    let list: ClusterList =
        serde_json::from_str(&server.get(CLUSTERS_PATH, &cookie).await.body).unwrap();
    let names: Vec<&str> = list.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        (names.as_slice(), list.default.as_str()),
        (["admin", "bob"].as_slice(), "admin")
    );
    for (cluster, user, kube_system) in [
        (None, "admin", 200),
        (Some("admin"), "admin", 200),
        (Some("bob"), "bob", 403),
    ] {
        let who = server.get(&in_cluster(cluster, WHOAMI_PATH), &cookie).await;
        let who: Identity = serde_json::from_str(&who.body).unwrap();
        assert_eq!(who.user, user, "{cluster:?}");
        let pods = server
            .get(&in_cluster(cluster, &pods_path("kube-system")), &cookie)
            .await;
        assert_eq!(pods.status, kube_system, "{cluster:?}: {pods:?}");
    }
    let unknown = server
        .get(&in_cluster(Some("carol"), NAMESPACES_PATH), &cookie)
        .await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("admin, bob"), "{}", unknown.body);
}

#[tokio::test]
async fn an_unreachable_apiserver_is_502() {
    // An API server on a port nothing listens on.
    let config = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
    let server = Server::with_kube((config, "nowhere".into()), |_| {}).await;
    let cookie = server.sign_in_locally().await;
    let answer = server.get("/api/namespaces", &cookie).await;
    assert_eq!(answer.status, 502, "{answer:?}");
    assert!(
        !answer.body.contains("127.0.0.1:1"),
        "internal detail leaked: {}",
        answer.body
    );
}

#[tokio::test]
async fn bash_pod_gets_bash_and_runs_what_is_typed() {
    let mut term = open_term("admin", "bash-pod", "main", "").await;
    assert_eq!(term.hello().await, ["bash"]);
    term.type_text("echo $((6*7))\r").await;
    term.until_output("42").await;
}

#[tokio::test]
async fn the_first_prompt_already_has_the_browsers_size() {
    let mut term = open_term("admin", "bash-pod", "main", "").await;
    term.hello().await;
    term.type_text("stty size\r").await;
    term.until_output("30 100").await;
}

#[tokio::test]
async fn sh_pod_falls_back_to_sh() {
    let mut term = open_term("admin", "sh-pod", "main", "").await;
    assert_eq!(term.hello().await, ["sh"]);
    term.type_text("echo fallback-$((1+1))\r").await;
    term.until_output("fallback-2").await;
}

#[tokio::test]
async fn distroless_pod_gets_a_clear_no_shell_error() {
    let mut term = open_term("admin", "distroless-pod", "main", "").await;
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
    let mut term = open_term("admin", "bash-pod", "main", "").await;
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
    let query = "?command=sh&command=-c&command=echo%20out;%20echo%20err%20%3E%262&tty=false";
    let mut term = open_term("admin", "multi-pod", "sidecar", query).await;
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
    let mut term = open_term("admin", "no-such-pod", "main", "").await;
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

    let mut term = open_term("admin", "multi-pod", "nope", "").await;
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
async fn a_missing_namespace_is_named_as_missing_not_the_pod() {
    let (server, cookie) = signed_in_as("admin").await;
    let path = webshell_protocol::rest::exec_path("no-such-namespace", "bash-pod", "main");
    let mut term = server
        .open_term(&path, webshell_protocol::SUBPROTOCOL, &cookie)
        .await;
    let (frames, code, _) = term.until_close().await;
    match frames.last() {
        Some(ServerFrame::Error {
            kind: ErrorKind::NotFound,
            message,
        }) => assert_eq!(message, "namespace no-such-namespace not found"),
        other => panic!("{other:?}"),
    }
    assert_eq!(code, close_code::NOT_FOUND);

    // In a namespace that exists, the pod is what is missing.
    let mut term = open_term("admin", "no-such-pod", "main", "").await;
    let (frames, _, _) = term.until_close().await;
    assert!(
        matches!(frames.last(), Some(ServerFrame::Error { message, .. })
            if message == "pod no-such-pod not found in namespace demo"),
        "{frames:?}"
    );
}

#[tokio::test]
async fn bob_cannot_open_a_terminal() {
    let mut term = open_term("bob", "bash-pod", "main", "").await;
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
    let (server, cookie) = signed_in_as("admin").await;
    let path = webshell_protocol::rest::exec_path("demo", "bash-pod", "main");
    for offered in [None, Some("webshell.v0")] {
        let mut socket = server
            .connect(&path, offered, &cookie)
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
    let (server, cookie) = signed_in_as("admin").await;
    let port = server.port();
    let evil = format!("evil.example:{port}");
    let rebound = |host: &str| {
        let mut p = cookie.clone();
        p.headers.push(("host".into(), host.into()));
        p.headers.push(("origin".into(), format!("http://{host}")));
        p
    };
    let answer = server.get("/api/namespaces", &rebound(&evil)).await;
    assert_eq!(answer.status, 403, "{answer:?}");
    assert!(answer.body.contains("--public-url"), "{}", answer.body);
    let path = webshell_protocol::rest::exec_path("demo", "bash-pod", "main");
    let upgrade = server
        .request("GET", &path, &with_upgrade(rebound(&evil)), None)
        .await;
    assert_eq!(
        upgrade.status, 403,
        "no 101 for a rebound name: {upgrade:?}"
    );

    for name in ["127.0.0.1", "localhost", "[::1]"] {
        let host = format!("{name}:{port}");
        let answer = server.get("/api/namespaces", &rebound(&host)).await;
        assert_eq!(answer.status, 200, "{host}: {answer:?}");
        let mut term = server.open_term(&path, SUBPROTOCOL, &rebound(&host)).await;
        assert_eq!(term.hello().await, ["bash"], "{host}");
    }
}

#[tokio::test]
async fn a_cross_site_origin_is_refused_on_rest_and_socket() {
    let (server, cookie) = signed_in_as("admin").await;
    let mut foreign = cookie.clone();
    foreign
        .headers
        .push(("origin".into(), "https://evil.example".into()));
    let answer = server.get("/api/namespaces", &foreign).await;
    assert_eq!(answer.status, 403, "{answer:?}");
    assert!(answer.body.contains("--allowed-origin"), "{}", answer.body);
    let answer = server
        .request(
            "POST",
            webshell_protocol::rest::SIGN_OUT_PATH,
            &foreign,
            Some("{}"),
        )
        .await;
    assert_eq!(answer.status, 403, "state-changing routes too: {answer:?}");
    let path = webshell_protocol::rest::exec_path("demo", "bash-pod", "main");
    let mut socket = server
        .connect(&path, Some(SUBPROTOCOL), &foreign)
        .await
        .expect("upgrade then close");
    let (frames, code, reason) = support::until_close(&mut socket).await;
    assert!(frames.is_empty(), "nothing runs: {frames:?}");
    assert_eq!(code, close_code::FORBIDDEN);
    assert!(reason.contains("--allowed-origin"), "{reason}");
}

/// The pid a shell printed as `pid=N.` (typed quoted, so the echoed command line does not
/// match), read until the closing dot: a pid cut between two frames is not taken.
async fn printed_pid(term: &mut Term) -> String {
    term.until_output("pid=").await;
    let after = |t: &Term| {
        let text = String::from_utf8_lossy(&t.output).into_owned();
        text.rsplit("pid=").next().unwrap_or_default().to_owned()
    };
    while !after(term).contains('.') {
        term.frame().await.expect("open");
    }
    let pid: String = after(term)
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(!pid.is_empty(), "{}", String::from_utf8_lossy(&term.output));
    pid
}

#[tokio::test]
async fn when_the_browser_goes_away_the_remote_process_ends_within_2s() {
    let mut term = open_term("admin", "bash-pod", "main", "").await;
    term.hello().await;
    // Quoted so that the echoed command line does not itself contain "pid=".
    term.type_text("echo \"p\"\"id=$$.\"\r").await;
    let pid = printed_pid(&mut term).await;
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

#[tokio::test]
async fn attach_joins_the_main_process_and_leaving_only_detaches() {
    let (server, cookie) = signed_in_as("admin").await;
    let path = webshell_protocol::rest::attach_path("demo", "attach-pod", "main");
    let mut term = server.open_term(&path, SUBPROTOCOL, &cookie).await;
    assert!(term.hello().await.is_empty(), "an attach runs no command");
    term.type_text("echo \"attached-$((40+2))\"; echo \"p\"\"id=$$.\"\r")
        .await;
    term.until_output("attached-42").await;
    let pid = printed_pid(&mut term).await;
    drop(term);

    // The main process outlives the attach, and a second attach reaches the same one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pods = testcluster::demo_pods("admin").await.unwrap();
    assert!(
        testcluster::is_alive(&pods, "attach-pod", &pid)
            .await
            .unwrap(),
        "detaching must not end the main process {pid}"
    );
    let mut again = server.open_term(&path, SUBPROTOCOL, &cookie).await;
    again.hello().await;
    again.type_text("echo \"same-$$\"\r").await;
    again.until_output(&format!("same-{pid}")).await;
}

#[tokio::test]
async fn attach_is_checked_against_pods_attach_and_takes_no_command() {
    let (server, cookie) = signed_in_as("bob").await;
    let path = webshell_protocol::rest::attach_path("demo", "attach-pod", "main");
    let mut term = server.open_term(&path, SUBPROTOCOL, &cookie).await;
    let (frames, code, _) = term.until_close().await;
    match frames.last() {
        Some(ServerFrame::Error {
            kind: ErrorKind::Forbidden,
            message,
        }) => assert!(message.contains("pods/attach"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(code, close_code::FORBIDDEN);

    let (server, cookie) = signed_in_as("admin").await;
    let mut term = server
        .open_term(&format!("{path}?command=sh"), SUBPROTOCOL, &cookie)
        .await;
    let (_, code, reason) = term.until_close().await;
    assert_eq!(code, ErrorKind::BadRequest.close_code(), "{reason}");
    assert!(reason.contains("attach takes no"), "{reason}");
}

#[tokio::test]
async fn a_log_is_read_once_with_its_tail_and_timestamps_or_as_a_download() {
    use webshell_protocol::rest::{LogQuery, log_path};
    let (server, cookie) = signed_in_as("admin").await;
    let query = LogQuery {
        tail_lines: Some(2),
        timestamps: true,
        ..LogQuery::default()
    };
    let answer = server
        .get(&log_path("demo", "bash-pod", "main", &query), &cookie)
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let lines: Vec<&str> = answer.body.lines().collect();
    assert_eq!(lines.len(), 2, "{}", answer.body);
    for line in lines {
        let (time, text) = line.split_once(' ').expect("a timestamp first");
        assert!(time.starts_with("20") && time.contains('T'), "{line}");
        assert!(text.starts_with("tick "), "{line}");
    }

    let download = LogQuery {
        download: true,
        ..LogQuery::default()
    };
    let answer = server
        .get(
            &log_path("demo", "multi-pod", "sidecar", &download),
            &cookie,
        )
        .await;
    assert_eq!(
        answer.header("content-disposition"),
        Some("attachment; filename=\"multi-pod_sidecar.log\"")
    );
    assert!(
        answer.body.starts_with("sidecar tick 1\n"),
        "{}",
        &answer.body[..40.min(answer.body.len())]
    );

    let bad = server
        .get(
            "/api/namespaces/demo/pods/bash-pod/containers/main/log?tail_lines=0",
            &cookie,
        )
        .await;
    assert_eq!(bad.status, 400, "{bad:?}");
    let missing = server
        .get(
            &log_path("demo", "bash-pod", "nope", &LogQuery::default()),
            &cookie,
        )
        .await;
    assert_eq!(missing.status, 400, "the API server's answer: {missing:?}");
    assert!(missing.body.contains("nope"), "{}", missing.body);
    let previous = LogQuery {
        previous: true,
        ..LogQuery::default()
    };
    let none = server
        .get(&log_path("demo", "bash-pod", "main", &previous), &cookie)
        .await;
    assert!(
        none.status >= 400 && none.body.contains("previous terminated container"),
        "{none:?}"
    );
}

#[tokio::test]
async fn a_followed_log_streams_lines_written_after_it_opened() {
    use tokio::io::AsyncReadExt;
    use webshell_protocol::rest::{LogQuery, log_path};
    let (server, cookie) = signed_in_as("admin").await;
    let query = LogQuery {
        follow: true,
        tail_lines: Some(1),
        ..LogQuery::default()
    };
    let mut stream = get_streamed(
        &server,
        &log_path("demo", "bash-pod", "main", &query),
        &cookie,
    )
    .await;
    // bash-pod prints "tick N" every second: the last line, then at least two new ones.
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let ticks = |s: &str| -> Vec<u64> {
        s.split("tick ")
            .skip(1)
            .filter_map(|t| t.split('\n').next()?.trim().parse().ok())
            .collect()
    };
    tokio::time::timeout(Duration::from_secs(10), async {
        while ticks(&seen).len() < 3 {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the stream ended: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no new lines within 10 s: {seen}"));
    let got = ticks(&seen);
    assert!(got.windows(2).all(|w| w[1] == w[0] + 1), "{got:?}");
}

/// Sends `GET path` on a bare connection and hands it back unread, for responses that stream
/// (a followed log, server-sent events): the body is read as it comes.
async fn get_streamed(server: &Server, path: &str, presented: &Presented) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nhost: {}\r\n", server.addr);
    for (name, value) in &presented.headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Reads server-sent events from `stream` until one's data satisfies `want`.
async fn next_pod_event(
    stream: &mut tokio::net::TcpStream,
    seen: &mut String,
    want: impl Fn(&webshell_protocol::rest::PodEvent) -> bool,
) -> webshell_protocol::rest::PodEvent {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 8192];
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            // Events are "data: {json}" lines; chunked framing never splits a line here in a
            // way that matters, because each event is written as one chunk.
            while let Some(end) = seen.find("\n\n") {
                let event: String = seen.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: "))
                    && let Ok(parsed) = serde_json::from_str(data)
                    && want(&parsed)
                {
                    return parsed;
                }
            }
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the event stream ended: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no such event within 20 s: {seen}"))
}

#[tokio::test]
async fn the_live_pod_list_starts_whole_then_follows_an_added_and_a_deleted_pod() {
    live_list_follows_a_pod(&webshell_protocol::rest::pod_events_path("demo")).await;
}

#[tokio::test]
async fn the_live_list_of_all_namespaces_follows_a_pod_by_namespace_and_name() {
    live_list_follows_a_pod(webshell_protocol::rest::ALL_POD_EVENTS_PATH).await;
}

#[tokio::test]
async fn all_namespaces_list_for_whoever_may_list_pods_cluster_wide() {
    use webshell_protocol::rest::ALL_PODS_PATH;
    let (server, cookie) = signed_in_as("admin").await;
    let answer = server.get(ALL_PODS_PATH, &cookie).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let pods: Vec<Pod> = serde_json::from_str(&answer.body).unwrap();
    let bash = pods
        .iter()
        .find(|p| p.name == "bash-pod")
        .expect("bash-pod");
    assert_eq!(bash.namespace, "demo");
    assert!(bash.exec_allowed);
    let keys: Vec<(&str, &str)> = pods.iter().map(Pod::key).collect();
    assert!(keys.is_sorted(), "{keys:?}");
    // bob may list pods in demo only: all namespaces is a 403, as from kubectl get pods -A.
    let (server, cookie) = signed_in_as("bob").await;
    assert_eq!(server.get(ALL_PODS_PATH, &cookie).await.status, 403);
}

async fn live_list_follows_a_pod(path: &str) {
    use k8s_openapi::api::core::v1::Pod as KubePod;
    use kube::api::{DeleteParams, PostParams};
    use webshell_protocol::rest::PodEvent;
    let (server, cookie) = signed_in_as("admin").await;
    let mut stream = get_streamed(&server, path, &cookie).await;
    let mut seen = String::new();
    let PodEvent::Reset { pods } = next_pod_event(&mut stream, &mut seen, |e| {
        matches!(e, PodEvent::Reset { .. })
    })
    .await
    else {
        unreachable!()
    };
    let bash = pods
        .iter()
        .find(|p| p.name == "bash-pod")
        .expect("bash-pod");
    assert_eq!(bash.node.as_deref(), Some("webshell-node"));
    assert!(bash.created.is_some());

    // Each test of this process makes its own pod.
    let name = format!(
        "live-{}-{}",
        std::process::id(),
        if path.contains("namespaces") {
            "ns"
        } else {
            "all"
        }
    );
    let pods = testcluster::demo_pods("admin").await.unwrap();
    let pod: KubePod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name},
        "spec": {"nodeName": "webshell-node", "terminationGracePeriodSeconds": 1,
                 "containers": [{"name": "main", "image": "webshell.test/sh",
                                 "command": ["sleep", "600"]}]},
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    next_pod_event(
        &mut stream,
        &mut seen,
        |e| matches!(e, PodEvent::Applied { pod } if pod.name == name && pod.namespace == "demo"),
    )
    .await;
    pods.delete(&name, &DeleteParams::default()).await.unwrap();
    next_pod_event(
        &mut stream,
        &mut seen,
        |e| matches!(e, PodEvent::Deleted { namespace, name: n } if *n == name && namespace == "demo"),
    )
    .await;
}

#[tokio::test]
async fn the_live_pod_list_of_a_missing_namespace_is_404() {
    let (server, cookie) = signed_in_as("admin").await;
    let answer = server
        .get(
            &webshell_protocol::rest::pod_events_path("no-such-ns"),
            &cookie,
        )
        .await;
    assert_eq!(answer.status, 404, "{answer:?}");
}

#[tokio::test]
async fn a_container_without_a_shell_gets_a_debug_container_to_attach_to() {
    use webshell_protocol::rest::{DebugContainer, attach_path, debug_path};
    let (server, cookie) = signed_in_as("admin").await;
    let body = r#"{"target":"main","image":"webshell.test/bash"}"#;
    let answer = server
        .request(
            "POST",
            &debug_path("demo", "distroless-pod"),
            &cookie,
            Some(body),
        )
        .await;
    assert_eq!(answer.status, 201, "{answer:?}");
    let debug: DebugContainer = serde_json::from_str(&answer.body).unwrap();
    assert!(debug.name.starts_with("debugger-"), "{debug:?}");

    let path = attach_path("demo", "distroless-pod", &debug.name);
    let mut term = server.open_term(&path, SUBPROTOCOL, &cookie).await;
    term.hello().await;
    term.type_text("echo \"debug-$((6*7))\"\r").await;
    term.until_output("debug-42").await;
}

#[tokio::test]
async fn a_debug_container_is_refused_up_front_without_the_rights_it_needs() {
    use webshell_protocol::rest::debug_path;
    let (server, cookie) = signed_in_as("alice").await;
    let answer = server
        .request(
            "POST",
            &debug_path("demo", "distroless-pod"),
            &cookie,
            Some(r#"{"target":"main"}"#),
        )
        .await;
    assert_eq!(answer.status, 403, "{answer:?}");
    assert!(
        answer.body.contains("pods/ephemeralcontainers"),
        "{}",
        answer.body
    );

    let (server, cookie) = signed_in_as("admin").await;
    for (body, status) in [
        (r#"{"target":"nope"}"#, 404),
        (r#"{"target":"main","image":"two words"}"#, 400),
        (r#"{"target":"main","shell":"zsh"}"#, 400),
    ] {
        let answer = server
            .request(
                "POST",
                &debug_path("demo", "distroless-pod"),
                &cookie,
                Some(body),
            )
            .await;
        assert_eq!(answer.status, status, "{body}: {answer:?}");
    }
}
