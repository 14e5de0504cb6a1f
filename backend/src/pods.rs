//! REST handlers for what the UI lists: namespaces and the pods in one.

use axum::Json;
use axum::extract::{Path, State};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, ListParams};
use tracing::instrument;
use webshell_protocol::{ErrorKind, rest};

use crate::access;
use crate::auth::Caller;
use crate::error::{AppError, classify};
use crate::names::validate;
use crate::state::AppState;

/// `GET /api/namespaces`
#[instrument(skip_all, fields(user = %caller.identity.user))]
pub async fn namespaces(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<rest::Namespace>>, AppError> {
    let client = state.upstream.client(&caller.credential)?;
    let list = Api::<Namespace>::all(client)
        .list(&ListParams::default())
        .await?;
    let mut names: Vec<_> = list
        .items
        .into_iter()
        .filter_map(|ns| ns.metadata.name)
        .map(|name| rest::Namespace { name })
        .collect();
    names.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(names))
}

/// `GET /api/namespaces/{namespace}/pods`
#[instrument(skip_all, fields(user = %caller.identity.user, namespace = %namespace))]
pub async fn pods(
    State(state): State<AppState>,
    caller: Caller,
    Path(namespace): Path<String>,
) -> Result<Json<Vec<rest::Pod>>, AppError> {
    validate("namespace", &namespace)?;
    let client = state.upstream.client(&caller.credential)?;
    let pods = Api::<Pod>::namespaced(client.clone(), &namespace);
    let params = ListParams::default();
    let (list, rules) = tokio::join!(pods.list(&params), access::exec_rules(&client, &namespace));
    let list = list?;
    if list.items.is_empty() {
        // Listing pods of a namespace that does not exist is an empty list to the API server;
        // a person typing a namespace into a deep link wants to hear it does not exist.
        match Api::<Namespace>::all(client.clone()).get(&namespace).await {
            Err(e) if classify(&e).kind == ErrorKind::NotFound => {
                return Err(AppError::not_found(format!(
                    "namespace {namespace} not found"
                )));
            }
            _ => {}
        }
    }
    let mut pods: Vec<_> = list
        .items
        .iter()
        .map(|pod| {
            let mut summary = summarize(pod);
            if let Some(rules) = &rules {
                summary.exec_allowed = access::rules_allow_exec(rules, &summary.name);
            }
            summary
        })
        .collect();
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(pods))
}

/// Reduces a pod to what a person needs to pick a terminal.
pub fn summarize(pod: &Pod) -> rest::Pod {
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    let containers: Vec<rest::Container> = pod
        .spec
        .iter()
        .flat_map(|spec| &spec.containers)
        .map(|c| {
            let status = statuses.iter().find(|s| s.name == c.name);
            let state = status
                .and_then(|s| s.state.as_ref())
                .map_or("unknown", |st| {
                    if st.running.is_some() {
                        "running"
                    } else if st.terminated.is_some() {
                        "terminated"
                    } else {
                        "waiting"
                    }
                });
            rest::Container {
                name: c.name.clone(),
                image: c.image.clone().unwrap_or_default(),
                ready: status.is_some_and(|s| s.ready),
                restarts: status.map_or(0, |s| s.restart_count),
                state: state.into(),
                tty: c.tty.unwrap_or(false),
                stdin: c.stdin.unwrap_or(false),
            }
        })
        .collect();
    rest::Pod {
        name: pod.metadata.name.clone().unwrap_or_default(),
        phase: pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".into()),
        ready: !containers.is_empty() && containers.iter().all(|c| c.ready),
        restarts: containers.iter().map(|c| c.restarts).sum(),
        containers,
        exec_allowed: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_is_summarized_with_per_container_state_and_summed_restarts() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web"},
            "spec": {"containers": [
                {"name": "app", "image": "nginx"},
                {"name": "sidecar", "image": "envoy"},
            ]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "app", "image": "nginx", "imageID": "", "ready": true, "restartCount": 2,
                 "state": {"running": {}}},
                {"name": "sidecar", "image": "envoy", "imageID": "", "ready": false, "restartCount": 1,
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
            ]},
        }))
        .unwrap();
        let summary = summarize(&pod);
        assert_eq!(summary.name, "web");
        assert_eq!(summary.phase, "Running");
        assert!(!summary.ready);
        assert_eq!(summary.restarts, 3);
        assert_eq!(summary.containers[0].state, "running");
        assert_eq!(summary.containers[1].state, "waiting");
    }

    #[test]
    fn a_pod_without_status_is_unknown_and_not_ready() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "new"},
            "spec": {"containers": [{"name": "app"}]},
        }))
        .unwrap();
        let summary = summarize(&pod);
        assert_eq!((summary.phase.as_str(), summary.ready), ("Unknown", false));
        assert_eq!(summary.containers[0].state, "unknown");
    }
}
