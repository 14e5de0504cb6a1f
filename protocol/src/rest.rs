//! The JSON REST API the UI uses beside the terminal socket, shared by server and browser.
//!
//! | method | path | body |
//! |--------|------|------|
//! | GET | [`AUTH_PATH`] (no sign-in needed) | [`AuthInfo`]: how this server signs people in |
//! | GET | [`WHOAMI_PATH`] | [`Identity`] of the signed-in caller |
//! | POST | [`TOKEN_SIGN_IN_PATH`] | [`TokenSignIn`] in, [`Identity`] out; sets the session cookie |
//! | POST | [`SIGN_OUT_PATH`] | clears the session cookie; 204 |
//! | GET | [`CLUSTERS_PATH`] | [`ClusterList`]: the clusters this server reaches |
//! | GET | [`NAMESPACES_PATH`] | `Vec<`[`Namespace`]`>` |
//! | GET | [`pods_path`] | `Vec<`[`Pod`]`>` |
//! | GET | [`ALL_PODS_PATH`] | `Vec<`[`Pod`]`>` of every namespace |
//! | GET (server-sent events) | [`pod_events_path`], [`ALL_POD_EVENTS_PATH`] | [`PodEvent`]s |
//! | GET (WebSocket) | [`exec_path`] `?command=..&command=..&tty=false` | frames, see the crate docs |
//! | GET (browser) | [`OIDC_LOGIN_PATH`] `?return_to=/path` | redirects to the identity provider |
//! | GET (browser) | [`OIDC_CALLBACK_PATH`] | the provider's redirect back; sets the cookie |
//!
//! Every route under `/api/` that reads the cluster (namespaces, pods, pod events, exec,
//! attach, log, debug) also answers under [`CLUSTER_SCOPE_PREFIX`]`{cluster}/…` for one of the
//! server's clusters ([`in_cluster`]); without it, the server's default cluster answers.
//!
//! Every error is an HTTP status with an [`ApiError`] body; its status and `reason` come from
//! [`crate::ErrorKind`]. A 401 means "sign in (again)": the message says why.

use serde::{Deserialize, Serialize};

/// How the server decides who a caller is (`--auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// The server's own kubeconfig identity, for one person on their own machine; the browser
    /// proves it holds the secret the server printed at start.
    Local,
    /// Each person signs in with their own Kubernetes bearer token.
    Token,
    /// Each person signs in through the cluster's OpenID Connect provider.
    Oidc,
    /// An authenticating proxy in front names the person; the server impersonates them.
    Proxy,
}

impl AuthMode {
    /// The lowercase name, as in `--auth` and the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Local => "local",
            AuthMode::Token => "token",
            AuthMode::Oidc => "oidc",
            AuthMode::Proxy => "proxy",
        }
    }
}

/// `GET /api/auth`: what the UI needs to sign a person in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthInfo {
    /// The server's mode.
    pub mode: AuthMode,
    /// Where a browser goes to sign in, when that is a page (OIDC, or the proxy's).
    pub sign_in_url: Option<String>,
    /// Where a browser goes after sign-out, when the proxy owns the session.
    pub sign_out_url: Option<String>,
}

/// `GET /api/whoami`: the signed-in caller, as the Kubernetes API sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Kubernetes user name, e.g. `alice` or `oidc:alice`.
    pub user: String,
    /// Kubernetes groups.
    pub groups: Vec<String>,
    /// How they signed in.
    pub mode: AuthMode,
    /// When the sign-in ends (Unix seconds), if it does.
    pub expires_at: Option<i64>,
}

/// `POST /api/auth/token` body: a person's own Kubernetes bearer token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSignIn {
    /// A service-account token, or the id-token of a kubeconfig.
    pub token: String,
}

impl std::fmt::Debug for TokenSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSignIn { token: <redacted> }")
    }
}

/// A namespace the caller can see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    /// Namespace name.
    pub name: String,
}

/// A pod, reduced to what a person needs to pick a terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pod {
    /// Pod name.
    pub name: String,
    /// Its namespace (lists of all namespaces mix them).
    #[serde(default)]
    pub namespace: String,
    /// `status.phase`: Pending, Running, Succeeded, Failed or Unknown.
    pub phase: String,
    /// Whether every container is ready.
    pub ready: bool,
    /// Restarts summed over containers.
    pub restarts: i32,
    /// Regular containers, in spec order.
    pub containers: Vec<Container>,
    /// Whether the caller may open a terminal here (`get` and `create` on `pods/exec`), as far
    /// as RBAC rules tell. The exec itself is checked again when it starts.
    #[serde(default = "yes")]
    pub exec_allowed: bool,
    /// When it was created (RFC 3339), for its age.
    #[serde(default)]
    pub created: Option<String>,
    /// The node it runs on, once scheduled.
    #[serde(default)]
    pub node: Option<String>,
}

impl Pod {
    /// What lists sort and find pods by: namespace, then name.
    pub fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}

fn yes() -> bool {
    true
}

/// One container of a [`Pod`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Image reference.
    pub image: String,
    /// Readiness from the container status.
    pub ready: bool,
    /// Restart count from the container status.
    pub restarts: i32,
    /// `running`, `waiting`, `terminated`, or `unknown` before the kubelet reports.
    pub state: String,
    /// Whether the main process has a TTY (`spec.tty`): attaching then shows a terminal.
    #[serde(default)]
    pub tty: bool,
    /// Whether the main process reads stdin (`spec.stdin`): attaching can then type into it.
    #[serde(default)]
    pub stdin: bool,
    /// How its previous instance ended, after a restart, e.g. `OOMKilled (exit 137)`.
    #[serde(default)]
    pub last_state: Option<String>,
}

/// A change to the pod list of a namespace, one per server-sent event of [`POD_EVENTS_ROUTE`]
/// (the event's data is this, as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PodEvent {
    /// The whole list, sorted by namespace and name: first, and again whenever the watch had to
    /// start over.
    Reset {
        /// Every pod.
        pods: Vec<Pod>,
    },
    /// A pod was added or changed.
    Applied {
        /// The pod as it is now.
        pod: Pod,
    },
    /// A pod is gone.
    Deleted {
        /// Its namespace.
        #[serde(default)]
        namespace: String,
        /// Its name.
        name: String,
    },
    /// The watch failed for good (e.g. the caller may not watch pods); the stream ends.
    Failed {
        /// Why, as a REST error would say.
        error: ApiError,
    },
}

impl PodEvent {
    /// Applies this change to `pods` (kept sorted by [`Pod::key`]); `Failed` changes nothing.
    pub fn apply_to(self, pods: &mut Vec<Pod>) {
        match self {
            PodEvent::Reset { pods: all } => *pods = all,
            PodEvent::Applied { pod } => match pods.binary_search_by(|p| p.key().cmp(&pod.key())) {
                Ok(at) => pods[at] = pod,
                Err(at) => pods.insert(at, pod),
            },
            PodEvent::Deleted { namespace, name } => {
                pods.retain(|p| (p.namespace.as_str(), p.name.as_str()) != (&namespace, &name))
            }
            PodEvent::Failed { .. } => {}
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The HTTP status, repeated for clients that only see the body.
    pub status: u16,
    /// A short machine-readable reason, e.g. `NotFound`, `Forbidden`, `Upstream`.
    pub reason: String,
    /// A message for a person. Never contains credentials or internal detail.
    pub message: String,
}

/// The first path segments of the SPA's deep links (`/t/…` a shell, `/a/…` attach, `/l/…` a
/// log): the server answers them with the SPA's `index.html`.
pub const APP_ROUTE_SEGMENTS: [&str; 3] = ["t", "a", "l"];

/// The first path segment of SPA links into one cluster: `/c/{cluster}` (its pod browser) and
/// `/c/{cluster}/t/…` (a deep link there). The server answers them with `index.html` too.
pub const CLUSTER_APP_SEGMENT: &str = "c";

/// The clusters this server reaches.
pub const CLUSTERS_PATH: &str = "/api/clusters";
/// What precedes a cluster's name in a route scoped to it: `/api/clusters/{cluster}/namespaces`.
pub const CLUSTER_SCOPE_PREFIX: &str = "/api/clusters/";

/// The answer of [`CLUSTERS_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterList {
    /// Every cluster, the default first.
    pub clusters: Vec<Cluster>,
    /// The one that answers routes without a cluster.
    pub default: String,
}

/// One cluster the server reaches: a kubeconfig context, or the pod's own (`in-cluster`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    /// Its name in URLs: the context's name.
    pub name: String,
    /// The namespace its context names, if any: the one to show first.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// `path` (an `/api/…` route) on `cluster`; `None` keeps it on the server's default cluster.
pub fn in_cluster(cluster: Option<&str>, path: &str) -> String {
    match (cluster, path.strip_prefix("/api/")) {
        (Some(name), Some(rest)) => {
            format!("{CLUSTER_SCOPE_PREFIX}{}/{rest}", encode_component(name))
        }
        _ => path.to_owned(),
    }
}

/// The inverse of [`in_cluster`]: for `/api/clusters/{cluster}/{rest}`, the cluster's name and
/// `/api/{rest}`. `None` for any other path; `Some(Err(segment))` when the name's
/// percent-encoding is malformed.
pub fn split_cluster_scope(path: &str) -> Option<Result<(String, String), String>> {
    let scoped = path.strip_prefix(CLUSTER_SCOPE_PREFIX)?;
    let (segment, rest) = scoped.split_once('/')?;
    if segment.is_empty() || rest.is_empty() {
        return None;
    }
    Some(match decode_component(segment) {
        Some(name) if !name.is_empty() => Ok((name, format!("/api/{rest}"))),
        _ => Err(segment.to_owned()),
    })
}

/// Percent-encodes one path segment or query value: everything except RFC 3986 unreserved
/// characters. Kubernetes names never need it, but commands (`sh -c 'a b'`) and kubeconfig
/// context names (`arn:aws:eks:…:cluster/prod`) do. Hand-written (twelve lines) rather than a
/// dependency, since the WASM client carries every crate it uses.
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

/// How this server signs people in.
pub const AUTH_PATH: &str = "/api/auth";
/// The signed-in caller.
pub const WHOAMI_PATH: &str = "/api/whoami";
/// Signs in with a bearer token (`--auth token`).
pub const TOKEN_SIGN_IN_PATH: &str = "/api/auth/token";
/// Signs out.
pub const SIGN_OUT_PATH: &str = "/api/auth/sign-out";
/// Starts an OpenID Connect sign-in (`--auth oidc`); takes `return_to`, a path on this site.
pub const OIDC_LOGIN_PATH: &str = "/auth/oidc/login";
/// Where the identity provider sends the browser back.
pub const OIDC_CALLBACK_PATH: &str = "/auth/oidc/callback";
/// The query parameter of the URL `--auth local` prints, carrying the launch secret once.
pub const LOCAL_SECRET_PARAM: &str = "secret";

/// Path of the namespace list.
pub const NAMESPACES_PATH: &str = "/api/namespaces";
/// Route template of the pod list (axum syntax).
pub const PODS_ROUTE: &str = "/api/namespaces/{namespace}/pods";
/// Path of the pod list of every namespace the caller may list pods in (`kubectl get pods -A`).
pub const ALL_PODS_PATH: &str = "/api/pods";
/// Path of [`ALL_PODS_PATH`], live: server-sent [`PodEvent`]s, as [`POD_EVENTS_ROUTE`].
pub const ALL_POD_EVENTS_PATH: &str = "/api/pod-events";
/// Route template of the terminal WebSocket (axum syntax).
pub const EXEC_ROUTE: &str = "/api/namespaces/{namespace}/pods/{pod}/containers/{container}/exec";

/// Route template of the attach WebSocket (axum syntax): the container's main process, with
/// the same frames as [`EXEC_ROUTE`]. Closing it detaches; the process keeps running.
pub const ATTACH_ROUTE: &str =
    "/api/namespaces/{namespace}/pods/{pod}/containers/{container}/attach";

/// Route template of a container's log (axum syntax): `text/plain`, streamed while
/// [`LogQuery::follow`]. Query: [`LogQuery`].
pub const LOG_ROUTE: &str = "/api/namespaces/{namespace}/pods/{pod}/containers/{container}/log";

/// The most lines [`LogQuery::tail_lines`] may ask for: the view keeps this many at most.
pub const MAX_TAIL_LINES: u32 = 100_000;

/// What part of a log to read, as the query of [`LOG_ROUTE`]. Every field is optional; the
/// default is the whole current log, once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogQuery {
    /// Keep the response open and stream new lines as they are written.
    pub follow: bool,
    /// The previous (terminated) instance of the container, after a restart.
    pub previous: bool,
    /// Prefix each line with its RFC 3339 time.
    pub timestamps: bool,
    /// Only the last N lines (1 to [`MAX_TAIL_LINES`]); none means all.
    pub tail_lines: Option<u32>,
    /// Serve as a file download (`Content-Disposition: attachment`).
    pub download: bool,
}

impl LogQuery {
    /// The query string (without `?`), naming only what differs from the default.
    pub fn to_query(&self) -> String {
        let mut parts = Vec::new();
        for (name, on) in [
            ("follow", self.follow),
            ("previous", self.previous),
            ("timestamps", self.timestamps),
            ("download", self.download),
        ] {
            if on {
                parts.push(format!("{name}=true"));
            }
        }
        if let Some(n) = self.tail_lines {
            parts.push(format!("tail_lines={n}"));
        }
        parts.join("&")
    }
}

/// Route template of the live pod list (axum syntax): `text/event-stream`, one [`PodEvent`]
/// per event, starting with a `Reset`.
pub const POD_EVENTS_ROUTE: &str = "/api/namespaces/{namespace}/pod-events";

/// Path of the live pod list of `namespace`.
pub fn pod_events_path(namespace: &str) -> String {
    POD_EVENTS_ROUTE.replace("{namespace}", namespace)
}

/// Route template (axum syntax) that starts an ephemeral debug container in a pod (`POST`,
/// a [`DebugRequest`]; answers 201 with a [`DebugContainer`] once it runs). Attach to it
/// with [`attach_path`].
pub const DEBUG_ROUTE: &str = "/api/namespaces/{namespace}/pods/{pod}/debug";

/// Path of [`DEBUG_ROUTE`] for one pod.
pub fn debug_path(namespace: &str, pod: &str) -> String {
    DEBUG_ROUTE
        .replace("{namespace}", namespace)
        .replace("{pod}", pod)
}

/// What the server offers the UI beyond sign-in.
pub const SERVER_SETTINGS_PATH: &str = "/api/settings";

/// The answer of [`SERVER_SETTINGS_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSettings {
    /// The image a debug container gets unless the person names another (`--debug-image`).
    pub debug_image: String,
}

/// Asks for an ephemeral debug container with a shell, beside a container without one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebugRequest {
    /// The container whose processes it should see (`targetContainerName`).
    pub target: String,
    /// Its image; none means the server's `--debug-image`.
    #[serde(default)]
    pub image: Option<String>,
}

/// A debug container that runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebugContainer {
    /// Its name in the pod (`debugger-…`).
    pub name: String,
    /// Its image.
    pub image: String,
}

/// Path of the pod list of `namespace`.
pub fn pods_path(namespace: &str) -> String {
    PODS_ROUTE.replace("{namespace}", namespace)
}

/// Path of the terminal WebSocket for one container.
pub fn exec_path(namespace: &str, pod: &str, container: &str) -> String {
    container_path(EXEC_ROUTE, namespace, pod, container)
}

/// Path of one container's log, with its query.
pub fn log_path(namespace: &str, pod: &str, container: &str, query: &LogQuery) -> String {
    let path = container_path(LOG_ROUTE, namespace, pod, container);
    match query.to_query() {
        q if q.is_empty() => path,
        q => format!("{path}?{q}"),
    }
}

/// Path of the attach WebSocket for one container.
pub fn attach_path(namespace: &str, pod: &str, container: &str) -> String {
    container_path(ATTACH_ROUTE, namespace, pod, container)
}

fn container_path(route: &str, namespace: &str, pod: &str, container: &str) -> String {
    route
        .replace("{namespace}", namespace)
        .replace("{pod}", pod)
        .replace("{container}", container)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fill_the_route_templates() {
        assert_eq!(pods_path("demo"), "/api/namespaces/demo/pods");
        assert_eq!(
            exec_path("demo", "web-0", "app"),
            "/api/namespaces/demo/pods/web-0/containers/app/exec"
        );
        assert_eq!(
            attach_path("demo", "web-0", "app"),
            "/api/namespaces/demo/pods/web-0/containers/app/attach"
        );
    }

    #[test]
    fn a_cluster_scoped_path_round_trips_any_context_name() {
        for name in [
            "kind-kind",
            "arn:aws:eks:eu-west-1:1:cluster/prod",
            "ä b",
            "%",
        ] {
            let path = in_cluster(Some(name), &pods_path("demo"));
            assert!(path.starts_with(CLUSTER_SCOPE_PREFIX), "{path}");
            assert_eq!(
                split_cluster_scope(&path),
                Some(Ok((name.to_owned(), pods_path("demo"))))
            );
        }
        assert_eq!(in_cluster(None, NAMESPACES_PATH), NAMESPACES_PATH);
    }

    #[test]
    fn only_a_named_cluster_with_a_route_after_it_is_a_scope() {
        for path in [
            "/api/namespaces",
            CLUSTERS_PATH,
            "/api/clusters/",
            "/api/clusters/a",
            "/api/clusters/a/",
            "/api/clusters//namespaces",
        ] {
            assert_eq!(split_cluster_scope(path), None, "{path}");
        }
        assert_eq!(
            split_cluster_scope("/api/clusters/a%zz/namespaces"),
            Some(Err("a%zz".to_owned()))
        );
    }

    #[test]
    fn a_log_path_names_only_what_differs_from_the_default() {
        let path = |q: &LogQuery| log_path("demo", "web-0", "app", q);
        assert_eq!(
            path(&LogQuery::default()),
            "/api/namespaces/demo/pods/web-0/containers/app/log"
        );
        let q = LogQuery {
            follow: true,
            timestamps: true,
            tail_lines: Some(500),
            ..LogQuery::default()
        };
        assert_eq!(
            path(&q),
            "/api/namespaces/demo/pods/web-0/containers/app/log?follow=true&timestamps=true&tail_lines=500"
        );
    }

    fn pod(name: &str, phase: &str) -> Pod {
        Pod {
            name: name.into(),
            namespace: "demo".into(),
            phase: phase.into(),
            ready: false,
            restarts: 0,
            containers: Vec::new(),
            exec_allowed: true,
            created: None,
            node: None,
        }
    }

    #[test]
    fn pod_events_keep_the_list_sorted_and_current() {
        let mut pods = Vec::new();
        PodEvent::Reset {
            pods: vec![pod("a", "Running"), pod("c", "Running")],
        }
        .apply_to(&mut pods);
        PodEvent::Applied {
            pod: pod("b", "Pending"),
        }
        .apply_to(&mut pods);
        PodEvent::Applied {
            pod: pod("c", "Failed"),
        }
        .apply_to(&mut pods);
        PodEvent::Deleted {
            namespace: "demo".into(),
            name: "a".into(),
        }
        .apply_to(&mut pods);
        let shown: Vec<(&str, &str)> = pods
            .iter()
            .map(|p| (p.name.as_str(), p.phase.as_str()))
            .collect();
        assert_eq!(shown, [("b", "Pending"), ("c", "Failed")]);
    }

    #[test]
    fn pods_of_all_namespaces_are_kept_apart_by_namespace() {
        let mut pods = Vec::new();
        for (ns, name) in [("b", "web"), ("a", "web"), ("a", "db")] {
            PodEvent::Applied {
                pod: Pod {
                    namespace: ns.into(),
                    ..pod(name, "Running")
                },
            }
            .apply_to(&mut pods);
        }
        PodEvent::Deleted {
            namespace: "b".into(),
            name: "web".into(),
        }
        .apply_to(&mut pods);
        let keys: Vec<(&str, &str)> = pods.iter().map(Pod::key).collect();
        assert_eq!(keys, [("a", "db"), ("a", "web")]);
    }

    #[test]
    fn a_pod_from_an_older_server_may_be_exec_ed_into() {
        let pod: Pod = serde_json::from_str(
            r#"{"name":"p","phase":"Running","ready":true,"restarts":0,"containers":[]}"#,
        )
        .unwrap();
        assert!(pod.exec_allowed);
    }

    #[test]
    fn a_token_sign_in_never_prints_the_token() {
        let body = TokenSignIn {
            token: "s3cret".into(),
        };
        assert!(!format!("{body:?}").contains("s3cret"));
    }
}
