//! REST handlers for what the UI lists: namespaces and the pods in one, once or live.

use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt, future};
use k8s_openapi::api::authorization::v1::ResourceRule;
use k8s_openapi::api::core::v1::{ContainerStatus, Namespace, Pod};
use kube::api::{Api, ListParams};
use kube::runtime::{WatchStreamExt, watcher};
use tracing::instrument;
use webshell_protocol::rest::PodEvent;
use webshell_protocol::{ErrorKind, rest};

use crate::access;
use crate::auth::Caller;
use crate::clusters::Cluster;
use crate::error::{AppError, classify};
use crate::names::validate;
use crate::state::AppState;

/// `GET /api/namespaces`
#[instrument(skip_all, fields(user = %caller.identity.user))]
pub async fn namespaces(
    Cluster(upstream): Cluster,
    caller: Caller,
) -> Result<Json<Vec<rest::Namespace>>, AppError> {
    let client = upstream.client(&caller.credential)?;
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
    Cluster(upstream): Cluster,
    caller: Caller,
    Path(namespace): Path<String>,
) -> Result<Json<Vec<rest::Pod>>, AppError> {
    validate("namespace", &namespace)?;
    let client = upstream.client(&caller.credential)?;
    let pods = Api::<Pod>::namespaced(client.clone(), &namespace);
    let params = ListParams::default();
    let (list, rules) = tokio::join!(
        pods.list(&params),
        ExecRules::of(&client, [namespace.clone()])
    );
    let list = list?;
    if list.items.is_empty() {
        // Listing pods of a namespace that does not exist is an empty list to the API server;
        // a person typing a namespace into a deep link wants to hear it does not exist.
        namespace_exists(&client, &namespace).await?;
    }
    Ok(Json(rules.summarize_all(&list.items)))
}

/// `GET /api/pods`: the pods of every namespace, as `kubectl get pods -A` (which needs `list`
/// on pods cluster-wide).
#[instrument(skip_all, fields(user = %caller.identity.user))]
pub async fn all_pods(
    Cluster(upstream): Cluster,
    caller: Caller,
) -> Result<Json<Vec<rest::Pod>>, AppError> {
    let client = upstream.client(&caller.credential)?;
    let list = Api::<Pod>::all(client.clone())
        .list(&ListParams::default())
        .await?;
    let namespaces = list
        .items
        .iter()
        .filter_map(|p| p.metadata.namespace.clone());
    let rules = ExecRules::of(&client, namespaces).await;
    Ok(Json(rules.summarize_all(&list.items)))
}

/// The error for a pod that is not there: it names the namespace when that is missing too (a
/// mistyped deep link) and the caller may see namespaces; otherwise both.
pub async fn missing_pod(client: &kube::Client, namespace: &str, pod: &str) -> AppError {
    match namespace_exists(client, namespace).await {
        Err(e) => e,
        Ok(()) => AppError::not_found(format!("pod {pod} not found in namespace {namespace}")),
    }
}

async fn namespace_exists(client: &kube::Client, namespace: &str) -> Result<(), AppError> {
    match Api::<Namespace>::all(client.clone()).get(namespace).await {
        Err(e) if classify(&e).kind == ErrorKind::NotFound => Err(AppError::not_found(format!(
            "namespace {namespace} not found"
        ))),
        _ => Ok(()),
    }
}

/// The most namespaces whose RBAC rules one list asks for. Past it, pods stay unmarked (the
/// exec is checked when it starts anyway): a list must not cost a thousand reviews.
const MAX_RULE_REVIEWS: usize = 100;

/// Reviews asked for at once.
const RULE_REVIEWS_AT_ONCE: usize = 8;

/// The caller's RBAC rules per namespace, as far as the API server told them, to mark the pods
/// they cannot open a terminal in.
#[derive(Default)]
struct ExecRules(HashMap<String, Vec<ResourceRule>>);

impl ExecRules {
    async fn of(client: &kube::Client, namespaces: impl IntoIterator<Item = String>) -> ExecRules {
        let wanted: BTreeSet<String> = namespaces.into_iter().collect();
        let rules = futures::stream::iter(wanted.into_iter().take(MAX_RULE_REVIEWS))
            .map(|ns| async move {
                let rules = access::exec_rules(client, &ns).await;
                rules.map(|r| (ns, r))
            })
            .buffer_unordered(RULE_REVIEWS_AT_ONCE)
            .filter_map(future::ready)
            .collect()
            .await;
        ExecRules(rules)
    }

    /// [`summarize`], with the pod marked when the rules of its namespace (if known) do not
    /// allow an exec.
    fn summarize(&self, pod: &Pod) -> rest::Pod {
        let mut summary = summarize(pod);
        if let Some(rules) = self.0.get(&summary.namespace) {
            summary.exec_allowed = access::rules_allow_exec(rules, &summary.name);
        }
        summary
    }

    fn summarize_all(&self, pods: &[Pod]) -> Vec<rest::Pod> {
        let mut all: Vec<_> = pods.iter().map(|pod| self.summarize(pod)).collect();
        sort(&mut all);
        all
    }
}

fn sort(pods: &mut [rest::Pod]) {
    pods.sort_by(|a, b| a.key().cmp(&b.key()));
}

/// How often an idle event stream sends a comment, so proxies do not close it.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `GET /api/namespaces/{namespace}/pod-events` (server-sent events): the pod list, then
/// every change, from a kube-rs watcher (which lists, watches, and starts over with a new list
/// when the watch expires). A failure before the first list ends the stream with `Failed`
/// (no right to watch, say); later ones are retried with backoff while the person waits.
#[instrument(skip_all, fields(user = %caller.identity.user, namespace = %namespace))]
pub async fn pod_events(
    State(state): State<AppState>,
    Cluster(upstream): Cluster,
    caller: Caller,
    Path(namespace): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    validate("namespace", &namespace)?;
    let client = upstream.client(&caller.credential)?;
    namespace_exists(&client, &namespace).await?;
    let rules = ExecRules::of(&client, [namespace.clone()]).await;
    let pods = Api::<Pod>::namespaced(client, &namespace);
    Ok(pod_event_stream(&state, pods, rules))
}

/// `GET /api/pod-events`: [`all_pods`], live. Pods are marked by the rules of the namespaces
/// there were when it started (those the caller may list); pods of later ones are not.
#[instrument(skip_all, fields(user = %caller.identity.user))]
pub async fn all_pod_events(
    State(state): State<AppState>,
    Cluster(upstream): Cluster,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let client = upstream.client(&caller.credential)?;
    let namespaces = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map(|list| list.items)
        .unwrap_or_default();
    let names = namespaces.into_iter().filter_map(|ns| ns.metadata.name);
    let rules = ExecRules::of(&client, names).await;
    Ok(pod_event_stream(&state, Api::<Pod>::all(client), rules))
}

fn pod_event_stream(
    state: &AppState,
    pods: Api<Pod>,
    rules: ExecRules,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<>> {
    let summary = move |pod: &Pod| rules.summarize(pod);
    let mut changes = PodChanges::default();
    let events = watcher(pods, watcher::Config::default())
        .default_backoff()
        .filter_map(move |event| future::ready(changes.next(event, &summary)))
        // Nothing after a Failed: the stream ends with it.
        .scan(false, |failed, event| {
            let end = std::mem::replace(failed, matches!(event, PodEvent::Failed { .. }));
            future::ready((!end).then_some(event))
        })
        .take_until(state.lifecycle.session_stop().cancelled_owned())
        .map(|event| {
            Ok(Event::default()
                .json_data(&event)
                .unwrap_or_else(|_| Event::default().comment("unencodable event")))
        });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

/// Turns watcher events into pod list changes: the pods of a (re)list are gathered and sent
/// as one `Reset` once complete.
#[derive(Default)]
struct PodChanges {
    listing: Vec<rest::Pod>,
    listed_once: bool,
}

impl PodChanges {
    fn next(
        &mut self,
        event: Result<watcher::Event<Pod>, watcher::Error>,
        summary: &impl Fn(&Pod) -> rest::Pod,
    ) -> Option<PodEvent> {
        match event {
            Ok(watcher::Event::Init) => {
                self.listing.clear();
                None
            }
            Ok(watcher::Event::InitApply(pod)) => {
                self.listing.push(summary(&pod));
                None
            }
            Ok(watcher::Event::InitDone) => {
                self.listed_once = true;
                let mut pods = std::mem::take(&mut self.listing);
                sort(&mut pods);
                Some(PodEvent::Reset { pods })
            }
            Ok(watcher::Event::Apply(pod)) => Some(PodEvent::Applied { pod: summary(&pod) }),
            Ok(watcher::Event::Delete(pod)) => Some(PodEvent::Deleted {
                namespace: pod.metadata.namespace.unwrap_or_default(),
                name: pod.metadata.name.unwrap_or_default(),
            }),
            Err(_) if self.listed_once => None,
            Err(e) => {
                let error = watch_error(&e);
                Some(PodEvent::Failed {
                    error: rest::ApiError {
                        status: error.kind.http_status(),
                        reason: error.kind.reason().to_owned(),
                        message: error.message,
                    },
                })
            }
        }
    }
}

fn watch_error(e: &watcher::Error) -> AppError {
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => classify(e),
        other => AppError::new(ErrorKind::Upstream, other.to_string()),
    }
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
                last_state: status.and_then(last_state),
            }
        })
        .collect();
    rest::Pod {
        name: pod.metadata.name.clone().unwrap_or_default(),
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        phase: pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".into()),
        ready: !containers.is_empty() && containers.iter().all(|c| c.ready),
        restarts: containers.iter().map(|c| c.restarts).sum(),
        containers,
        exec_allowed: true,
        created: pod
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string()),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
    }
}

/// How the previous instance of a container ended, e.g. `OOMKilled (exit 137)`.
fn last_state(status: &ContainerStatus) -> Option<String> {
    let ended = status.last_state.as_ref()?.terminated.as_ref()?;
    let reason = ended.reason.as_deref().unwrap_or("Terminated");
    Some(format!("{reason} (exit {})", ended.exit_code))
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

    fn pod_named(name: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "demo", "creationTimestamp": "2026-12-07T01:02:03Z"},
            "spec": {"nodeName": "webshell-node", "containers": [{"name": "app"}]},
        }))
        .unwrap()
    }

    #[test]
    fn pods_are_marked_by_the_rules_of_their_own_namespace_and_unknown_ones_are_not() {
        let exec_anywhere = ResourceRule {
            verbs: vec!["get".into(), "create".into()],
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["pods/exec".into()]),
            resource_names: None,
        };
        let rules = ExecRules(HashMap::from([
            ("demo".to_owned(), vec![exec_anywhere]),
            ("locked".to_owned(), Vec::new()),
        ]));
        let in_ns = |ns: &str| {
            let mut pod = pod_named("web");
            pod.metadata.namespace = Some(ns.into());
            rules.summarize(&pod).exec_allowed
        };
        assert!(in_ns("demo"));
        assert!(!in_ns("locked"));
        assert!(
            in_ns("not-reviewed"),
            "unknown rules mark nothing; the exec is checked anyway"
        );
    }

    #[test]
    fn a_pod_says_its_age_node_and_how_a_restarted_container_last_ended() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "creationTimestamp": "2026-12-07T01:02:03Z"},
            "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "nginx"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "app", "image": "nginx", "imageID": "", "ready": true, "restartCount": 1,
                 "state": {"running": {}},
                 "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}},
            ]},
        }))
        .unwrap();
        let summary = summarize(&pod);
        assert_eq!(summary.created.as_deref(), Some("2026-12-07T01:02:03Z"));
        assert_eq!(summary.node.as_deref(), Some("node-1"));
        assert_eq!(
            summary.containers[0].last_state.as_deref(),
            Some("OOMKilled (exit 137)")
        );
    }

    #[test]
    fn watcher_events_become_a_reset_per_listing_then_single_changes() {
        let mut changes = PodChanges::default();
        let mut next = |e| changes.next(e, &summarize);
        assert_eq!(next(Ok(watcher::Event::Init)), None);
        assert_eq!(next(Ok(watcher::Event::InitApply(pod_named("b")))), None);
        assert_eq!(next(Ok(watcher::Event::InitApply(pod_named("a")))), None);
        let Some(PodEvent::Reset { pods }) = next(Ok(watcher::Event::InitDone)) else {
            panic!("a reset");
        };
        let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b"], "sorted");
        assert!(matches!(
            next(Ok(watcher::Event::Apply(pod_named("c")))),
            Some(PodEvent::Applied { pod }) if pod.name == "c"
        ));
        assert_eq!(
            next(Ok(watcher::Event::Delete(pod_named("a")))),
            Some(PodEvent::Deleted {
                namespace: "demo".into(),
                name: "a".into()
            })
        );
        // Once listed, a failed watch is retried quietly.
        assert_eq!(next(Err(watcher::Error::NoResourceVersion)), None);
    }

    #[test]
    fn a_watch_that_fails_before_its_first_list_says_why() {
        let mut changes = PodChanges::default();
        let forbidden = kube::Error::Api(
            kube::core::Status::failure("pods is forbidden", "Forbidden")
                .with_code(403)
                .boxed(),
        );
        match changes.next(
            Err(watcher::Error::InitialListFailed(forbidden)),
            &summarize,
        ) {
            Some(PodEvent::Failed { error }) => {
                assert_eq!(
                    (error.status, error.message.as_str()),
                    (403, "pods is forbidden")
                );
            }
            other => panic!("{other:?}"),
        }
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
