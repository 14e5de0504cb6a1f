//! Operating the server, against the real test cluster: the metrics a session moves, and the
//! drain on shutdown (readiness fails, sessions are told with close code 1001, the server stops
//! within the drain period). Needs `e2e/cluster/cluster.sh up`.

mod support;

use std::time::Duration;

use support::{Presented, Server};
use tokio::net::TcpListener;
use webshell::Settings;
use webshell_protocol::close_code;

/// The operations routes of `server`'s state on a listener of their own.
async fn ops_of(server: &Server) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let router = webshell::ops::router(server.state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Server {
        addr,
        state: server.state.clone(),
    }
}

/// The value of the sample named exactly `series` (name and labels) in `text`.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn metrics_move_as_a_session_runs() {
    let server = Server::local("admin").await;
    let ops = ops_of(&server).await;
    let cookie = server.sign_in_locally().await;
    let scrape = || async {
        let answer = ops.get("/metrics", &Presented::default()).await;
        assert_eq!(answer.status, 200);
        assert!(
            answer
                .header("content-type")
                .unwrap()
                .starts_with("application/openmetrics-text")
        );
        answer.body
    };
    let before = scrape().await;
    assert_eq!(sample(&before, "webshell_sessions_active"), 0.0);

    let mut term = server.term("bash-pod", "main", "", &cookie).await;
    term.type_text("echo metrics-$((6*7))\r").await;
    term.until_output("metrics-42").await;
    let during = scrape().await;
    assert_eq!(sample(&during, "webshell_sessions_active"), 1.0);
    assert_eq!(sample(&during, "webshell_sessions_started_total"), 1.0);
    let typed = "echo metrics-$((6*7))\r".len() as f64;
    assert!(
        sample(
            &during,
            "webshell_session_bytes_total{direction=\"to_process\"}"
        ) >= typed
    );
    assert!(
        sample(
            &during,
            "webshell_session_bytes_total{direction=\"to_browser\"}"
        ) > 0.0
    );
    // The SelfSubjectAccessReview and the exec itself, at least.
    assert!(
        sample(
            &during,
            "webshell_apiserver_request_duration_seconds_count{method=\"POST\",outcome=\"2xx\"}"
        ) >= 1.0
    );

    term.type_text("exit 3\r").await;
    let (_, code, _) = term.until_close().await;
    assert_eq!(code, close_code::NORMAL);
    // The audit line, and with it the count, follows the close.
    let mut after = scrape().await;
    for _ in 0..50 {
        if sample(&after, "webshell_sessions_active") == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = scrape().await;
    }
    assert_eq!(sample(&after, "webshell_sessions_active"), 0.0);
    assert_eq!(
        sample(&after, "webshell_sessions_ended_total{cause=\"exited\"}"),
        1.0
    );
    assert_eq!(
        sample(&after, "webshell_session_duration_seconds_count"),
        1.0
    );

    // A refusal is counted by cause.
    let foreign = Presented {
        headers: vec![("host".into(), "evil.example:8080".into())],
    };
    assert_eq!(server.get("/api/namespaces", &foreign).await.status, 403);
    let refused = scrape().await;
    assert_eq!(
        sample(&refused, "webshell_requests_refused_total{cause=\"host\"}"),
        1.0
    );
}

#[tokio::test]
async fn an_exec_failure_is_counted_by_its_kind() {
    let server = Server::local("bob").await;
    let ops = ops_of(&server).await;
    let cookie = server.sign_in_locally().await;
    let mut term = server.term("bash-pod", "main", "", &cookie).await;
    let (_, code, _) = term.until_close().await;
    assert_eq!(code, close_code::FORBIDDEN);
    let mut text = String::new();
    for _ in 0..50 {
        text = ops.get("/metrics", &Presented::default()).await.body;
        if text.contains("webshell_exec_errors_total{kind=\"Forbidden\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        sample(&text, "webshell_exec_errors_total{kind=\"Forbidden\"}"),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "webshell_sessions_ended_total{cause=\"exec_failed\"}"
        ),
        1.0
    );
}

#[tokio::test]
async fn a_shutdown_fails_readiness_tells_each_session_and_stops_within_the_drain() {
    let kube = testcluster::kube_config("admin").await.expect("cluster up");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ops_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = Settings::local(addr, kube);
    settings.audit = webshell::audit::AuditSink::Off;
    let state = webshell::AppState::build(settings).await.unwrap();
    let server = Server {
        addr: addr.to_string(),
        state: state.clone(),
    };
    let ops = Server {
        addr: ops_listener.local_addr().unwrap().to_string(),
        state: state.clone(),
    };
    let (signal, signalled) = tokio::sync::oneshot::channel::<()>();
    let drain = Duration::from_secs(5);
    let serving = tokio::spawn(webshell::serving::serve_and_drain(
        listener,
        Some(ops_listener),
        state,
        async move {
            let _ = signalled.await;
        },
        drain,
        webshell::serving::ServeOptions::default(),
    ));
    assert_eq!(ops.get("/readyz", &Presented::default()).await.status, 200);
    let cookie = server.sign_in_locally().await;
    let mut term = server.term("bash-pod", "main", "", &cookie).await;
    term.type_text("echo drain-$((6*7))\r").await;
    term.until_output("drain-42").await;

    let started = std::time::Instant::now();
    signal.send(()).unwrap();
    // While the session closes (this client has not answered the close yet), the server is
    // not ready.
    let mut readyz = ops.get("/readyz", &Presented::default()).await;
    for _ in 0..50 {
        if readyz.status != 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        readyz = ops.get("/readyz", &Presented::default()).await;
    }
    assert_eq!(readyz.status, 503);
    assert!(readyz.body.contains("shutting down"), "{}", readyz.body);
    let (_, code, reason) = term.until_close().await;
    assert_eq!(code, close_code::GOING_AWAY);
    assert!(reason.contains("shutting down"), "{reason}");
    drop(term);

    tokio::time::timeout(drain + Duration::from_secs(3), serving)
        .await
        .expect("stopped within the drain period")
        .unwrap()
        .unwrap();
    assert!(started.elapsed() < drain + Duration::from_secs(3));
}
