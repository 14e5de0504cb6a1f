//! In-cluster mode, as the Helm chart deploys it: the server finds the API server from
//! `KUBERNETES_SERVICE_HOST`/`_PORT` and its identity in
//! `/var/run/secrets/kubernetes.io/serviceaccount/` (a real token of the chart's
//! ServiceAccount, from the TokenRequest API), with no kubeconfig anywhere. In proxy mode, with
//! only the chart's RBAC, it lists alice's pods and opens a shell as alice.
//!
//! Run by e2e/deploy/validate.sh, which installs the chart and prepares the account's files:
//! `INCLUSTER_SA_DIR` (token, ca.crt, namespace) and `INCLUSTER_APISERVER` (host:port). The
//! server runs in a mount namespace of its own (unshare), where a tmpfs on /run carries those
//! files at the in-cluster paths; nothing changes on the machine itself.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use webshell_protocol::{ClientFrame, Frame, SUBPROTOCOL, ServerFrame, TermSize};

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run through e2e/deploy/validate.sh"))
}

/// The server process, killed when dropped.
struct InCluster {
    child: Child,
    addr: String,
}

impl Drop for InCluster {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start() -> InCluster {
    let sa_dir = env("INCLUSTER_SA_DIR");
    let apiserver = env("INCLUSTER_APISERVER");
    let (host, port) = apiserver.rsplit_once(':').expect("host:port");
    let key = std::env::temp_dir().join(format!("webshell-incluster-key-{}", std::process::id()));
    std::fs::write(&key, "k".repeat(48)).unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let script = "mount -t tmpfs tmpfs /run \
        && mkdir -p /run/secrets/kubernetes.io/serviceaccount \
        && cp \"$SA_DIR\"/token \"$SA_DIR\"/ca.crt \"$SA_DIR\"/namespace \
              /run/secrets/kubernetes.io/serviceaccount/ \
        && exec \"$BIN\" \"$@\"";
    let child = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .args(["--listen", &addr, "--public-url", &format!("http://{addr}")])
        .args(["--auth", "proxy", "--proxy-trusted-source", "127.0.0.1/32"])
        .args([
            "--session-key-file",
            key.to_str().unwrap(),
            "--audit-log",
            "off",
        ])
        // Nothing but what a container of the chart's Deployment has: no kubeconfig, no home.
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", "/nonexistent")
        .env("KUBERNETES_SERVICE_HOST", host)
        .env("KUBERNETES_SERVICE_PORT", port)
        .env("SA_DIR", &sa_dir)
        .env("BIN", env!("CARGO_BIN_EXE_webshell"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("unshare runs");
    InCluster { child, addr }
}

/// A GET as the proxy sends it, naming alice; the status and body.
async fn get_as_alice(addr: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\nx-forwarded-user: alice\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    let status = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((status, answer))
}

#[tokio::test]
async fn with_the_charts_service_account_it_lists_pods_and_opens_a_shell_as_alice() {
    let server = start();
    let mut ready = (0, String::new());
    for _ in 0..100 {
        if let Ok(answer) = get_as_alice(&server.addr, "/readyz").await {
            ready = answer;
            if ready.0 == 200 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready.0, 200, "not ready: {}", ready.1);

    let (status, body) = get_as_alice(&server.addr, "/api/namespaces/demo/pods")
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("bash-pod"), "{body}");

    let mut request = format!(
        "ws://{}{}",
        server.addr,
        webshell_protocol::rest::exec_path("demo", "bash-pod", "main")
    )
    .into_client_request()
    .unwrap();
    let headers = request.headers_mut();
    headers.insert("sec-websocket-protocol", SUBPROTOCOL.parse().unwrap());
    headers.insert("x-forwarded-user", "alice".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("upgrade");
    for frame in [
        ClientFrame::Resize(TermSize {
            cols: 100,
            rows: 30,
        }),
        ClientFrame::Stdin(b"echo incluster-$((6*7)) $(id -un 2>/dev/null)\r".to_vec()),
    ] {
        socket
            .send(Message::Binary(frame.to_bytes().into()))
            .await
            .unwrap();
    }
    let mut output = Vec::new();
    let seen = tokio::time::timeout(Duration::from_secs(20), async {
        while !String::from_utf8_lossy(&output).contains("incluster-42") {
            match socket.next().await {
                Some(Ok(Message::Binary(bytes))) => match ServerFrame::from_bytes(&bytes) {
                    Ok(ServerFrame::Stdout(out) | ServerFrame::Stderr(out)) => {
                        output.extend_from_slice(&out)
                    }
                    Ok(ServerFrame::Error { kind, message }) => {
                        panic!("exec failed: {kind:?}: {message}")
                    }
                    _ => {}
                },
                Some(Ok(Message::Close(c))) => panic!("closed: {c:?}"),
                Some(Ok(_)) => {}
                other => panic!("socket ended: {other:?}"),
            }
        }
    })
    .await;
    assert!(
        seen.is_ok(),
        "no shell output; got {:?}",
        String::from_utf8_lossy(&output)
    );
}
