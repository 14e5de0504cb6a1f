//! Every person acts as themselves: each `--auth` mode against the real API server's RBAC,
//! with the test cluster's users (`alice` may exec in `demo`, `bob` may not). The API server's
//! own audit log shows whom it saw. Needs `e2e/cluster/cluster.sh up`.

mod support;

use std::time::{Duration, Instant};

use support::{Presented, Server, with_upgrade};
use webshell::auth::AuthSettings;
use webshell::auth::oidc::OidcSettings;
use webshell::auth::proxy::ProxySettings;
use webshell_protocol::rest::{self, ApiError, Identity};
use webshell_protocol::{ErrorKind, SUBPROTOCOL, ServerFrame, close_code};

/// Runs `echo <marker>` without a TTY in bash-pod as the presented caller; returns the frames
/// and the close code.
async fn run_marker(
    server: &Server,
    presented: &Presented,
    marker: &str,
) -> (Vec<ServerFrame>, u16, String) {
    let query = format!("?command=sh&command=-c&command=echo%20{marker}&tty=false");
    let mut term = server.term("bash-pod", "main", &query, presented).await;
    term.until_close().await
}

fn printed(frames: &[ServerFrame], marker: &str) -> bool {
    frames
        .iter()
        .any(|f| matches!(f, ServerFrame::Stdout(b) if String::from_utf8_lossy(b).contains(marker)))
}

fn marker(name: &str) -> String {
    format!("{name}-{:x}", rand_u64())
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    h.finish()
}

/// The user the API server's audit log recorded for the exec whose command carried `marker`:
/// `(user, impersonated user)`.
async fn apiserver_saw(marker: &str) -> (String, Option<String>) {
    let path = testcluster::apiserver_audit_log();
    for _ in 0..50 {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for line in text.lines().filter(|l| l.contains(marker)) {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            if event["objectRef"]["subresource"] == "exec" {
                let user = event["user"]["username"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let impersonated = event["impersonatedUser"]["username"]
                    .as_str()
                    .map(str::to_owned);
                return (user, impersonated);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no exec with {marker} in {}", path.display());
}

/// Whether the API server's audit log, since `since` (RFC 3339), has a request on `resource` by
/// `user` (or impersonating `user`, when `impersonated`).
async fn apiserver_saw_request_by(
    user: &str,
    impersonated: bool,
    resource: &str,
    since: &str,
) -> bool {
    let path = testcluster::apiserver_audit_log();
    for _ in 0..30 {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let seen = text.lines().any(|line| {
            let e: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            let who = if impersonated {
                &e["impersonatedUser"]["username"]
            } else {
                &e["user"]["username"]
            };
            who == user
                && e["objectRef"]["resource"] == resource
                && e["stageTimestamp"].as_str().is_some_and(|t| t >= since)
        });
        if seen {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string()
}

fn assert_refused_naming_pods_exec(frames: &[ServerFrame], code: u16) {
    match frames.last() {
        Some(ServerFrame::Error {
            kind: ErrorKind::Forbidden,
            message,
        }) => {
            assert!(message.contains("pods/exec"), "{message}");
            assert!(message.contains("create"), "{message}");
        }
        other => panic!("expected a Forbidden error, got {other:?}"),
    }
    assert_eq!(code, close_code::FORBIDDEN);
}

// ---------------------------------------------------------------- token

async fn token_server() -> Server {
    // Started with admin's kubeconfig: in token mode the server's own identity must not
    // matter at all; only the cluster's address and CA are used.
    Server::start("admin", support::token_mode).await
}

async fn sign_in_with_token(server: &Server, token: &str) -> support::Answer {
    let body = serde_json::json!({ "token": token }).to_string();
    server
        .request(
            "POST",
            rest::TOKEN_SIGN_IN_PATH,
            &Presented::default(),
            Some(&body),
        )
        .await
}

#[tokio::test]
async fn token_mode_alice_gets_a_shell_as_alice_and_bob_a_403_naming_pods_exec() {
    let server = token_server().await;
    let answer = sign_in_with_token(&server, &testcluster::token("alice").unwrap()).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let identity: Identity = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(identity.user, "alice");
    let set_cookie = answer.header("set-cookie").unwrap();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    let alice = Presented::cookie(&answer.cookie().unwrap());

    let whoami = server.get(rest::WHOAMI_PATH, &alice).await;
    assert!(whoami.body.contains(r#""user":"alice""#), "{whoami:?}");
    let m = marker("token-alice");
    let (frames, code, _) = run_marker(&server, &alice, &m).await;
    assert!(printed(&frames, &m), "{frames:?}");
    assert_eq!(code, close_code::NORMAL);
    assert_eq!(apiserver_saw(&m).await, ("alice".to_owned(), None));

    let since = now_rfc3339();
    let answer = sign_in_with_token(&server, &testcluster::token("bob").unwrap()).await;
    let bob = Presented::cookie(&answer.cookie().unwrap());
    let pods = server.get("/api/namespaces/demo/pods", &bob).await;
    assert_eq!(pods.status, 200, "bob may list: {pods:?}");
    let listed: Vec<rest::Pod> = serde_json::from_str(&pods.body).unwrap();
    assert!(
        listed.iter().all(|p| !p.exec_allowed),
        "bob's pods are marked: {listed:?}"
    );
    let (frames, code, _) = run_marker(&server, &bob, &marker("token-bob")).await;
    assert_refused_naming_pods_exec(&frames, code);
    assert!(apiserver_saw_request_by("bob", false, "selfsubjectaccessreviews", &since).await);

    let alice_pods = server.get("/api/namespaces/demo/pods", &alice).await;
    let listed: Vec<rest::Pod> = serde_json::from_str(&alice_pods.body).unwrap();
    assert!(listed.iter().all(|p| p.exec_allowed), "{listed:?}");
}

#[tokio::test]
async fn token_mode_refuses_garbage_and_signs_out() {
    let server = token_server().await;
    let answer = sign_in_with_token(&server, "not-a-token-at-all").await;
    assert_eq!(answer.status, 401, "{answer:?}");
    let error: ApiError = serde_json::from_str(&answer.body).unwrap();
    assert!(
        error.message.contains("did not accept"),
        "{}",
        error.message
    );
    assert!(answer.header("set-cookie").is_none());

    let answer = sign_in_with_token(&server, &testcluster::token("alice").unwrap()).await;
    let alice = Presented::cookie(&answer.cookie().unwrap());
    let out = server
        .request("POST", rest::SIGN_OUT_PATH, &alice, Some("{}"))
        .await;
    assert_eq!(out.status, 204);
    let cleared = out.header("set-cookie").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // A forged or foreign cookie is refused with a reason.
    let forged = Presented::cookie("webshell-session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let answer = server.get(rest::NAMESPACES_PATH, &forged).await;
    assert_eq!(answer.status, 401);
    assert!(answer.body.contains("sign in again"), "{}", answer.body);
}

#[tokio::test]
async fn a_sign_in_past_its_lifetime_is_refused_with_a_clear_message() {
    let server = Server::start("admin", |s| {
        support::token_mode(s);
        s.session_ttl = Duration::from_secs(1);
    })
    .await;
    let answer = sign_in_with_token(&server, &testcluster::token("alice").unwrap()).await;
    let alice = Presented::cookie(&answer.cookie().unwrap());
    assert_eq!(server.get(rest::NAMESPACES_PATH, &alice).await.status, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = server.get(rest::NAMESPACES_PATH, &alice).await;
    assert_eq!(expired.status, 401);
    assert!(expired.body.contains("expired"), "{}", expired.body);
}

#[tokio::test]
async fn token_mode_a_host_app_may_send_the_token_itself() {
    let server = token_server().await;
    let token = testcluster::token("alice").unwrap();
    let answer = server
        .get(rest::NAMESPACES_PATH, &Presented::bearer(&token))
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    // On the socket, as the base64url subprotocol entry; the server never selects it.
    use base64::Engine;
    let entry = format!(
        "{SUBPROTOCOL}, webshell.bearer.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&token)
    );
    let path = rest::exec_path("demo", "bash-pod", "main");
    let mut term = server.open_term(&path, &entry, &Presented::default()).await;
    assert_eq!(term.hello().await, ["bash"]);
}

#[tokio::test]
async fn a_refused_socket_never_echoes_the_bearer_entry() {
    let server = token_server().await;
    let path = rest::exec_path("demo", "bash-pod", "main");
    // Only the bearer entry offered (no webshell.v1), with a token the API server refuses.
    let request = {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut r = format!("ws://{}{path}", server.addr)
            .into_client_request()
            .unwrap();
        r.headers_mut().insert(
            "sec-websocket-protocol",
            "webshell.bearer.Z2FyYmFnZQ".parse().unwrap(),
        );
        r
    };
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => {
            assert!(response.headers().get("sec-websocket-protocol").is_none());
        }
        // A client may also give up because nothing was selected; either way nothing echoed.
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert!(response.headers().get("sec-websocket-protocol").is_none());
        }
        Err(_) => {}
    }
}

// ---------------------------------------------------------------- oidc

fn oidc_settings(refresh_before: Duration) -> AuthSettings {
    let env = testcluster::oidc_env().unwrap();
    AuthSettings::Oidc(OidcSettings {
        issuer: env["WEBSHELL_OIDC_ISSUER"].clone(),
        client_id: env["WEBSHELL_OIDC_CLIENT_ID"].clone(),
        client_secret: Some(env["WEBSHELL_OIDC_CLIENT_SECRET"].clone()),
        ca_file: Some(env["WEBSHELL_OIDC_CA_FILE"].clone().into()),
        scopes: vec![
            "profile".into(),
            "email".into(),
            "groups".into(),
            "offline_access".into(),
        ],
        refresh_before,
    })
}

async fn oidc_server(refresh_before: Duration) -> Server {
    Server::start("admin", |s| s.auth = oidc_settings(refresh_before)).await
}

/// Signs in as `user` the way a browser does: webshell's login redirect, the provider's real
/// login form, and the redirect back to webshell's callback. Returns the session cookie.
async fn oidc_sign_in(server: &Server, user: &str) -> Presented {
    let env = testcluster::oidc_env().unwrap();
    let password = env["WEBSHELL_OIDC_USERS"]
        .split(',')
        .find_map(|p| p.strip_prefix(&format!("{user}:")))
        .unwrap()
        .to_owned();
    let start = server
        .get(
            &format!("{}?return_to=/t/demo/bash-pod/main", rest::OIDC_LOGIN_PATH),
            &Presented::default(),
        )
        .await;
    assert_eq!(start.status, 303, "{start:?}");
    let flow = start.cookie().expect("flow cookie");
    let ca = std::fs::read(&env["WEBSHELL_OIDC_CA_FILE"]).unwrap();
    let provider = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let callback_prefix = format!("http://{}{}", server.addr, rest::OIDC_CALLBACK_PATH);
    let mut location = start.header("location").unwrap().to_owned();
    let mut posted = false;
    for _ in 0..10 {
        if location.starts_with(&callback_prefix) {
            let path = location.trim_start_matches(&format!("http://{}", server.addr));
            let done = server.get(path, &Presented::cookie(&flow)).await;
            assert_eq!(done.status, 303, "{done:?}");
            assert_eq!(done.header("location"), Some("/t/demo/bash-pod/main"));
            return Presented::cookie(&done.cookie().expect("session cookie"));
        }
        let response = provider.get(&location).send().await.unwrap();
        if response.status().is_redirection() {
            location = absolute(&location, response.headers()["location"].to_str().unwrap());
            continue;
        }
        assert!(
            !posted,
            "the login form came back: {}",
            response.text().await.unwrap()
        );
        let page = response.text().await.unwrap();
        let id = page
            .split("name=\"authRequestID\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("the login form");
        let form = provider
            .post(absolute(&location, "/login"))
            .form(&[
                ("authRequestID", id),
                ("username", user),
                ("password", &password),
            ])
            .send()
            .await
            .unwrap();
        assert!(form.status().is_redirection(), "{:?}", form.status());
        posted = true;
        location = absolute(&location, form.headers()["location"].to_str().unwrap());
    }
    panic!("no redirect back to webshell; last location {location}");
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http") {
        return location.to_owned();
    }
    let origin: String = base.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    format!("{origin}{location}")
}

#[tokio::test]
async fn oidc_mode_alice_signs_in_at_the_provider_and_the_apiserver_sees_oidc_alice() {
    let server = oidc_server(Duration::from_secs(60)).await;
    let alice = oidc_sign_in(&server, "alice").await;
    let whoami = server.get(rest::WHOAMI_PATH, &alice).await;
    let identity: Identity = serde_json::from_str(&whoami.body).unwrap();
    assert_eq!(identity.user, "oidc:alice");
    assert!(
        identity.groups.contains(&"oidc:demo-users".to_owned()),
        "{identity:?}"
    );
    let m = marker("oidc-alice");
    let (frames, code, _) = run_marker(&server, &alice, &m).await;
    assert!(printed(&frames, &m), "{frames:?}");
    assert_eq!(code, close_code::NORMAL);
    assert_eq!(apiserver_saw(&m).await, ("oidc:alice".to_owned(), None));

    let since = now_rfc3339();
    let bob = oidc_sign_in(&server, "bob").await;
    let (frames, code, _) = run_marker(&server, &bob, &marker("oidc-bob")).await;
    assert_refused_naming_pods_exec(&frames, code);
    assert!(apiserver_saw_request_by("oidc:bob", false, "selfsubjectaccessreviews", &since).await);
}

#[tokio::test]
async fn oidc_mode_refreshes_the_id_token_before_it_expires_and_racing_requests_share_it() {
    // The provider's id-tokens live 5 minutes; renewing within an hour of expiry renews on
    // every request.
    let server = oidc_server(Duration::from_secs(3600)).await;
    let alice = oidc_sign_in(&server, "alice").await;
    let (a, b) = tokio::join!(
        server.get(rest::NAMESPACES_PATH, &alice),
        server.get(rest::NAMESPACES_PATH, &alice)
    );
    assert_eq!((a.status, b.status), (200, 200), "{a:?} {b:?}");
    // Both got a renewed sign-in. The provider rotates refresh tokens and accepts each once,
    // so two separate refreshes would have failed one of the two requests.
    let renewed = a.cookie().expect("a refreshed cookie");
    assert!(b.cookie().is_some(), "{b:?}");
    assert_ne!(Presented::cookie(&renewed).headers, alice.headers);
    // The refreshed sign-in works, and refreshes again with the rotated refresh token.
    let again = server
        .get(rest::NAMESPACES_PATH, &Presented::cookie(&renewed))
        .await;
    assert_eq!(again.status, 200, "{again:?}");
}

#[tokio::test]
async fn oidc_mode_a_forged_callback_is_refused_with_a_page_that_says_why() {
    let server = oidc_server(Duration::from_secs(60)).await;
    let answer = server
        .get(
            &format!("{}?code=x&state=y", rest::OIDC_CALLBACK_PATH),
            &Presented::default(),
        )
        .await;
    assert_eq!(answer.status, 401);
    assert!(answer.body.contains("start again"), "{}", answer.body);
}

// ---------------------------------------------------------------- proxy

fn proxy_settings() -> AuthSettings {
    AuthSettings::Proxy(ProxySettings {
        trusted_sources: vec!["127.0.0.1/32".parse().unwrap()],
        user_header: "x-forwarded-user".parse().unwrap(),
        groups_header: "x-forwarded-groups".parse().unwrap(),
        sign_in_url: Some("/oauth2/sign_in".into()),
        sign_out_url: Some("/oauth2/sign_out".into()),
    })
}

fn forwarded(user: &str) -> Presented {
    Presented {
        headers: vec![
            ("x-forwarded-user".into(), user.into()),
            ("x-forwarded-groups".into(), "webshell-users".into()),
        ],
    }
}

#[tokio::test]
async fn proxy_mode_impersonates_alice_and_bob_gets_a_403_naming_pods_exec() {
    // The least-privilege service account: impersonation and SubjectAccessReviews only.
    let server = Server::start("webshell-proxy", |s| s.auth = proxy_settings()).await;
    let m = marker("proxy-alice");
    let (frames, code, _) = run_marker(&server, &forwarded("alice"), &m).await;
    assert!(printed(&frames, &m), "{frames:?}");
    assert_eq!(code, close_code::NORMAL);
    assert_eq!(
        apiserver_saw(&m).await,
        ("webshell-proxy".to_owned(), Some("alice".to_owned()))
    );
    let (frames, code, _) = run_marker(&server, &forwarded("bob"), &marker("proxy-bob")).await;
    assert_refused_naming_pods_exec(&frames, code);
    let pods = server
        .get("/api/namespaces/demo/pods", &forwarded("alice"))
        .await;
    assert_eq!(pods.status, 200, "{pods:?}");
}

#[tokio::test]
async fn proxy_mode_refuses_spoofed_headers_from_an_untrusted_address() {
    let server = Server::start("webshell-proxy", |s| s.auth = proxy_settings()).await;
    let spoofed = server
        .request_from(
            Some("127.0.0.2"),
            "GET",
            rest::NAMESPACES_PATH,
            &forwarded("admin"),
            None,
        )
        .await;
    assert_eq!(spoofed.status, 403, "{spoofed:?}");
    assert!(spoofed.body.contains("127.0.0.2"), "{}", spoofed.body);
    let bypass = server
        .request_from(
            Some("127.0.0.2"),
            "GET",
            rest::NAMESPACES_PATH,
            &Presented::default(),
            None,
        )
        .await;
    assert_eq!(bypass.status, 401, "{bypass:?}");
}

// ---------------------------------------------------------------- every mode

#[tokio::test]
async fn dns_rebinding_and_foreign_origins_are_refused_in_every_mode() {
    let servers = [
        ("local", Server::local("admin").await),
        ("token", token_server().await),
        ("oidc", oidc_server(Duration::from_secs(60)).await),
        (
            "proxy",
            Server::start("webshell-proxy", |s| s.auth = proxy_settings()).await,
        ),
    ];
    let path = rest::exec_path("demo", "bash-pod", "main");
    for (mode, server) in &servers {
        let evil = format!("evil.example:{}", server.port());
        let mut rebound = forwarded("alice");
        rebound.headers.push(("host".into(), evil.clone()));
        rebound
            .headers
            .push(("origin".into(), format!("http://{evil}")));
        let answer = server.get(rest::NAMESPACES_PATH, &rebound).await;
        assert_eq!(answer.status, 403, "{mode}: {answer:?}");
        let upgrade = server
            .request("GET", &path, &with_upgrade(rebound.clone()), None)
            .await;
        assert_eq!(upgrade.status, 403, "{mode}: {upgrade:?}");
        let mut foreign = forwarded("alice");
        foreign
            .headers
            .push(("origin".into(), "https://evil.example".into()));
        for (method, route, body) in [
            ("GET", rest::NAMESPACES_PATH, None),
            ("POST", rest::TOKEN_SIGN_IN_PATH, Some(r#"{"token":"x"}"#)),
            ("POST", rest::SIGN_OUT_PATH, Some("{}")),
        ] {
            let answer = server.request(method, route, &foreign, body).await;
            assert_eq!(answer.status, 403, "{mode} {method} {route}: {answer:?}");
        }
        // A socket from that page runs nothing: it is closed at once, naming the flag.
        let mut socket = server
            .connect(&path, Some(webshell_protocol::SUBPROTOCOL), &foreign)
            .await
            .expect("upgrade then close");
        let (frames, code, reason) = support::until_close(&mut socket).await;
        assert!(frames.is_empty(), "{mode}: {frames:?}");
        assert_eq!(code, webshell_protocol::close_code::FORBIDDEN, "{mode}");
        assert!(reason.contains("--allowed-origin"), "{mode}: {reason}");
    }
}

// ---------------------------------------------------------------- limits and timeouts

#[tokio::test]
async fn a_second_session_beyond_the_per_user_limit_is_closed_with_its_reason() {
    let server = Server::start("admin", |s| s.limits.per_user = 1).await;
    let cookie = server.sign_in_locally().await;
    let mut first = server.term("bash-pod", "main", "", &cookie).await;
    first.hello().await;
    let mut second = server.term("bash-pod", "main", "", &cookie).await;
    let (_, code, reason) = second.until_close().await;
    assert_eq!(code, close_code::TOO_MANY);
    assert!(reason.contains("close one first"), "{reason}");
}

#[tokio::test]
async fn the_total_and_the_per_minute_limits_close_with_their_reasons() {
    let server = Server::start("admin", |s| s.limits.total = 1).await;
    let cookie = server.sign_in_locally().await;
    let mut first = server.term("bash-pod", "main", "", &cookie).await;
    first.hello().await;
    let (_, code, reason) = server
        .term("bash-pod", "main", "", &cookie)
        .await
        .until_close()
        .await;
    assert_eq!(code, close_code::TOO_MANY);
    assert!(reason.contains("maximum of 1 sessions"), "{reason}");

    let server = Server::start("admin", |s| s.limits.new_per_minute = 1).await;
    let cookie = server.sign_in_locally().await;
    let (_, code, _) = run_marker(&server, &cookie, "first").await;
    assert_eq!(code, close_code::NORMAL);
    let (_, code, reason) = run_marker(&server, &cookie, "second").await;
    assert_eq!(code, close_code::TOO_MANY);
    assert!(reason.contains("within a minute"), "{reason}");
}

#[tokio::test]
async fn an_idle_session_and_a_session_at_its_maximum_length_end_with_their_reasons() {
    let server = Server::start("admin", |s| {
        s.session.idle_timeout = Some(Duration::from_millis(800));
    })
    .await;
    let cookie = server.sign_in_locally().await;
    let mut term = server.term("bash-pod", "main", "", &cookie).await;
    term.hello().await;
    let (_, code, reason) = term.until_close().await;
    assert_eq!(code, close_code::TIMEOUT);
    assert!(reason.contains("no input or output"), "{reason}");

    let server = Server::start("admin", |s| {
        s.session.max_duration = Some(Duration::from_secs(1));
    })
    .await;
    let cookie = server.sign_in_locally().await;
    let mut term = server.term("bash-pod", "main", "", &cookie).await;
    term.hello().await;
    term.type_text("while true; do echo tick; sleep 0.2; done\r")
        .await;
    let (_, code, reason) = term.until_close().await;
    assert_eq!(code, close_code::TIMEOUT);
    assert!(reason.contains("maximum length"), "{reason}");
}

/// An API server that accepts TCP connections and never answers.
async fn stalled_apiserver() -> (kube::Config, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let config = kube::Config::new(format!("https://{addr}").parse().unwrap());
    (config, "stalled".into())
}

#[tokio::test]
async fn a_stalled_apiserver_gives_the_person_an_error_in_seconds_not_a_hang() {
    let server = Server::with_kube(stalled_apiserver().await, |s| {
        s.apiserver_timeout = Duration::from_secs(1);
    })
    .await;
    let cookie = server.sign_in_locally().await;
    let started = Instant::now();
    let answer = server.get(rest::NAMESPACES_PATH, &cookie).await;
    assert_eq!(answer.status, 504, "{answer:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let path = rest::exec_path("demo", "bash-pod", "main");
    let (_, code, reason) = server
        .open_term(&path, SUBPROTOCOL, &cookie)
        .await
        .until_close()
        .await;
    assert_eq!(code, close_code::UPSTREAM_TIMEOUT, "{reason}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------- audit

#[tokio::test]
async fn audit_lines_hold_every_field_and_no_credential() {
    let path = std::env::temp_dir().join(format!("webshell-audit-test-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let server = Server::start("admin", |s| {
        support::token_mode(s);
        s.audit = webshell::audit::AuditSink::File(path.clone());
    })
    .await;
    let token = testcluster::token("alice").unwrap();
    let answer = sign_in_with_token(&server, &token).await;
    let cookie = answer.cookie().unwrap();
    let alice = Presented::cookie(&cookie);
    let (_, code, _) = run_marker(&server, &alice, "audited").await;
    assert_eq!(code, close_code::NORMAL);
    let refused = server
        .get(rest::NAMESPACES_PATH, &Presented::default())
        .await;
    assert_eq!(refused.status, 401);

    let mut lines = Vec::new();
    for _ in 0..50 {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        lines = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect();
        if lines.len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let end = lines
        .iter()
        .find(|l| l["event"] == "session.end")
        .expect("a session.end line");
    for field in [
        "user",
        "groups",
        "auth_mode",
        "source",
        "cluster",
        "namespace",
        "pod",
        "container",
        "command",
        "start_time",
        "end_time",
        "bytes_in",
        "bytes_out",
        "exit_code",
        "close_reason",
    ] {
        assert!(!end[field].is_null(), "session.end lacks {field}: {end}");
    }
    assert_eq!(end["user"], "alice");
    assert_eq!(end["exit_code"], 0);
    assert!(lines.iter().any(|l| l["event"] == "session.start"));
    assert!(
        lines
            .iter()
            .any(|l| l["event"] == "refused" && l["cause"] == "auth")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(&token), "the token is in the audit log");
    assert!(
        !text.contains(cookie.split('=').nth(1).unwrap()),
        "the cookie is in the audit log"
    );
    std::fs::remove_file(&path).unwrap();
}
