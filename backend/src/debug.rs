//! Ephemeral debug containers (`pods/ephemeralcontainers`), for containers without a shell:
//! what `kubectl debug -it POD --image=IMAGE --target=CONTAINER` does, as the caller, after
//! checking that they may both add it and attach to it. The answer comes once it runs, so the
//! UI can attach at once.

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use k8s_openapi::api::core::v1::{ContainerState, Pod};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::wait::await_condition;
use tracing::{info, instrument};
use webshell_protocol::ErrorKind;
use webshell_protocol::rest::{DebugContainer, DebugRequest, ServerSettings};

use crate::access::{Asker, EXEC_VERBS, check_verbs};
use crate::auth::Caller;
use crate::clusters::Cluster;
use crate::error::{AppError, classify};
use crate::names::validate;
use crate::pods::missing_pod;
use crate::state::AppState;

/// The image a debug container gets by default: small, with `sh` and the usual tools.
pub const DEFAULT_DEBUG_IMAGE: &str = "busybox:1.37";

/// How long a debug container may take to run (an image pull included).
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// `GET /api/settings`
pub async fn settings(State(state): State<AppState>, _caller: Caller) -> Json<ServerSettings> {
    Json(ServerSettings {
        debug_image: state.debug_image.to_string(),
    })
}

/// `POST /api/namespaces/{namespace}/pods/{pod}/debug`
#[instrument(skip_all, fields(user = %caller.identity.user, namespace = %namespace, pod = %pod))]
pub async fn start(
    State(state): State<AppState>,
    Cluster(upstream): Cluster,
    caller: Caller,
    Path((namespace, pod)): Path<(String, String)>,
    request: Result<Json<DebugRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<DebugContainer>), AppError> {
    validate("namespace", &namespace)?;
    validate("pod", &pod)?;
    let Json(request) = request.map_err(|e| AppError::bad_request(e.body_text()))?;
    validate("container", &request.target)?;
    let image = match request.image {
        Some(image) => checked_image(&image)?.to_owned(),
        None => state.debug_image.to_string(),
    };
    // Both rights first: a container that is added but cannot be attached to would stay in
    // the pod (ephemeral containers are never removed) for nothing.
    let asker = Asker::for_caller(&upstream, &caller)?;
    let needs = "a debug container needs patch on pods/ephemeralcontainers, and create and get \
                 on pods/attach to use it";
    check_verbs(
        &asker,
        &["patch"],
        "ephemeralcontainers",
        &namespace,
        &pod,
        needs,
    )
    .await?;
    check_verbs(&asker, &EXEC_VERBS, "attach", &namespace, &pod, needs).await?;

    let client = upstream.client(&caller.credential)?;
    let pods = Api::<Pod>::namespaced(client.clone(), &namespace);
    let current = match pods.get(&pod).await {
        Ok(current) => current,
        Err(e) if classify(&e).kind == ErrorKind::NotFound => {
            return Err(missing_pod(&client, &namespace, &pod).await);
        }
        Err(e) => return Err(classify(&e)),
    };
    let containers: Vec<&str> = current
        .spec
        .iter()
        .flat_map(|s| &s.containers)
        .map(|c| c.name.as_str())
        .collect();
    if !containers.contains(&request.target.as_str()) {
        return Err(AppError::not_found(format!(
            "container {} not found in pod {pod}; it has: {}",
            request.target,
            containers.join(", ")
        )));
    }
    let name = format!("debugger-{}", suffix());
    let patch = serde_json::json!({
        "spec": {"ephemeralContainers": [{
            "name": name,
            "image": image,
            "targetContainerName": request.target,
            "stdin": true,
            "tty": true,
            "terminationMessagePolicy": "File",
        }]}
    });
    pods.patch_ephemeral_containers(&pod, &PatchParams::default(), &Patch::Strategic(patch))
        .await?;
    info!(container = %name, image = %image, target = %request.target, "debug container added");
    let running = tokio::time::timeout(
        START_TIMEOUT,
        await_condition(pods, &pod, started(name.clone())),
    )
    .await;
    let state = match running {
        Ok(Ok(pod)) => pod.as_ref().and_then(|p| debug_state(p, &name)),
        Ok(Err(e)) => {
            return Err(AppError::new(
                ErrorKind::Upstream,
                format!("lost sight of debug container {name}: {e}"),
            ));
        }
        Err(_) => {
            return Err(AppError::new(
                ErrorKind::Timeout,
                format!(
                    "debug container {name} did not start within {}s (is image {image} \
                     reachable from the node?)",
                    START_TIMEOUT.as_secs()
                ),
            ));
        }
    };
    match state.and_then(|s| not_running(&s)) {
        None => Ok((StatusCode::CREATED, Json(DebugContainer { name, image }))),
        Some(why) => Err(AppError::new(
            ErrorKind::ExecFailed,
            format!("debug container {name} could not start: {why}"),
        )),
    }
}

/// An image reference a person typed: one token of printable ASCII, of a sane length.
fn checked_image(image: &str) -> Result<&str, AppError> {
    let image = image.trim();
    let fine =
        !image.is_empty() && image.len() <= 256 && image.bytes().all(|b| b.is_ascii_graphic());
    if fine {
        Ok(image)
    } else {
        Err(AppError::bad_request(format!(
            "{image:?} is not an image reference"
        )))
    }
}

/// Five random lowercase letters and digits, as `kubectl debug` names its containers.
fn suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The debug container's state, once the kubelet reports one.
fn debug_state(pod: &Pod, name: &str) -> Option<ContainerState> {
    pod.status
        .as_ref()?
        .ephemeral_container_statuses
        .as_ref()?
        .iter()
        .find(|s| s.name == name)?
        .state
        .clone()
}

/// Done waiting: it runs, ended, or waits for a reason that will not pass by itself.
fn started(name: String) -> impl Fn(Option<&Pod>) -> bool {
    move |pod| {
        let Some(state) = pod.and_then(|p| debug_state(p, &name)) else {
            return false;
        };
        state.running.is_some()
            || state.terminated.is_some()
            || state
                .waiting
                .as_ref()
                .and_then(|w| w.reason.as_deref())
                .is_some_and(|r| r != "ContainerCreating" && r != "PodInitializing")
    }
}

/// Why a debug container in `state` is not running; `None` when it runs.
fn not_running(state: &ContainerState) -> Option<String> {
    if state.running.is_some() {
        return None;
    }
    Some(match (&state.waiting, &state.terminated) {
        (Some(w), _) => {
            let reason = w.reason.as_deref().unwrap_or("waiting");
            match w.message.as_deref() {
                Some(m) => format!("{reason}: {m}"),
                None => reason.to_owned(),
            }
        }
        (_, Some(t)) => format!("it exited with code {}", t.exit_code),
        _ => "it is not running".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_with(name: &str, state: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"},
            "status": {"ephemeralContainerStatuses": [
                {"name": name, "image": "busybox", "imageID": "", "ready": false,
                 "restartCount": 0, "state": state},
            ]},
        }))
        .unwrap()
    }

    #[test]
    fn waiting_ends_when_it_runs_or_cannot_start_but_not_while_it_is_created() {
        let done = started("debugger-abcde".into());
        let running = pod_with("debugger-abcde", serde_json::json!({"running": {}}));
        let creating = pod_with(
            "debugger-abcde",
            serde_json::json!({"waiting": {"reason": "ContainerCreating"}}),
        );
        let bad_image = pod_with(
            "debugger-abcde",
            serde_json::json!({"waiting": {"reason": "ErrImagePull", "message": "no such image"}}),
        );
        assert!(done(Some(&running)));
        assert!(!done(Some(&creating)));
        assert!(done(Some(&bad_image)));
        assert!(!done(Some(&pod_with(
            "other",
            serde_json::json!({"running": {}})
        ))));
        assert!(!done(None));
        let why = not_running(&debug_state(&bad_image, "debugger-abcde").unwrap());
        assert_eq!(why.as_deref(), Some("ErrImagePull: no such image"));
        assert_eq!(
            not_running(&debug_state(&running, "debugger-abcde").unwrap()),
            None
        );
    }

    #[test]
    fn an_image_is_one_printable_token() {
        assert_eq!(checked_image(" busybox:1.37 ").unwrap(), "busybox:1.37");
        for bad in ["", "bad image", "x\u{7f}", &"a".repeat(300)] {
            assert!(checked_image(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_look_like_kubectl_debugs() {
        let name = format!("debugger-{}", suffix());
        assert_eq!(name.len(), 14);
        assert!(crate::names::validate("container", &name).is_ok());
    }
}
