//! The SPA as the server serves it (no cluster needed; the SPA must be built: `./x build`).

mod support;

use support::{Presented, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn server() -> String {
    // The SPA routes never reach the Kubernetes API; an API server on a closed port will do.
    let config = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
    let server = Server::with_kube((config, "nowhere".into()), |_| {}).await;
    let addr = server.addr.clone();
    std::mem::forget(server);
    addr
}

/// Status line and headers (lowercased) of a GET.
async fn head_of(addr: &str, path: &str, extra: &str) -> (u16, String) {
    let (status, head, _body) = response_of(addr, path, extra).await;
    (status, head)
}

/// Status line, headers (lowercased) and body of a GET.
async fn response_of(addr: &str, path: &str, extra: &str) -> (u16, String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8_lossy(&response[..end]).to_lowercase();
    (
        head[9..12].parse().unwrap(),
        head,
        response[end + 4..].to_vec(),
    )
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
    for path in [
        "/",
        "/t/demo/bash-pod/main",
        "/t/demo/web.v1",
        "/a/demo/attach-pod/main",
        "/l/demo/bash-pod/main",
        "/c/elsewhere",
        "/c/arn%3Aaws%3Aeks%3Ax%2Fprod/t/demo/bash-pod/main",
    ] {
        let (status, head) = head_of(&addr, path, "").await;
        assert_eq!(status, 200, "{path}");
        assert!(head.contains("content-type: text/html"), "{path}: {head}");
        assert!(head.contains("cache-control: no-cache"), "{path}: {head}");
    }
}

#[tokio::test]
async fn hashed_assets_are_cached_for_good_and_named_ones_revalidate_by_etag() {
    assert_spa_built();
    let addr = server().await;
    let index =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/dist/index.html");
    let html = std::fs::read_to_string(index).unwrap();
    let hashed = html
        .split("href=\"/")
        .filter_map(|rest| rest.split('"').next())
        .find(|name| name.starts_with("style-") && name.ends_with(".css"))
        .expect("a hashed stylesheet in index.html");
    let (status, head) = head_of(&addr, &format!("/{hashed}"), "").await;
    assert_eq!(status, 200);
    assert!(
        head.contains("cache-control: public, max-age=31536000, immutable"),
        "{head}"
    );

    // xterm.js's module build keeps its name (the shim imports it by name): a new release must
    // reach a browser that has the old one, so it is revalidated.
    let (status, head) = head_of(&addr, "/xterm.mjs", "").await;
    assert_eq!(status, 200);
    assert!(
        head.contains("content-type: application/javascript"),
        "{head}"
    );
    assert!(head.contains("cache-control: no-cache"), "{head}");
    let etag = etag_of(&head);
    let (status, head) = head_of(&addr, "/xterm.mjs", &format!("If-None-Match: {etag}\r\n")).await;
    assert_eq!(status, 304, "{head}");
    let (status, _) = head_of(&addr, "/xterm.mjs", "If-None-Match: \"stale\"\r\n").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_missing_asset_is_404_and_an_unknown_api_path_is_a_json_404() {
    let addr = server().await;
    assert_eq!(head_of(&addr, "/no-such-asset.js", "").await.0, 404);
    for path in [
        "/api/no-such-thing",
        "/api/clusters/nowhere",
        "/api/clusters/a%zz/namespaces",
    ] {
        let (status, head) = head_of(&addr, path, "").await;
        let wanted = if path.contains("%zz") { 400 } else { 404 };
        assert_eq!(status, wanted, "{path}");
        assert!(
            head.contains("content-type: application/json"),
            "{path}: {head}"
        );
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    assert_spa_built();
    let addr = server().await;
    for path in ["/", "/api/namespaces", "/api/auth"] {
        let (_, head) = head_of(&addr, path, "").await;
        for header in [
            "content-security-policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval';",
            "frame-ancestors 'none'",
            "x-content-type-options: nosniff",
            "referrer-policy: no-referrer",
            "x-frame-options: deny",
        ] {
            assert!(head.contains(header), "{path} lacks {header}: {head}");
        }
    }
}

#[tokio::test]
async fn the_built_spa_has_no_inline_script() {
    assert_spa_built();
    let index =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/dist/index.html");
    let html = std::fs::read_to_string(index).unwrap();
    let mut rest = html.as_str();
    while let Some(at) = rest.find("<script") {
        let tag_end = rest[at..].find('>').expect("closed tag") + at;
        let tag = &rest[at..=tag_end];
        assert!(tag.contains(" src="), "inline script: {tag}");
        rest = &rest[tag_end..];
    }
}

#[tokio::test]
async fn without_signing_in_the_api_answers_401_and_says_how_to_sign_in() {
    let config = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
    let server = Server::with_kube((config, "nowhere".into()), |_| {}).await;
    let answer = server.get("/api/namespaces", &Presented::default()).await;
    assert_eq!(answer.status, 401);
    assert!(answer.body.contains("printed"), "{}", answer.body);
    let answer = server.get("/api/auth", &Presented::default()).await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.contains(r#""mode":"local""#), "{}", answer.body);
}

#[tokio::test]
async fn the_launch_secret_is_traded_for_a_cookie_and_dropped_from_the_address() {
    let config = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
    let server = Server::with_kube((config, "nowhere".into()), |_| {}).await;
    let secret = server.state.auth.launch_secret().unwrap().to_owned();
    let answer = server
        .get(
            &format!("/t/demo/bash-pod/main?secret={secret}"),
            &Presented::default(),
        )
        .await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.header("location"), Some("/t/demo/bash-pod/main"));
    let set_cookie = answer.header("set-cookie").unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains(&secret));
    let cookie = Presented::cookie(&answer.cookie().unwrap());
    // Signed in: the API now gets past sign-in (to the unreachable API server).
    assert_eq!(server.get("/api/namespaces", &cookie).await.status, 502);

    let wrong = server.get("/?secret=not-it", &Presented::default()).await;
    assert_eq!(wrong.status, 303);
    assert_eq!(wrong.header("location"), Some("/"));
    assert!(wrong.header("set-cookie").is_none());
}

#[tokio::test]
async fn assets_go_out_as_the_build_compressed_them_in_the_best_coding_the_browser_accepts() {
    assert_spa_built();
    let addr = server().await;
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/dist");
    let wasm = std::fs::read_dir(&dist)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.ends_with("_bg.wasm"))
        .expect("a wasm in frontend/dist");
    let path = format!("/{wasm}");
    let mut etags = Vec::new();
    for (accept, coding, file) in [
        ("gzip, deflate, br, zstd", Some("br"), format!("{wasm}.br")),
        ("gzip", Some("gzip"), format!("{wasm}.gz")),
        ("br;q=0, gzip;q=0.5", Some("gzip"), format!("{wasm}.gz")),
        ("identity", None, wasm.clone()),
    ] {
        let (status, head, body) =
            response_of(&addr, &path, &format!("Accept-Encoding: {accept}\r\n")).await;
        assert_eq!(status, 200, "{accept}: {head}");
        assert!(head.contains("content-type: application/wasm"), "{head}");
        assert!(head.contains("vary: accept-encoding"), "{head}");
        match coding {
            Some(c) => assert!(head.contains(&format!("content-encoding: {c}")), "{head}"),
            None => assert!(!head.contains("content-encoding"), "{head}"),
        }
        let want = std::fs::read(dist.join(&file)).expect("a release build (./x build) writes it");
        assert!(body == want, "{accept}: not the bytes of {file}");
        etags.push(etag_of(&head));
    }
    // Each coding is its own representation, with its own tag; a tag matches only its own.
    assert_ne!(etags[0], etags[1]);
    assert_ne!(etags[1], etags[3]);
    let br_tag = format!("If-None-Match: {}\r\n", etags[0]);
    let (status, _) = head_of(&addr, &path, &format!("Accept-Encoding: br\r\n{br_tag}")).await;
    assert_eq!(status, 304);
    let (status, _) = head_of(&addr, &path, &format!("Accept-Encoding: gzip\r\n{br_tag}")).await;
    assert_eq!(status, 200);
    // The app's page too.
    let (status, head) = head_of(&addr, "/t/demo/bash-pod/main", "Accept-Encoding: br\r\n").await;
    assert_eq!(status, 200);
    assert!(head.contains("content-encoding: br"), "{head}");
}

fn etag_of(head: &str) -> String {
    head.lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .expect("an etag")
        .to_owned()
}

#[tokio::test]
async fn a_frame_larger_than_the_protocol_allows_is_refused_before_it_is_buffered() {
    use futures::{SinkExt, StreamExt};
    let config = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
    let server = Server::with_kube((config, "nowhere".into()), |_| {}).await;
    let cookie = server.sign_in_locally().await;
    let path = webshell_protocol::rest::exec_path("demo", "bash-pod", "main");
    let mut socket = server
        .connect(&path, Some(webshell_protocol::SUBPROTOCOL), &cookie)
        .await
        .unwrap();
    let huge = vec![0u8; webshell_protocol::MAX_FRAME_BYTES + 1];
    let _ = socket
        .send(tokio_tungstenite::tungstenite::Message::Binary(huge.into()))
        .await;
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                None
                | Some(Err(_))
                | Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => {
                    return;
                }
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the server kept the connection open");
}

#[tokio::test]
async fn without_the_launch_secret_the_socket_is_closed_with_4401() {
    let config = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
    let server = Server::with_kube((config, "nowhere".into()), |_| {}).await;
    let path = webshell_protocol::rest::exec_path("demo", "bash-pod", "main");
    let mut socket = server
        .connect(
            &path,
            Some(webshell_protocol::SUBPROTOCOL),
            &Presented::default(),
        )
        .await
        .expect("upgrade, then a close with the reason");
    let (_, code, reason) = support::until_close(&mut socket).await;
    assert_eq!(code, webshell_protocol::close_code::UNAUTHORIZED);
    assert!(reason.contains("printed"), "{reason}");
}
