//! The terminal WebSocket endpoint: checks, then hands the socket to a [`Session`], with an
//! audit line when it starts and one when it ends.

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path, RawQuery, Request, State};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt, future};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use tracing::{Instrument, info_span};
use webshell_protocol::{
    BEARER_SUBPROTOCOL_PREFIX, Frame, MAX_FRAME_BYTES, SUBPROTOCOL, close_code, close_reason,
    negotiate,
};

use crate::access::Asker;
use crate::audit;
use crate::auth::Caller;
use crate::error::AppError;
use crate::exec::KubeExec;
use crate::names::validate;
use crate::session::{Session, SocketCommand, SocketEvent};
use crate::state::AppState;
use crate::upstream::Credential;

/// Query of the exec endpoint: `command` (repeatable) and `tty` (default true).
#[derive(Debug, Default, PartialEq)]
pub struct ExecQuery {
    /// Explicit command; empty means "pick a shell".
    pub command: Vec<String>,
    /// Allocate a TTY.
    pub tty: bool,
}

impl ExecQuery {
    /// Parses the raw query. Repeated keys are why this is not `Query<T>`: serde_urlencoded
    /// cannot collect them into a Vec.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        let mut query = ExecQuery {
            command: Vec::new(),
            tty: true,
        };
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "command" => query.command.push(value.into_owned()),
                "tty" => {
                    query.tty = value
                        .parse()
                        .map_err(|_| format!("tty must be true or false, not {value:?}"))?;
                }
                other => return Err(format!("unknown query parameter {other:?}")),
            }
        }
        Ok(query)
    }
}

/// `GET /api/namespaces/{ns}/pods/{pod}/containers/{container}/exec` (WebSocket), for a
/// signed-in [`Caller`]. Refusals happen after the upgrade, as a close code with a reason: a
/// browser never shows the body of a failed handshake, but it does show the close reason.
pub async fn exec(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, pod, container)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let offered = offered_protocols(&ws);
    if negotiate(offered.iter().map(String::as_str)).is_none() {
        let reason = format!("offer the {SUBPROTOCOL} subprotocol");
        return close_after_upgrade(ws, &offered, close_code::UNSUPPORTED_SUBPROTOCOL, reason);
    }
    let names = validate("namespace", &namespace)
        .and(validate("pod", &pod))
        .and(validate("container", &container));
    let query = match names
        .and_then(|()| ExecQuery::parse(raw.as_deref()).map_err(AppError::bad_request))
    {
        Ok(query) => query,
        Err(e) => return refuse_upgrade(ws, &offered, e),
    };
    let permit = match state.limits.admit(&caller.identity.user) {
        Ok(permit) => permit,
        Err(e) => {
            state.audit.refused(
                "limit",
                e.kind.http_status(),
                &caller.actor(),
                "GET",
                &webshell_protocol::rest::exec_path(&namespace, &pod, &container),
                &e.message,
            );
            return refuse_upgrade(ws, &offered, e);
        }
    };
    let (client, asker) = match clients_for(&state, &caller) {
        Ok(clients) => clients,
        Err(e) => return refuse_upgrade(ws, &offered, e),
    };
    let session = Session {
        id: session_id(),
        config: state.session.clone(),
    };
    let span = info_span!("session", id = %session.id, user = %caller.identity.user,
        %namespace, %pod, %container);
    let target = audit::Target {
        cluster: state.upstream.context().to_owned(),
        namespace: namespace.clone(),
        pod: pod.clone(),
        container: container.clone(),
        command: query.command.clone(),
        tty: query.tty,
    };
    let launcher = KubeExec {
        pods: Api::<Pod>::namespaced(client, &namespace),
        namespace,
        pod,
        container,
        command: (!query.command.is_empty()).then_some(query.command),
        tty: query.tty,
        access: asker,
    };
    let audit = state.audit.clone();
    let actor = caller.actor();
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .protocols([SUBPROTOCOL])
        .on_upgrade(move |socket| {
            async move {
                let started = audit::now();
                audit.session_start(&session.id, &actor, &target, started);
                let id = session.id.clone();
                let (tx, rx) = adapt(socket);
                let ending = session.run(launcher, tx, rx).await;
                audit.session_end(&id, &actor, &target, started, &ending);
                drop(permit);
            }
            .instrument(span)
        })
}

/// The caller's client, and how to ask whether they may exec (proxy mode asks as the server
/// on their behalf).
fn clients_for(state: &AppState, caller: &Caller) -> Result<(kube::Client, Asker), AppError> {
    let client = state.upstream.client(&caller.credential)?;
    let asker = match &caller.credential {
        Credential::Impersonate { user, groups } => Asker::OnBehalfOf {
            server: state.upstream.client(&Credential::Server)?,
            user: user.clone(),
            groups: groups.clone(),
        },
        _ => Asker::Myself(client.clone()),
    };
    Ok((client, asker))
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
        let _ = socket.send(Message::Close(Some(frame))).await;
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
    use super::ExecQuery;

    #[test]
    fn commands_repeat_and_tty_defaults_to_true() {
        let q = ExecQuery::parse(Some("command=sh&command=-c&command=echo%20hi")).unwrap();
        assert_eq!(
            q,
            ExecQuery {
                command: vec!["sh".into(), "-c".into(), "echo hi".into()],
                tty: true
            }
        );
        assert_eq!(
            ExecQuery::parse(None).unwrap(),
            ExecQuery {
                command: vec![],
                tty: true
            }
        );
    }

    #[test]
    fn tty_can_be_turned_off_and_bad_input_is_refused() {
        assert!(!ExecQuery::parse(Some("tty=false")).unwrap().tty);
        assert!(ExecQuery::parse(Some("tty=maybe")).is_err());
        assert!(ExecQuery::parse(Some("shell=zsh")).is_err());
    }
}
