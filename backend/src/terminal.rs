//! The terminal WebSocket endpoint. The [`Admitted`] extractor does every check (sign-in is
//! done by then: it takes the [`Caller`]): subprotocol, target, limits, launcher. The handler
//! only upgrades and runs the [`Session`], with an audit line when it starts and one when it
//! ends. Refusals happen after the upgrade, as a close code with a reason: a browser never
//! shows the body of a failed handshake, but it does show the close reason.

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, MatchedPath, Path, RawQuery, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt, future};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use std::sync::Arc;
use tracing::{Instrument, Span, info_span};
use webshell_protocol::{
    BEARER_SUBPROTOCOL_PREFIX, Frame, MAX_FRAME_BYTES, SUBPROTOCOL, Version, close_code,
    close_reason, negotiate, rest,
};

use crate::access::Asker;
use crate::audit::{self, Actor, Audit};
use crate::auth::Caller;
use crate::clusters::Cluster;
use crate::error::AppError;
use crate::lifecycle::Lifecycle;
use crate::limits::SessionPermit;
use crate::names::validate;
use crate::session::kube::{KubeExec, Subresource};
use crate::session::probe::ShellProbe;
use crate::session::{CLOSE_HANDSHAKE, ProcessLauncher, Session, SocketCommand, SocketEvent};
use crate::state::AppState;
use crate::upstream::Upstream;

/// The socket's initial read buffer.
const SOCKET_READ_BUFFER: usize = 4 * 1024;

/// What a terminal socket asks for, validated: namespace, pod and container from the path,
/// exec or attach from the route, and for an exec `command` (repeatable; none means "pick a
/// shell") and `tty` (default true) from the query.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecTarget {
    /// Namespace.
    pub namespace: String,
    /// Pod.
    pub pod: String,
    /// Container.
    pub container: String,
    /// Exec (a new process) or attach (the main process).
    pub subresource: Subresource,
    /// Explicit command; empty means "pick a shell". Always empty for an attach.
    pub command: Vec<String>,
    /// Allocate a TTY.
    pub tty: bool,
}

impl ExecTarget {
    /// Checks the names and parses the raw query. Repeated keys are why the query is not
    /// `Query<T>`: serde_urlencoded cannot collect them into a Vec. An attach takes no query:
    /// the main process already runs, and its spec decides the TTY.
    pub fn new(
        subresource: Subresource,
        (namespace, pod, container): (String, String, String),
        raw: Option<&str>,
    ) -> Result<Self, AppError> {
        validate("namespace", &namespace)?;
        validate("pod", &pod)?;
        validate("container", &container)?;
        let mut target = ExecTarget {
            namespace,
            pod,
            container,
            subresource,
            command: Vec::new(),
            tty: true,
        };
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "command" | "tty" if subresource == Subresource::Attach => {
                    return Err(AppError::bad_request(format!(
                        "an attach takes no {key:?}: it joins the main process as it runs"
                    )));
                }
                "command" => target.command.push(value.into_owned()),
                "tty" => {
                    target.tty = value.parse().map_err(|_| {
                        AppError::bad_request(format!("tty must be true or false, not {value:?}"))
                    })?;
                }
                other => {
                    return Err(AppError::bad_request(format!(
                        "unknown query parameter {other:?}"
                    )));
                }
            }
        }
        Ok(target)
    }
}

/// Makes the process launcher of a session: the pod `exec` in production, fakes in tests.
pub trait Launchers: Send + Sync {
    /// A launcher for `target` on `cluster`, as `caller`.
    fn launcher(
        &self,
        cluster: &Upstream,
        caller: &Caller,
        target: &ExecTarget,
    ) -> Result<Box<dyn ProcessLauncher>, AppError>;
}

/// Execs into pods with the caller's own client; no command means the shell probe.
pub struct KubeLaunchers;

impl Launchers for KubeLaunchers {
    fn launcher(
        &self,
        cluster: &Upstream,
        caller: &Caller,
        target: &ExecTarget,
    ) -> Result<Box<dyn ProcessLauncher>, AppError> {
        let client = cluster.client(&caller.credential)?;
        let access = Asker::for_caller(cluster, caller)?;
        let t = target.clone();
        let exec = move |command| KubeExec {
            pods: Api::<Pod>::namespaced(client, &t.namespace),
            namespace: t.namespace,
            pod: t.pod,
            container: t.container,
            subresource: t.subresource,
            command,
            tty: t.tty,
            access,
        };
        Ok(
            if target.command.is_empty() && target.subresource == Subresource::Exec {
                Box::new(ShellProbe {
                    launcher: exec,
                    namespace: target.namespace.clone(),
                    pod: target.pod.clone(),
                    container: target.container.clone(),
                })
            } else {
                Box::new(exec(target.command.clone()))
            },
        )
    }
}

/// A terminal request that passed every check: the upgrade, and the session to run on it.
pub struct Admitted {
    ws: WebSocketUpgrade,
    version: Version,
    start: SessionStart,
}

/// Everything a session needs once the socket is up.
struct SessionStart {
    session: Session,
    launcher: Box<dyn ProcessLauncher>,
    audit: Audit,
    lifecycle: Arc<Lifecycle>,
    actor: Actor,
    target: audit::Target,
    permit: SessionPermit,
    span: Span,
}

impl FromRequestParts<AppState> for Admitted {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ws = WebSocketUpgrade::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let offered = offered_protocols(&ws);
        let Some(version) = negotiate(offered.iter().map(String::as_str)) else {
            let reason = format!("offer the {SUBPROTOCOL} subprotocol");
            return Err(close_after_upgrade(
                ws,
                &offered,
                close_code::UNSUPPORTED_SUBPROTOCOL,
                reason,
            ));
        };
        let refuse = |ws, e| refuse_upgrade(ws, &offered, e);
        if state.lifecycle.is_draining() {
            let e = AppError::new(
                webshell_protocol::ErrorKind::ShuttingDown,
                "the server is shutting down; reconnect to reach another one",
            );
            let actor = Actor::anonymous(
                state.auth.mode(),
                crate::auth::source_of_parts(&parts.extensions),
            );
            state.audit.refused(
                "shutdown",
                e.kind.http_status(),
                &actor,
                "GET",
                parts.uri.path(),
                &e.message,
            );
            return Err(refuse(ws, e));
        }
        let caller = match Caller::from_request_parts(parts, state).await {
            Ok(caller) => caller,
            Err(e) => return Err(refuse(ws, e)),
        };
        let cluster = match Cluster::from_request_parts(parts, state).await {
            Ok(Cluster(cluster)) => cluster,
            Err(e) => return Err(refuse(ws, e)),
        };
        let names = Path::<(String, String, String)>::from_request_parts(parts, state).await;
        let subresource = match parts.extensions.get::<MatchedPath>() {
            Some(route) if route.as_str().ends_with(rest::ATTACH_ROUTE) => Subresource::Attach,
            _ => Subresource::Exec,
        };
        let RawQuery(raw) = RawQuery::from_request_parts(parts, state)
            .await
            .unwrap_or(RawQuery(None));
        let target = match names {
            Ok(Path(names)) => ExecTarget::new(subresource, names, raw.as_deref()),
            Err(e) => Err(AppError::bad_request(e.body_text())),
        };
        let target = match target {
            Ok(target) => target,
            Err(e) => return Err(refuse(ws, e)),
        };
        let permit = match state.limits.admit(&caller.identity.user) {
            Ok(permit) => permit,
            Err(e) => {
                state.audit.refused(
                    "limit",
                    e.kind.http_status(),
                    &caller.actor(),
                    "GET",
                    parts.uri.path(),
                    &e.message,
                );
                return Err(refuse(ws, e));
            }
        };
        let launcher = match state.launchers.launcher(&cluster, &caller, &target) {
            Ok(launcher) => launcher,
            Err(e) => return Err(refuse(ws, e)),
        };
        let session = Session {
            stop: state.lifecycle.session_stop(),
            bytes: state.metrics.bytes(),
            ..Session::new(session_id(), state.session.clone(), version)
        };
        let span = info_span!("session", id = %session.id, user = %caller.identity.user,
            namespace = %target.namespace, pod = %target.pod, container = %target.container);
        let start = SessionStart {
            session,
            launcher,
            audit: state.audit.clone(),
            lifecycle: state.lifecycle.clone(),
            actor: caller.actor(),
            target: audit::Target {
                cluster: cluster.context().to_owned(),
                namespace: target.namespace,
                pod: target.pod,
                container: target.container,
                subresource: target.subresource.as_str(),
                command: target.command,
                tty: target.tty,
            },
            permit,
            span,
        };
        Ok(Admitted { ws, version, start })
    }
}

/// `GET /api/namespaces/{ns}/pods/{pod}/containers/{container}/exec` and `…/attach`
/// (WebSocket).
pub async fn exec(admitted: Admitted) -> Response {
    let Admitted { ws, version, start } = admitted;
    // Small socket buffers: an idle terminal holds almost nothing (tungstenite's default
    // 128 KiB read buffer was most of a session's memory); they grow for big frames.
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(SOCKET_READ_BUFFER)
        .write_buffer_size(0)
        .protocols([version.subprotocol()])
        .on_upgrade(move |socket| start.run(socket))
}

impl SessionStart {
    async fn run(self, socket: WebSocket) {
        let SessionStart {
            session,
            launcher,
            audit,
            lifecycle,
            actor,
            target,
            permit,
            span,
        } = self;
        let session = async move {
            let started = audit::now();
            let id = session.id.clone();
            audit.session_start(&id, &actor, &target, started);
            let (tx, rx) = adapt(socket);
            let ending = session.run(launcher, tx, rx).await;
            audit.session_end(&id, &actor, &target, started, &ending);
            drop(permit);
        };
        lifecycle.track(session.instrument(span)).await
    }
}

/// The subprotocols a client offered, one per entry.
fn offered_protocols(ws: &WebSocketUpgrade) -> Vec<String> {
    ws.requested_protocols()
        .filter_map(|p| p.to_str().ok())
        .flat_map(|p| p.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Refuses a request: a WebSocket upgrade is accepted and then closed with the error's close
/// code and reason (which the browser can show); anything else gets the HTTP error.
pub async fn refuse(request: Request, error: AppError) -> Response {
    let (mut parts, _body) = request.into_parts();
    match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => {
            let offered = offered_protocols(&ws);
            refuse_upgrade(ws, &offered, error)
        }
        Err(_) => error.into_response(),
    }
}

fn refuse_upgrade(ws: WebSocketUpgrade, offered: &[String], error: AppError) -> Response {
    close_after_upgrade(ws, offered, error.kind.close_code(), error.message)
}

fn close_after_upgrade(
    ws: WebSocketUpgrade,
    offered: &[String],
    code: u16,
    reason: String,
) -> Response {
    // Browsers fail a handshake whose response selects none of the offered subprotocols,
    // hiding our reason; so select ours if offered, else the first offer, but never the
    // bearer entry, which would echo a credential back.
    let selectable = offered
        .iter()
        .find(|p| *p == SUBPROTOCOL)
        .or_else(|| {
            offered
                .iter()
                .find(|p| !p.starts_with(BEARER_SUBPROTOCOL_PREFIX))
        })
        .cloned();
    let ws = match selectable {
        Some(p) => ws.protocols([p]),
        None => ws,
    };
    let reason = close_reason(&reason).to_owned();
    ws.on_upgrade(move |mut socket| async move {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        if socket.send(Message::Close(Some(frame))).await.is_ok() {
            // The closing handshake, as a session's end does it: the browser's first frames
            // (its size) may be in flight, and dropping the connection with them unread makes
            // the kernel reset it, which can cost the browser our close frame and its reason
            // (seen in CI as a 1006 where a 4401 was sent).
            let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
                while let Some(Ok(message)) = socket.recv().await {
                    if matches!(message, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
    })
    .into_response()
}

/// Adapts axum's socket to the session's generic sink and stream.
fn adapt(
    socket: WebSocket,
) -> (
    impl futures::Sink<SocketCommand> + Unpin + Send,
    impl futures::Stream<Item = SocketEvent> + Unpin + Send,
) {
    let (sink, stream) = socket.split();
    let tx = sink.with(|command: SocketCommand| {
        future::ready(Ok::<_, axum::Error>(match command {
            SocketCommand::Frame(frame) => Message::Binary(frame.to_bytes().into()),
            SocketCommand::Binary(bytes) => Message::Binary(bytes),
            // The writer flushes instead of sending this; a stray one is a harmless ping.
            SocketCommand::Flush => Message::Ping(Default::default()),
            SocketCommand::Ping => Message::Ping(Default::default()),
            SocketCommand::Close(code, reason) => Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
        }))
    });
    let rx = stream.filter_map(|message| {
        future::ready(match message {
            Ok(Message::Binary(bytes)) => Some(SocketEvent::Binary(bytes.to_vec())),
            Ok(Message::Text(_)) => Some(SocketEvent::Text),
            Ok(Message::Pong(_)) => Some(SocketEvent::Pong),
            // axum answers pings itself.
            Ok(Message::Ping(_)) => None,
            Ok(Message::Close(_)) | Err(_) => Some(SocketEvent::Closed),
        })
    });
    (Box::pin(tx), Box::pin(rx))
}

fn session_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::{ExecTarget, Subresource};

    fn names() -> (String, String, String) {
        ("demo".into(), "web".into(), "app".into())
    }

    fn target(raw: Option<&str>) -> Result<ExecTarget, crate::error::AppError> {
        ExecTarget::new(Subresource::Exec, names(), raw)
    }

    #[test]
    fn commands_repeat_and_tty_defaults_to_true() {
        let t = target(Some("command=sh&command=-c&command=echo%20hi")).unwrap();
        assert_eq!(t.command, ["sh", "-c", "echo hi"]);
        assert!(t.tty);
        let t = target(None).unwrap();
        assert!(t.command.is_empty() && t.tty);
    }

    #[test]
    fn tty_can_be_turned_off_and_bad_input_is_refused() {
        assert!(!target(Some("tty=false")).unwrap().tty);
        assert!(target(Some("tty=maybe")).is_err());
        assert!(target(Some("shell=zsh")).is_err());
        let bad = ExecTarget::new(
            Subresource::Exec,
            ("Demo".into(), "web".into(), "app".into()),
            None,
        );
        assert!(bad.unwrap_err().message.contains("namespace"));
    }

    #[test]
    fn an_attach_joins_the_main_process_and_takes_no_command_or_tty() {
        let t = ExecTarget::new(Subresource::Attach, names(), None).unwrap();
        assert_eq!(t.subresource, Subresource::Attach);
        assert!(t.command.is_empty());
        for query in ["command=sh", "tty=false"] {
            let refused = ExecTarget::new(Subresource::Attach, names(), Some(query));
            assert!(
                refused.unwrap_err().message.contains("attach takes no"),
                "{query}"
            );
        }
    }
}
