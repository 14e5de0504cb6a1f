//! How the server refuses to start: one clear line on stderr and a non-zero exit, before it
//! binds a port or reaches the Kubernetes API. Runs the real binary; no cluster needed.

use std::process::{Command, Output};

fn webshell(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_webshell"))
        .args(args)
        // No kubeconfig is needed to fail; make sure none is found by accident either.
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("WEBSHELL_ACCESS_TOKEN_FILE")
        .output()
        .expect("the server binary runs")
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
fn an_empty_or_short_access_token_file_refuses_to_start() {
    for (name, content) in [
        ("empty", ""),
        ("blank", "  \n"),
        ("short", "0123456789abcdef\n"),
    ] {
        let path = temp_file(name, content);
        let output = webshell(&["--access-token-file", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2), "{name}");
        let line = one_line(&output);
        assert!(line.contains("--access-token-file"), "{line}");
        assert!(line.contains("at least 32"), "{line}");
    }
}

#[test]
fn beyond_loopback_a_public_url_is_required() {
    let token = temp_file("good", &"t".repeat(40));
    let output = webshell(&[
        "--listen",
        "0.0.0.0:0",
        "--access-token-file",
        token.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(one_line(&output).contains("--public-url"));
}
