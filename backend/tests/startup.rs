//! How the server refuses to start: one clear line on stderr and a non-zero exit, before it
//! binds a port or reaches the Kubernetes API. Runs the real binary; no cluster needed.

use std::process::{Command, Output};

fn webshell(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_webshell"));
    command
        .args(args)
        // No kubeconfig is needed to fail; make sure none is found by accident either.
        .env("KUBECONFIG", "/nonexistent/kubeconfig");
    // Only the flags given here: settings for other runs in the environment stay out.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("WEBSHELL_") {
            command.env_remove(name);
        }
    }
    command.output().expect("the server binary runs")
}

/// Asserts exit code 2 and one line on stderr containing each of `needles`.
fn refuses(args: &[&str], needles: &[&str]) {
    let output = webshell(args);
    assert_eq!(output.status.code(), Some(2), "{args:?}");
    let line = one_line(&output);
    for needle in needles {
        assert!(line.contains(needle), "{args:?}: {line:?} lacks {needle:?}");
    }
}

const KUBECONFIG: &str = "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user: {}\n";

#[test]
fn a_kubeconfig_that_is_not_there_is_named() {
    refuses(
        &["--kubeconfig", "/nonexistent/webshell/config"],
        &["/nonexistent/webshell/config"],
    );
}

#[test]
fn an_unknown_context_is_named_with_the_ones_there_are() {
    let kubeconfig = temp_file("kubeconfig-contexts", KUBECONFIG);
    refuses(
        &[
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--context",
            "prod",
        ],
        &["no context \"prod\"", "it has: c"],
    );
}

#[test]
fn a_token_server_offers_one_cluster_so_no_token_reaches_another() {
    let kubeconfig = temp_file("kubeconfig-token", KUBECONFIG);
    refuses(
        &[
            "--auth",
            "token",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--context",
            "c,d",
        ],
        &["--auth token", "name one --context"],
    );
}

#[test]
fn a_tls_file_that_does_not_parse_is_named() {
    let bad = temp_file("bad.pem", "not a certificate\n");
    let bad = bad.to_str().unwrap();
    refuses(&["--tls-cert", bad, "--tls-key", bad], &["--tls-cert", bad]);
    refuses(
        &["--tls-cert", "/nonexistent/cert.pem", "--tls-key", bad],
        &["/nonexistent/cert.pem"],
    );
}

#[test]
fn conflicting_flags_are_refused_in_one_line() {
    refuses(
        &["--auth", "token", "--oidc-issuer", "https://id.example.com"],
        &["--oidc-*", "--auth oidc"],
    );
    refuses(
        &["--auth", "oidc", "--proxy-trusted-source", "10.0.0.1"],
        &["--proxy-trusted-source"],
    );
    // clap's own errors are one line too, without the usage block.
    refuses(&["--tls-cert", "/x.pem"], &["--tls-key"]);
    refuses(&["--log-format", "xml"], &["xml", "--log-format"]);
}

#[test]
fn each_mode_names_what_it_misses() {
    refuses(&["--auth", "oidc"], &["--auth oidc needs --oidc-issuer"]);
    refuses(
        &["--auth", "oidc", "--oidc-issuer", "https://id.example.com"],
        &["--oidc-client-id"],
    );
    refuses(
        &["--auth", "proxy"],
        &["--auth proxy needs --proxy-trusted-source"],
    );
}

#[test]
fn help_and_version_exit_zero() {
    let help = webshell(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in ["--auth", "--ops-listen", "--log-format", "--shutdown-drain"] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
    assert!(
        text.contains("[env: WEBSHELL_AUTH"),
        "flags name their variables"
    );
    let version = webshell(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("webshell "));
}

/// The single line on stderr, asserting there is exactly one.
fn one_line(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got {stderr:?}");
    lines[0].to_owned()
}

fn temp_file(name: &str, content: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("webshell-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn an_empty_or_short_secret_file_refuses_to_start() {
    for flag in ["--session-key-file", "--local-secret-file"] {
        for (name, content) in [
            ("empty", ""),
            ("blank", "  \n"),
            ("short", "0123456789abcdef\n"),
        ] {
            let path = temp_file(name, content);
            let output = webshell(&[flag, path.to_str().unwrap()]);
            assert_eq!(output.status.code(), Some(2), "{flag} {name}");
            let line = one_line(&output);
            assert!(line.contains(flag), "{line}");
            assert!(line.contains("at least 32"), "{line}");
        }
    }
}

#[test]
fn beyond_loopback_a_mode_and_a_public_url_are_required() {
    let output = webshell(&["--listen", "0.0.0.0:0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line(&output).contains("needs --auth"));
    let output = webshell(&["--listen", "0.0.0.0:0", "--auth", "token"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line(&output).contains("--public-url"));
}

#[test]
fn local_mode_refuses_to_listen_beyond_loopback() {
    let output = webshell(&[
        "--listen",
        "0.0.0.0:0",
        "--auth",
        "local",
        "--public-url",
        "http://shell.example.com",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line(&output).contains("only listens on loopback"));
}

#[test]
fn sign_ins_over_plain_http_beyond_loopback_are_warned_about_loudly() {
    use std::io::{BufRead, BufReader};
    // An API server nobody runs: the warning comes before any request reaches it.
    let kubeconfig = temp_file("kubeconfig", KUBECONFIG);
    let mut child = Command::new(env!("CARGO_BIN_EXE_webshell"))
        .args([
            "--listen",
            "0.0.0.0:0",
            "--auth",
            "token",
            "--public-url",
            "http://shell.example.com",
            "--audit-log",
            "off",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ])
        .env_remove("WEBSHELL_AUTH")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let warned = loop {
        match seen.recv_timeout(std::time::Duration::from_secs(10)) {
            Ok(line) if line.contains("WARNING") => break Some(line),
            Ok(_) => continue,
            Err(_) => break None,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let warned = warned.expect("a WARNING line on stderr");
    assert!(warned.contains("plain HTTP"), "{warned}");
}
