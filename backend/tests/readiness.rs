//! `/readyz` follows the API server: it fails while the real test API server is stopped
//! (SIGSTOP: its sockets stay open, nothing answers) and recovers when it runs again. Alone in
//! its test binary, since it stops the API server every other test needs.

mod support;

use std::time::Duration;

use support::{Presented, Server};

/// Stops the test cluster's API server until dropped (even when an assertion fails).
struct Stopped(String);

impl Stopped {
    fn apiserver() -> Stopped {
        let pidfile = testcluster::state_dir().join("pids/kube-apiserver.pid");
        let pid = std::fs::read_to_string(&pidfile)
            .unwrap_or_else(|e| panic!("{}: {e}", pidfile.display()))
            .trim()
            .to_owned();
        signal("STOP", &pid);
        Stopped(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        signal("CONT", &self.0);
    }
}

fn signal(name: &str, pid: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), pid])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

async fn readyz(server: &Server) -> (u16, String) {
    let answer = server.get("/readyz", &Presented::default()).await;
    (answer.status, answer.body)
}

#[tokio::test]
async fn readyz_fails_while_the_apiserver_is_stopped_and_recovers_after() {
    let server = Server::start("admin", |s| s.apiserver_timeout = Duration::from_secs(1)).await;
    assert_eq!(readyz(&server).await.0, 200);
    let stopped = Stopped::apiserver();
    // Past the one-second cache of the last answer.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = readyz(&server).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("API server"), "{body}");
    // The liveness probe does not depend on the API server.
    assert_eq!(
        server.get("/healthz", &Presented::default()).await.status,
        200
    );
    drop(stopped);
    let mut last = (0, String::new());
    for _ in 0..100 {
        last = readyz(&server).await;
        if last.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(last.0, 200, "did not recover: {}", last.1);
}
