//! The live pod list of a namespace: the server's event stream of [`PodEvent`]s (a watch on
//! the API server), applied to a list as they come. No polling: a pod added or gone shows at
//! once, and the browser's `EventSource` reconnects by itself after a network loss.
//!
//! An `EventSource` that is refused (401, 404, 403) only says "error"; the list is then read
//! once over REST, whose answer carries the status and the server's message.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{EventSource, MessageEvent};
use webshell_protocol::rest::{Pod, PodEvent};

use crate::api;

/// The pod list as the view shows it: `None` while loading or without a namespace.
pub type PodListState = Option<Result<Vec<Pod>, api::Error>>;

/// Applies one event to the shown state: a `Reset` replaces everything (the first list, or a
/// new one after the watch started over), a change applies to a loaded list, and a `Failed`
/// shows the server's error.
pub fn apply(state: &mut PodListState, event: PodEvent) {
    match (event, state.as_mut()) {
        (PodEvent::Reset { pods }, _) => *state = Some(Ok(pods)),
        (PodEvent::Failed { error }, _) => *state = Some(Err(api::Error::Status(error))),
        (change, Some(Ok(list))) => change.apply_to(list),
        // A change before any list cannot happen (the server starts with a Reset).
        (_, _) => {}
    }
}

/// What must live as long as one stream.
struct Feed {
    source: EventSource,
    /// Cleared on close, so a late callback of an old namespace changes nothing.
    live: Rc<Cell<bool>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut()>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.live.set(false);
        self.source.close();
    }
}

/// The pods of `namespace` in `cluster`, live. Bumping `restarts` opens the stream anew (the
/// refresh button, a new sign-in).
pub fn use_pod_feed(
    cluster: Signal<Option<String>>,
    namespace: Signal<String>,
    restarts: Signal<u32>,
) -> ReadSignal<PodListState> {
    let (pods, set_pods) = signal(None::<Result<Vec<Pod>, api::Error>>);
    let feed = StoredValue::new(SendWrapper::new(None::<Feed>));
    Effect::new(move |_| {
        let ns = namespace.get();
        let cluster = cluster.get();
        restarts.track();
        feed.set_value(SendWrapper::new(None));
        set_pods.set(None);
        if !ns.is_empty() {
            feed.set_value(SendWrapper::new(open(cluster.as_deref(), &ns, set_pods)));
        }
    });
    on_cleanup(move || feed.set_value(SendWrapper::new(None)));
    pods
}

fn open(
    cluster: Option<&str>,
    namespace: &str,
    set_pods: WriteSignal<PodListState>,
) -> Option<Feed> {
    let (_, path) = api::pod_list_paths(cluster, namespace);
    let source = EventSource::new(&path).ok()?;
    let live = Rc::new(Cell::new(true));
    let on_message = {
        let (live, source) = (Rc::clone(&live), source.clone());
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if !live.get() {
                return;
            }
            let Some(text) = e.data().as_string() else {
                return;
            };
            let Ok(event) = api::json::from_str::<PodEvent>(&text) else {
                return;
            };
            if matches!(event, PodEvent::Failed { .. }) {
                // The server ends the stream; without this the browser would reconnect.
                source.close();
            }
            set_pods.update(|state| apply(state, event));
        })
    };
    let on_error = {
        let (live, source, namespace) = (Rc::clone(&live), source.clone(), namespace.to_owned());
        let cluster = cluster.map(str::to_owned);
        Closure::<dyn FnMut()>::new(move || {
            // CONNECTING: the browser retries by itself. CLOSED: refused; ask REST why.
            if !live.get() || source.ready_state() != EventSource::CLOSED {
                return;
            }
            let (live, namespace, cluster) = (Rc::clone(&live), namespace.clone(), cluster.clone());
            leptos::task::spawn_local(async move {
                let answer = api::pods(cluster.as_deref(), &namespace).await;
                if live.get() {
                    set_pods.set(Some(answer));
                }
            });
        })
    };
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Some(Feed {
        source,
        live,
        _on_message: on_message,
        _on_error: on_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use webshell_protocol::rest::ApiError;

    fn pod(name: &str) -> Pod {
        Pod {
            namespace: "demo".into(),
            name: name.into(),
            phase: "Running".into(),
            ready: true,
            restarts: 0,
            containers: Vec::new(),
            exec_allowed: true,
            created: None,
            node: None,
        }
    }

    fn names(state: &PodListState) -> Vec<String> {
        match state {
            Some(Ok(list)) => list.iter().map(|p| p.name.clone()).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_reset_loads_the_list_and_changes_follow_it() {
        let mut state = None;
        apply(&mut state, PodEvent::Applied { pod: pod("early") });
        assert_eq!(state, None, "nothing before the first list");
        apply(
            &mut state,
            PodEvent::Reset {
                pods: vec![pod("a"), pod("c")],
            },
        );
        apply(&mut state, PodEvent::Applied { pod: pod("b") });
        apply(
            &mut state,
            PodEvent::Deleted {
                namespace: "demo".into(),
                name: "c".into(),
            },
        );
        assert_eq!(names(&state), ["a", "b"]);
    }

    #[test]
    fn a_failed_watch_shows_the_servers_error() {
        let mut state = Some(Ok(vec![pod("a")]));
        let error = ApiError {
            status: 403,
            reason: "Forbidden".into(),
            message: "pods is forbidden".into(),
        };
        apply(
            &mut state,
            PodEvent::Failed {
                error: error.clone(),
            },
        );
        assert_eq!(state, Some(Err(api::Error::Status(error))));
    }
}
