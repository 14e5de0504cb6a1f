//! The pod list of the sidebar: filterable, with phase, readiness and restarts per pod.

use leptos::prelude::*;
use webshell_protocol::rest::Pod;

use crate::api;
use crate::app::{ALL_NAMESPACES, Target};
use crate::route::View;

/// Pods whose name contains `query`, or with a `/` in it, whose `namespace/name` does (for
/// the list of all namespaces: `kube-system/`), ASCII case-insensitive (Kubernetes names are
/// ASCII; a Unicode-aware lowercase would pull its case tables into the wasm), in the server's
/// order.
pub fn filter_pods<'a>(pods: &'a [Pod], query: &str) -> Vec<&'a Pod> {
    let query = query.trim().to_ascii_lowercase();
    let with_namespace = query.contains('/');
    pods.iter()
        .filter(|p| {
            let name = if with_namespace {
                format!("{}/{}", p.namespace, p.name)
            } else {
                p.name.clone()
            };
            name.to_ascii_lowercase().contains(&query)
        })
        .collect()
}

/// How long ago `created_ms` was at `now_ms` (both ms since the epoch), the way kubectl says
/// it: `45s`, `12m`, `3h`, `5d`.
pub fn age(created_ms: f64, now_ms: f64) -> String {
    let secs = ((now_ms - created_ms) / 1000.0).max(0.0) as u64;
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 2 * 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// `ready/total` containers, e.g. `1/2`.
pub fn readiness(pod: &Pod) -> String {
    let ready = pod.containers.iter().filter(|c| c.ready).count();
    format!("{ready}/{}", pod.containers.len())
}

/// Now, in ms since the epoch, updated every 10 s so that ages move on.
fn clock() -> ReadSignal<f64> {
    let (now, set_now) = signal(js_sys::Date::now());
    let tick = gloo_timers::callback::Interval::new(10_000, move || {
        set_now.try_set(js_sys::Date::now());
    });
    let tick = send_wrapper::SendWrapper::new(tick);
    on_cleanup(move || drop(tick));
    now
}

/// The pods of the selected namespace; a click opens the pod's first container.
#[component]
pub fn PodList(
    /// The pods, `None` while loading or without a namespace.
    pods: Signal<Option<Result<Vec<Pod>, api::Error>>>,
    /// The filter text.
    search: Signal<String>,
    /// The open terminal, to highlight its pod.
    selected: Signal<Option<Target>>,
    /// The cluster the list belongs to (`None`: the server's default).
    cluster: Signal<Option<String>>,
    /// The namespace the list belongs to, or [`ALL_NAMESPACES`].
    namespace: Signal<String>,
    /// Opens a terminal.
    on_open: Callback<Target>,
) -> impl IntoView {
    let now = clock();
    move || match pods.get() {
        None if namespace.with(String::is_empty) => {
            view! { <div class="muted pad">"No namespace selected."</div> }.into_any()
        }
        None => view! { <div class="muted pad" data-testid="pods-loading">"loading pods…"</div> }
            .into_any(),
        Some(Err(e)) => view! {
            <div class="api-error pad" data-testid="api-error" data-source="pods"
                data-status=e.status()>{format!("pods: {e}")}</div>
        }
        .into_any(),
        Some(Ok(all)) => {
            let query = search.get();
            let shown: Vec<Pod> = filter_pods(&all, &query).into_iter().cloned().collect();
            if shown.is_empty() {
                let text = if all.is_empty() {
                    "No pods in this namespace."
                } else {
                    "No match."
                };
                return view! { <div class="muted pad" data-testid="pods-empty">{text}</div> }
                    .into_any();
            }
            let all = namespace.with_untracked(|ns| ns == ALL_NAMESPACES);
            let place = (cluster.get_untracked(), all);
            view! {
                <ul class="pods" data-testid="pod-list">
                    {shown.into_iter().map(|pod| pod_row(pod, place.clone(), selected, on_open, now))
                        .collect_view()}
                </ul>
            }
            .into_any()
        }
    }
}

fn pod_row(
    pod: Pod,
    (cluster, all_namespaces): (Option<String>, bool),
    selected: Signal<Option<Target>>,
    on_open: Callback<Target>,
    now: ReadSignal<f64>,
) -> impl IntoView {
    let name = pod.name.clone();
    let namespace = pod.namespace.clone();
    let created = pod
        .created
        .as_deref()
        .map(js_sys::Date::parse)
        .filter(|ms| ms.is_finite());
    let age = move || created.map(|c| age(c, now.get()));
    let image = pod
        .containers
        .first()
        .map(|c| c.image.clone())
        .unwrap_or_default();
    let where_ = match &pod.node {
        Some(node) => format!("{node} · {image}"),
        None => image,
    };
    let last_state = pod
        .containers
        .iter()
        .find_map(|c| Some(format!("{}: last {}", c.name, c.last_state.as_deref()?)));
    let is_selected = {
        let (cl, ns, name) = (cluster.clone(), namespace.clone(), name.clone());
        move || {
            selected.with(|t| {
                t.as_ref()
                    .is_some_and(|t| t.cluster == cl && t.namespace == ns && t.pod == name)
            })
        }
    };
    let first = pod.containers.first().map(|c| c.name.clone());
    // Shared by click and Enter, so the list works without a mouse.
    let open = StoredValue::new(move || {
        if let Some(container) = first.clone() {
            on_open.run(Target {
                view: View::Shell,
                cluster: cluster.clone(),
                namespace: namespace.clone(),
                pod: name.clone(),
                container,
            });
        }
    });
    let phase_class = format!("phase phase-{}", pod.phase.to_ascii_lowercase());
    let containers = if pod.containers.len() > 1 {
        format!("{} containers", pod.containers.len())
    } else {
        String::new()
    };
    let no_exec = (!pod.exec_allowed).then_some(view! {
        <span class="no-exec" data-testid="no-exec"
            title="You may not open a terminal here: it needs create and get on pods/exec">
            "no shell access"
        </span>
    });
    view! {
        <li class="pod" data-testid="pod-row" data-pod=pod.name.clone()
            data-namespace=pod.namespace.clone()
            data-exec-allowed=pod.exec_allowed.to_string()
            class:selected=is_selected class:not-ready=!pod.ready
            tabindex="0" on:click=move |_| open.with_value(|f| f())
            on:keydown=move |e| if e.key() == "Enter" { open.with_value(|f| f()) }>
            <div class="pod-name" title=format!("{}/{}", pod.namespace, pod.name)>
                {all_namespaces.then(|| view! {
                    <span class="pod-namespace" data-testid="pod-namespace">{format!("{}/", pod.namespace)}</span>
                })}
                {pod.name.clone()}
            </div>
            <div class="pod-meta">
                <span class=phase_class>{pod.phase.clone()}</span>
                <span class="ready" title="ready containers">{readiness(&pod)}</span>
                <span class="restarts" title="restarts">{format!("↻{}", pod.restarts)}</span>
                <span class="age" data-testid="pod-age" title=pod.created.clone()>{age}</span>
                <span class="muted">{containers}</span>
                {no_exec}
            </div>
            <div class="pod-where muted" title=where_.clone()>{where_.clone()}</div>
            {last_state.map(|s| view! { <div class="pod-last-state" title=s.clone()>{s.clone()}</div> })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webshell_protocol::rest::Container;

    fn pod(name: &str, ready: &[bool]) -> Pod {
        Pod {
            name: name.into(),
            namespace: "demo".into(),
            phase: "Running".into(),
            ready: ready.iter().all(|r| *r),
            restarts: 0,
            containers: ready
                .iter()
                .enumerate()
                .map(|(i, r)| Container {
                    name: format!("c{i}"),
                    image: "img".into(),
                    ready: *r,
                    restarts: 0,
                    state: "running".into(),
                    tty: false,
                    stdin: false,
                    last_state: None,
                })
                .collect(),
            exec_allowed: true,
            created: None,
            node: None,
        }
    }

    #[test]
    fn filter_is_case_insensitive_substring() {
        let pods = vec![
            pod("web-0", &[true]),
            pod("Worker-1", &[true]),
            pod("db", &[true]),
        ];
        let names: Vec<&str> = filter_pods(&pods, " W")
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["web-0", "Worker-1"]);
        assert_eq!(filter_pods(&pods, "").len(), 3);
        // The namespace counts only when the query names one.
        assert_eq!(filter_pods(&pods, "demo").len(), 0);
        assert_eq!(filter_pods(&pods, "demo/").len(), 3);
        assert_eq!(filter_pods(&pods, "mo/d").len(), 1);
    }

    #[test]
    fn ages_read_like_kubectls() {
        let at = |secs: f64| age(0.0, secs * 1000.0);
        assert_eq!(at(45.0), "45s");
        assert_eq!(at(12.0 * 60.0), "12m");
        assert_eq!(at(3.0 * 3600.0), "3h");
        assert_eq!(at(5.0 * 86_400.0), "5d");
        assert_eq!(age(10_000.0, 0.0), "0s", "a clock behind the server's");
    }

    #[test]
    fn readiness_counts_ready_containers() {
        assert_eq!(readiness(&pod("p", &[true, false])), "1/2");
    }
}
