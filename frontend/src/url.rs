//! URL building for the terminal socket, and the percent-encoding the app's paths share.
//!
//! Pure string functions (no web-sys), so they are unit-tested natively.

use webshell_protocol::rest::{attach_path, exec_path};

/// Percent-encodes one path segment or query value: everything except RFC 3986 unreserved
/// characters. Kubernetes names never need it, but commands (`sh -c 'a b'`) do.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes. Returns `None` for a malformed escape or bytes that are not UTF-8,
/// so a hand-edited URL is rejected instead of misread.
pub fn decode_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The WebSocket URL of a terminal session.
///
/// `endpoint` is the webshell server's base URL (`https://host[:port][/prefix]`, `ws(s)://…`,
/// or a path such as `/webshell` on the page's own origin); `None` or empty means the page's
/// origin. `origin` is the page's `location.origin`. With `attach`, the session joins the
/// container's main process and `command` must be empty; otherwise an empty `command` lets
/// the server pick a shell.
pub fn exec_socket_url(
    endpoint: Option<&str>,
    origin: &str,
    namespace: &str,
    pod: &str,
    container: &str,
    command: &[String],
    attach: bool,
) -> String {
    let base = match endpoint.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) if e.starts_with('/') => format!("{origin}{e}"),
        Some(e) => e.to_owned(),
        None => origin.to_owned(),
    };
    let base = to_ws_scheme(base.trim_end_matches('/'));
    let names = (
        &encode_component(namespace),
        &encode_component(pod),
        &encode_component(container),
    );
    let path = if attach {
        attach_path(names.0, names.1, names.2)
    } else {
        exec_path(names.0, names.1, names.2)
    };
    let query: Vec<String> = command
        .iter()
        .map(|arg| format!("command={}", encode_component(arg)))
        .collect();
    if query.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{}", query.join("&"))
    }
}

/// `http://` → `ws://`, `https://` → `wss://`; anything else (already ws) is kept.
fn to_ws_scheme(base: &str) -> String {
    if let Some(rest) = strip_prefix_ignore_case(base, "https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = strip_prefix_ignore_case(base, "http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://shell.example.com";

    #[test]
    fn same_origin_by_default_with_the_secure_scheme() {
        let url = exec_socket_url(None, ORIGIN, "demo", "web-0", "app", &[], false);
        assert_eq!(
            url,
            "wss://shell.example.com/api/namespaces/demo/pods/web-0/containers/app/exec"
        );
        assert_eq!(
            exec_socket_url(Some(""), ORIGIN, "demo", "web-0", "app", &[], false),
            url
        );
    }

    #[test]
    fn plain_http_endpoint_becomes_ws_and_keeps_its_prefix() {
        let url = exec_socket_url(
            Some("http://127.0.0.1:8080/shell/"),
            ORIGIN,
            "n",
            "p",
            "c",
            &[],
            false,
        );
        assert_eq!(
            url,
            "ws://127.0.0.1:8080/shell/api/namespaces/n/pods/p/containers/c/exec"
        );
    }

    #[test]
    fn ws_endpoint_is_kept_and_a_path_endpoint_uses_the_origin() {
        let url = exec_socket_url(Some("wss://other:9443"), ORIGIN, "n", "p", "c", &[], false);
        assert!(url.starts_with("wss://other:9443/api/"));
        let url = exec_socket_url(
            Some("/webshell"),
            "http://localhost:8081",
            "n",
            "p",
            "c",
            &[],
            false,
        );
        assert!(url.starts_with("ws://localhost:8081/webshell/api/"));
    }

    #[test]
    fn command_becomes_repeated_encoded_query_values() {
        let cmd = vec![
            "sh".to_owned(),
            "-c".to_owned(),
            "echo a&b=c 'ü'".to_owned(),
        ];
        let url = exec_socket_url(None, "http://h", "n", "p", "c", &cmd, false);
        assert!(
            url.ends_with("/exec?command=sh&command=-c&command=echo%20a%26b%3Dc%20%27%C3%BC%27")
        );
    }

    #[test]
    fn an_attach_has_its_own_path() {
        let url = exec_socket_url(None, ORIGIN, "demo", "attach-pod", "main", &[], true);
        assert_eq!(
            url,
            "wss://shell.example.com/api/namespaces/demo/pods/attach-pod/containers/main/attach"
        );
    }

    #[test]
    fn components_round_trip_and_bad_escapes_are_rejected() {
        for s in ["plain", "a b/c?d", "ünï", "%"] {
            assert_eq!(decode_component(&encode_component(s)).as_deref(), Some(s));
        }
        assert_eq!(decode_component("a%2"), None);
        assert_eq!(decode_component("a%zz"), None);
        assert_eq!(decode_component("%FF"), None);
        assert_eq!(decode_component("%C3%BC"), Some("ü".to_owned()));
    }
}
