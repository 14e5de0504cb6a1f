//! The terminal WebSocket endpoint: checks, then hands the socket to a [`Session`].

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt, future};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use tracing::{Instrument, info_span};
use webshell_protocol::{Frame, MAX_FRAME_BYTES, SUBPROTOCOL, close_code, negotiate};

use crate::exec::KubeExec;
use crate::names::validate;
use crate::session::{Session, SocketCommand, SocketEvent};
use crate::state::AppState;

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

/// `GET /api/namespaces/{ns}/pods/{pod}/containers/{container}/exec` (WebSocket)
pub async fn exec(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Path((namespace, pod, container)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let offered: Vec<String> = ws
        .requested_protocols()
        .filter_map(|p| p.to_str().ok())
        .flat_map(|p| p.split(','))
        .map(|p| p.trim().to_string())
        .collect();
    let ws = ws
        .max_message_size(MAX_FRAME_BYTES)
        .protocols([SUBPROTOCOL]);
    // Refusals happen after the upgrade, as a close code with a reason: a browser never shows
    // the body of a failed handshake, but it does show the close reason.
    let refusal = if negotiate(offered.iter().map(String::as_str)).is_none() {
        Some((
            close_code::UNSUPPORTED_SUBPROTOCOL,
            format!("offer the {SUBPROTOCOL} subprotocol"),
        ))
    } else {
        let names = validate("namespace", &namespace)
            .and(validate("pod", &pod))
            .and(validate("container", &container));
        match (names, ExecQuery::parse(raw.as_deref())) {
            (Err(e), _) => Some((close_code::BAD_FRAME, e.message)),
            (_, Err(e)) => Some((close_code::BAD_FRAME, e)),
            (Ok(()), Ok(query)) => {
                let session = Session {
                    id: session_id(),
                    config: state.session.clone(),
                };
                let span = info_span!("session", id = %session.id, %namespace, %pod, %container);
                let launcher = KubeExec {
                    pods: Api::<Pod>::namespaced(state.client.clone(), &namespace),
                    pod,
                    container,
                    command: (!query.command.is_empty()).then_some(query.command),
                    tty: query.tty,
                };
                return ws.on_upgrade(move |socket| {
                    let (tx, rx) = adapt(socket);
                    session.run(launcher, tx, rx).instrument(span)
                });
            }
        }
    };
    let (code, reason) = refusal.unwrap_or_default();
    // Browsers fail a handshake whose response selects none of the offered subprotocols,
    // hiding our reason; echoing the client's first offer lets the close reason through.
    let ws = match offered.first() {
        Some(first) if code == close_code::UNSUPPORTED_SUBPROTOCOL => ws.protocols([first.clone()]),
        _ => ws,
    };
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
