//! How the server serves: TLS with certificates reloaded when their files change, and a
//! header-read timeout against slowloris clients. No cluster needed.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use webshell::serving::{ServeOptions, TlsFiles, load_tls, serve_with};
use webshell::{AppState, Settings};

/// A server for an API server nobody runs: these routes never reach it.
async fn start(options: ServeOptions) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
    let mut settings = Settings::local(addr, (config, "nowhere".into()));
    settings.tls = options.tls.is_some();
    let state = AppState::build(settings).await.unwrap();
    tokio::spawn(serve_with(listener, state, std::future::pending(), options));
    addr.to_string()
}

/// A self-signed certificate for 127.0.0.1, written to `dir`; returns its PEM.
fn write_cert(dir: &Path) -> String {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let pem = certified.cert.pem();
    std::fs::write(dir.join("tls.crt"), &pem).unwrap();
    std::fs::write(dir.join("tls.key"), certified.signing_key.serialize_pem()).unwrap();
    pem
}

fn client_trusting(pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .tls_built_in_root_certs(false)
        .build()
        .unwrap()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("webshell-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn tls_is_served_and_a_rotated_certificate_is_picked_up_without_a_restart() {
    let dir = temp_dir("tls");
    let first = write_cert(&dir);
    let files = TlsFiles {
        cert: dir.join("tls.crt"),
        key: dir.join("tls.key"),
    };
    let addr = start(ServeOptions {
        tls: Some(files),
        reload_every: Duration::from_millis(100),
        ..ServeOptions::default()
    })
    .await;
    let url = format!("https://{addr}/healthz");
    let answer = client_trusting(&first).get(&url).send().await.unwrap();
    assert_eq!(answer.status(), 200);

    // cert-manager writes new files; the server switches to them on its own.
    tokio::time::sleep(Duration::from_millis(1100)).await; // a new mtime second
    let second = write_cert(&dir);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if client_trusting(&second).get(&url).send().await.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was not served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        client_trusting(&first).get(&url).send().await.is_err(),
        "the old certificate is no longer served"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_bad_certificate_file_is_named_in_one_line() {
    let dir = temp_dir("badtls");
    std::fs::write(dir.join("tls.crt"), "not a certificate").unwrap();
    std::fs::write(dir.join("tls.key"), "not a key").unwrap();
    let err = load_tls(&TlsFiles {
        cert: dir.join("tls.crt"),
        key: dir.join("tls.key"),
    })
    .await
    .expect_err("refused");
    assert!(err.contains("tls.crt"), "{err}");
    assert!(!err.contains('\n'), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let addr = start(ServeOptions {
        header_read_timeout: Duration::from_millis(500),
        ..ServeOptions::default()
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ").as_bytes())
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the connection was still open after 5 s");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
