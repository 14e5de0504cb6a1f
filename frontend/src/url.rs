//! URL building for the terminal socket, and the percent-encoding the app's paths share.
//!
//! Pure string functions (no web-sys), so they are unit-tested natively.

use webshell_protocol::rest::{attach_path, exec_path, in_cluster};
pub use webshell_protocol::rest::{decode_component, encode_component};

/// What a terminal socket connects to.
#[derive(Debug, Clone, Copy, Default)]
pub struct SocketTarget<'a> {
    /// One of the server's clusters; `None` is its default.
    pub cluster: Option<&'a str>,
    /// Namespace.
    pub namespace: &'a str,
    /// Pod.
    pub pod: &'a str,
    /// Container.
    pub container: &'a str,
    /// The command; empty lets the server pick a shell. Must be empty for an attach.
    pub command: &'a [String],
    /// Join the container's main process instead of starting one.
    pub attach: bool,
}

/// The WebSocket URL of a terminal session.
///
/// `endpoint` is the webshell server's base URL (`https://host[:port][/prefix]`, `ws(s)://…`,
/// or a path such as `/webshell` on the page's own origin); `None` or empty means the page's
/// origin. `origin` is the page's `location.origin`.
pub fn exec_socket_url(endpoint: Option<&str>, origin: &str, target: &SocketTarget) -> String {
    let base = match endpoint.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) if e.starts_with('/') => format!("{origin}{e}"),
        Some(e) => e.to_owned(),
        None => origin.to_owned(),
    };
    let base = to_ws_scheme(base.trim_end_matches('/'));
    let names = (
        &encode_component(target.namespace),
        &encode_component(target.pod),
        &encode_component(target.container),
    );
    let path = if target.attach {
        attach_path(names.0, names.1, names.2)
    } else {
        exec_path(names.0, names.1, names.2)
    };
    let path = in_cluster(target.cluster, &path);
    let query: Vec<String> = target
        .command
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

    fn to(
        namespace: &'static str,
        pod: &'static str,
        container: &'static str,
    ) -> SocketTarget<'static> {
        SocketTarget {
            namespace,
            pod,
            container,
            ..SocketTarget::default()
        }
    }

    #[test]
    fn same_origin_by_default_with_the_secure_scheme() {
        let url = exec_socket_url(None, ORIGIN, &to("demo", "web-0", "app"));
        assert_eq!(
            url,
            "wss://shell.example.com/api/namespaces/demo/pods/web-0/containers/app/exec"
        );
        assert_eq!(
            exec_socket_url(Some(""), ORIGIN, &to("demo", "web-0", "app")),
            url
        );
    }

    #[test]
    fn plain_http_endpoint_becomes_ws_and_keeps_its_prefix() {
        let url = exec_socket_url(
            Some("http://127.0.0.1:8080/shell/"),
            ORIGIN,
            &to("n", "p", "c"),
        );
        assert_eq!(
            url,
            "ws://127.0.0.1:8080/shell/api/namespaces/n/pods/p/containers/c/exec"
        );
    }

    #[test]
    fn ws_endpoint_is_kept_and_a_path_endpoint_uses_the_origin() {
        let url = exec_socket_url(Some("wss://other:9443"), ORIGIN, &to("n", "p", "c"));
        assert!(url.starts_with("wss://other:9443/api/"));
        let url = exec_socket_url(
            Some("/webshell"),
            "http://localhost:8081",
            &to("n", "p", "c"),
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
        let target = SocketTarget {
            command: &cmd,
            ..to("n", "p", "c")
        };
        let url = exec_socket_url(None, "http://h", &target);
        assert!(
            url.ends_with("/exec?command=sh&command=-c&command=echo%20a%26b%3Dc%20%27%C3%BC%27")
        );
    }

    #[test]
    fn an_attach_has_its_own_path() {
        let target = SocketTarget {
            attach: true,
            ..to("demo", "attach-pod", "main")
        };
        assert_eq!(
            exec_socket_url(None, ORIGIN, &target),
            "wss://shell.example.com/api/namespaces/demo/pods/attach-pod/containers/main/attach"
        );
    }

    #[test]
    fn a_named_cluster_scopes_the_socket_path() {
        let target = SocketTarget {
            cluster: Some("team b"),
            ..to("demo", "web-0", "app")
        };
        assert_eq!(
            exec_socket_url(None, ORIGIN, &target),
            "wss://shell.example.com/api/clusters/team%20b/namespaces/demo/pods/web-0/containers/app/exec"
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
