//! The SPA as the server serves it (no cluster needed; the SPA must be built: `./x build`).

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use webshell::AppState;
use webshell::security::Security;
use webshell::site::Site;

async fn server() -> String {
    // The SPA routes never reach the Kubernetes API; a client for a closed port will do.
    let client =
        kube::Client::try_from(kube::Config::new("https://127.0.0.1:1".parse().unwrap())).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState {
        client,
        site: Arc::new(Site::new(addr, false, &[], &[]).unwrap()),
        security: Arc::new(Security::default()),
        session: Default::default(),
    };
    tokio::spawn(webshell::serve(listener, state, std::future::pending()));
    addr.to_string()
}

/// Status line and headers (lowercased) of a GET.
async fn head_of(addr: &str, path: &str, extra: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response);
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_lowercase();
    (head[9..12].parse().unwrap(), head)
}

fn assert_spa_built() {
    let index =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/dist/index.html");
    assert!(
        index.exists(),
        "build the SPA first (./x build, or trunk build --release)"
    );
}

#[tokio::test]
async fn the_app_and_its_deep_links_get_index_html() {
    assert_spa_built();
    let addr = server().await;
    for path in ["/", "/t/demo/bash-pod/main", "/t/demo/web.v1"] {
        let (status, head) = head_of(&addr, path, "").await;
        assert_eq!(status, 200, "{path}");
        assert!(head.contains("content-type: text/html"), "{path}: {head}");
        assert!(head.contains("cache-control: no-cache"), "{path}: {head}");
    }
}

#[tokio::test]
async fn a_missing_asset_is_404_and_an_unknown_api_path_is_a_json_404() {
    let addr = server().await;
    assert_eq!(head_of(&addr, "/no-such-asset.js", "").await.0, 404);
    let (status, head) = head_of(&addr, "/api/no-such-thing", "").await;
    assert_eq!(status, 404);
    assert!(head.contains("content-type: application/json"), "{head}");
}

#[tokio::test]
async fn assets_are_gzipped_for_browsers_that_accept_it() {
    assert_spa_built();
    let addr = server().await;
    let (status, head) = head_of(&addr, "/", "Accept-Encoding: gzip\r\n").await;
    assert_eq!(status, 200);
    assert!(head.contains("content-encoding: gzip"), "{head}");
}
