//! The webshell SPA: pick a namespace, a pod and a container, get a terminal.
//!
//! State lives in a few signals; the URL is the source of truth for which terminal is open
//! (`[/c/{cluster}]/t/{ns}/{pod}/{container}`, see [`crate::route`]): selecting pushes a
//! history entry, back/forward re-reads the path. A server that reaches several clusters
//! (kubeconfig contexts) gets a cluster selector; the pod browser shows one cluster at a time,
//! and tabs stay open across clusters. While the server answers 401 the SPA shows [`SignIn`] for
//! the server's mode; signing in leaves an `HttpOnly` cookie the SPA never touches.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use webshell_protocol::rest::{AuthMode, ClusterList, Namespace, Pod};
use webshell_protocol::{ErrorKind, close_code};

use crate::api;
use crate::debug_offer::DebugOffer;
use crate::logs_view::LogsView;
use crate::pod_feed::use_pod_feed;
use crate::pod_list::PodList;
use crate::route::{Location, Route, View};
use crate::settings::{self, Settings};
use crate::settings_menu::SettingsMenu;
use crate::sign_in::SignIn;
use crate::status::TerminalStatus;
use crate::tabs::{TabStrip, Tabs, may_end};
use crate::terminal::Terminal;

/// The container a tab is open to, and what it shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Shell, attach or logs.
    pub view: View,
    /// The cluster; `None` is the server's default.
    pub cluster: Option<String>,
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
}

impl Target {
    fn location(&self) -> Location {
        Location {
            cluster: self.cluster.clone(),
            route: Route::Terminal {
                view: self.view,
                namespace: self.namespace.clone(),
                pod: self.pod.clone(),
                container: Some(self.container.clone()),
            },
        }
    }

    /// Where it is, for a person: `namespace/pod`, after the cluster unless the default.
    pub fn place(&self) -> String {
        match &self.cluster {
            Some(cluster) => format!("{cluster}: {}/{}", self.namespace, self.pod),
            None => format!("{}/{}", self.namespace, self.pod),
        }
    }
}

/// The namespace picker's value for the pods of every namespace at once. Never a namespace:
/// their names are DNS labels.
pub const ALL_NAMESPACES: &str = "*";

/// The namespace to show first: `demo` (the test cluster's), else `default`, else the first.
pub fn default_namespace(namespaces: &[Namespace]) -> Option<String> {
    ["demo", "default"]
        .iter()
        .find_map(|want| namespaces.iter().find(|n| n.name == *want))
        .or_else(|| namespaces.first())
        .map(|n| n.name.clone())
}

/// The whole application.
#[component]
pub fn App() -> impl IntoView {
    let location = RwSignal::new(Location::parse(&location_path()));
    let route = Memo::new(move |_| location.with(|l| l.route.clone()));
    // The cluster the pod browser shows (tabs may be open in others).
    let cluster = RwSignal::new(location.with_untracked(|l| l.cluster.clone()));
    let namespace = RwSignal::new(match route.get_untracked() {
        Route::Terminal { namespace, .. } => namespace,
        Route::Home => String::new(),
    });
    let search = RwSignal::new(String::new());
    let settings = RwSignal::new(settings::load());
    // Stored only once changed: a visitor who changes nothing leaves nothing in storage.
    Effect::new(move |first: Option<()>| {
        settings.with(|s| {
            if first.is_some() {
                settings::save(s);
            }
        });
    });
    let prefers_light = prefers_light_scheme();
    let terminal_options =
        Memo::new(move |_| settings.with(|s| s.terminal_options(prefers_light.get())));
    // The page's own colours follow the terminal's (style.css: [data-theme=light]).
    Effect::new(move |_| {
        let light = settings.with(|s: &Settings| s.is_light(prefers_light.get()));
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-theme", if light { "light" } else { "dark" });
        }
    });
    // One terminal per tab; the URL names the active one. A tab's signals belong to the app,
    // not to the effect that opens it (whose next run would dispose them).
    let tabs = RwSignal::new(Tabs::default());
    let app_owner = Owner::current();
    let open_tab = move |t: Target| {
        let open = || {
            tabs.update(|ts| {
                ts.open(t);
            })
        };
        match &app_owner {
            Some(owner) => owner.with(open),
            None => open(),
        }
    };

    // Bumped whenever the sign-in may have changed (signed in, signed out, a terminal told us
    // the sign-in ended): every fetch and the terminal depend on it, so they all start over.
    let sign_ins = RwSignal::new(0u32);
    let auth_info = LocalResource::new(api::auth_info);
    let clusters = LocalResource::new(move || {
        sign_ins.track();
        api::clusters()
    });
    let me = LocalResource::new(move || {
        sign_ins.track();
        api::whoami(cluster.get())
    });
    let namespaces = LocalResource::new(move || {
        sign_ins.track();
        api::namespaces(cluster.get())
    });
    // Another cluster: its context's namespace if it names one; else the same namespace if
    // that cluster has it (clusters of one organisation often do), else its default.
    let namespace_unchecked = StoredValue::new(false);
    Effect::new(move |previous: Option<Option<String>>| {
        let now = cluster.get();
        if previous.is_some_and(|p| p != now) {
            let named = clusters.with_untracked(|c| context_namespace(c, now.as_deref()));
            match named {
                Some(ns) => namespace.set(ns),
                None => namespace_unchecked.set_value(true),
            }
        }
        now
    });
    Effect::new(move |_| {
        if let Some(Ok(list)) = namespaces.get() {
            let current = namespace.get_untracked();
            let missing = current != ALL_NAMESPACES && !list.iter().any(|n| n.name == current);
            if (current.is_empty() || (namespace_unchecked.get_value() && missing))
                && let Some(ns) = default_namespace(&list)
            {
                namespace.set(ns);
            }
            namespace_unchecked.set_value(false);
        }
    });
    // The pod list is live (a watch); the refresh button and a new sign-in reopen it.
    let reloads = RwSignal::new(0u32);
    let pod_list: Signal<Option<Result<Vec<Pod>, api::Error>>> = use_pod_feed(
        cluster.into(),
        namespace.into(),
        Signal::derive(move || sign_ins.get().wrapping_add(reloads.get())),
    )
    .into();
    // `Some(why)` while the server answers 401: the sign-in panel replaces the main area.
    let sign_in_reason = Memo::new(move |_| {
        let who = me.get().and_then(|r| r.err());
        let ns = namespaces.get().and_then(|r| r.err());
        let pods = pod_list.get().and_then(|r| r.err());
        who.into_iter()
            .chain(ns)
            .chain(pods)
            .find_map(|e| e.unauthorized().map(str::to_owned))
    });
    let signed_in = Callback::new(move |()| sign_ins.update(|n| *n += 1));
    let sign_out = move |_| {
        let info = auth_info.get().and_then(Result::ok);
        leptos::task::spawn_local(async move {
            let _ = api::sign_out().await;
            // Behind a proxy, its own session must end too, on its page.
            match info {
                Some(i) if i.mode == AuthMode::Proxy && i.sign_out_url.is_some() => {
                    let _ = window()
                        .location()
                        .assign(&i.sign_out_url.unwrap_or_default());
                }
                _ => sign_ins.update(|n| *n += 1),
            }
        });
    };
    // A terminal refused or ended for want of a valid sign-in: check again, which shows the
    // sign-in panel with the server's reason.
    let signed_out_by = Callback::new(move |s: TerminalStatus| {
        let signed_out = matches!(
            &s,
            TerminalStatus::Disconnected { code, .. } if *code == close_code::UNAUTHORIZED
        ) || matches!(
            &s,
            TerminalStatus::Error {
                kind: ErrorKind::Unauthorized,
                ..
            }
        );
        if signed_out {
            sign_ins.update(|n| *n += 1);
        }
    });

    // The terminal to show. A deep link without a container resolves to the pod's first
    // container once that namespace's pods are loaded.
    let target = Memo::new(move |_| {
        let Location {
            cluster: in_cluster,
            route:
                Route::Terminal {
                    view,
                    namespace: ns,
                    pod,
                    container,
                },
        } = location.get()
        else {
            return None;
        };
        let container = match container {
            Some(c) => c,
            None if namespace.get() == ns && cluster.get() == in_cluster => {
                let pods = pod_list.get()?.ok()?;
                pods.iter()
                    .find(|p| p.name == pod)?
                    .containers
                    .first()?
                    .name
                    .clone()
            }
            None => return None,
        };
        Some(Target {
            view,
            cluster: in_cluster,
            namespace: ns,
            pod,
            container,
        })
    });
    // ...and the URL then names the container, so reload and sharing open the same one.
    Effect::new(move |_| {
        if let Some(t) = target.get()
            && matches!(
                route.get_untracked(),
                Route::Terminal {
                    container: None,
                    ..
                }
            )
        {
            replace_path(&t.location().path());
            location.set(t.location());
        }
    });
    // The wanted terminal gets a tab (or its tab is shown)...
    Effect::new(move |_| {
        if let Some(t) = target.get()
            && tabs.with_untracked(|ts| ts.active_tab().map(|a| &a.target) != Some(&t))
        {
            open_tab(t);
        }
    });
    let active = Memo::new(move |_| tabs.with(|ts| ts.active_tab().map(|t| t.target.clone())));
    // ...and the URL follows the tab a person picks or closes; without one, the cluster
    // picked.
    Effect::new(move |_| {
        let wanted = match active.get() {
            Some(t) => t.location(),
            None => Location {
                cluster: cluster.get(),
                route: Route::Home,
            },
        };
        if location.with_untracked(|l| *l != wanted) {
            push_path(&wanted.path());
            location.set(wanted);
        }
    });
    let active_status = Signal::derive(move || {
        tabs.with(|ts| ts.active_tab().map(|t| t.status.get()))
            .unwrap_or(TerminalStatus::Connecting)
    });
    // The page title names the pod, so a person with several browser tabs finds the right one.
    Effect::new(move |_| {
        let title = match active.get() {
            Some(t) => page_title(&t),
            None => "webshell".to_owned(),
        };
        document().set_title(&title);
    });
    let selected_pod: Signal<Option<Pod>> = Signal::derive(move || {
        let t = active.get()?;
        let shown = namespace.with(|ns| *ns == t.namespace || ns == ALL_NAMESPACES);
        (shown && cluster.get() == t.cluster).then_some(())?;
        pod_list
            .get()?
            .ok()?
            .into_iter()
            .find(|p| p.key() == (t.namespace.as_str(), t.pod.as_str()))
    });

    // On a narrow screen the pod list is a drawer over the terminal (style.css), open while
    // picking a pod; on a wide one it is always there and this has no effect.
    let drawer_open = RwSignal::new(false);
    let open = move |t: Target| {
        drawer_open.set(false);
        let l = t.location();
        if location_path() != l.path() {
            push_path(&l.path());
        }
        location.set(l);
    };
    // Closing or reloading the page ends the shells and their output: the browser asks
    // first while one runs.
    let _ = window_event_listener(ev::beforeunload, move |e| {
        if tabs.with_untracked(Tabs::any_running) {
            e.prevent_default();
        }
    });
    let reconnect = move |_| {
        let Some(tab) = tabs.with_untracked(|ts| ts.active_tab().cloned()) else {
            return;
        };
        if may_end(&tab, "Reconnecting") {
            tab.generation.update(|n| *n += 1);
        }
    };
    // Back/forward: follow the path the browser restored.
    let _ = window_event_listener(ev::popstate, move |_| {
        let l = Location::parse(&location_path());
        if let Route::Terminal { namespace: ns, .. } = &l.route {
            namespace.set(ns.clone());
        }
        cluster.set(l.cluster.clone());
        location.set(l);
    });

    let endpoint = StoredValue::new(socket_endpoint_override().unwrap_or_default());
    // Every tab's terminal stays mounted (and connected); only the active one is shown.
    let tab_ids = move || tabs.with(|ts| ts.open.iter().map(|t| t.id).collect::<Vec<_>>());
    let tab_panel = move |id: u32| {
        let tab = tabs.with_untracked(|ts| ts.get(id).cloned())?;
        let shown = move || tabs.with(|ts| ts.active == Some(id));
        let status = tab.status;
        let on_status = Callback::new(move |s: TerminalStatus| {
            status.set(s.clone());
            signed_out_by.run(s);
        });
        let target = tab.target;
        let generation = tab.generation;
        let terminal = move || {
            generation.track();
            let t = target.clone();
            match t.view {
                View::Shell | View::Attach => view! {
                    <Terminal
                        endpoint=endpoint.get_value()
                        cluster=t.cluster
                        namespace=t.namespace
                        pod=t.pod
                        container=t.container
                        attach=t.view == View::Attach
                        on_status=on_status
                        options=terminal_options
                    />
                }
                .into_any(),
                View::Logs => view! {
                    <LogsView
                        cluster=t.cluster
                        namespace=t.namespace
                        pod=t.pod
                        container=t.container
                        on_status=on_status
                        options=terminal_options
                    />
                }
                .into_any(),
            }
        };
        Some(view! {
            <div class="tab-panel" id=format!("tab-panel-{id}") data-active=move || shown().to_string()
                style:display=move || if shown() { "block" } else { "none" }>
                {terminal}
            </div>
        })
    };

    view! {
        <div class="app" data-testid="app" class:drawer-open=move || drawer_open.get()>
            <header class="topbar">
                <button class="ghost drawer-toggle" data-testid="drawer-toggle"
                    aria-label="Pods" aria-controls="pod-drawer"
                    aria-expanded=move || drawer_open.get().to_string()
                    on:click=move |_| drawer_open.update(|o| *o = !*o)>"☰"</button>
                <h1 class="brand">"webshell"</h1>
                <ClusterSelect clusters cluster />
                <NamespaceSelect namespaces namespace />
                <button class="ghost" title="Reload namespaces and pods" data-testid="refresh"
                    on:click=move |_| {
                        clusters.refetch();
                        namespaces.refetch();
                        reloads.update(|n| *n += 1);
                    }>"↻"</button>
                <span class="spacer"></span>
                <SettingsMenu settings />
                {move || me.get().and_then(Result::ok).map(|who| {
                    let title = if who.groups.is_empty() {
                        format!("signed in as {} ({})", who.user, who.mode.as_str())
                    } else {
                        format!("signed in as {} ({}); groups: {}", who.user, who.mode.as_str(),
                            who.groups.join(", "))
                    };
                    view! {
                        <span class="user" data-testid="user" title=title>{who.user}</span>
                        <button class="ghost sign-out" data-testid="sign-out"
                            on:click=sign_out>"Sign out"</button>
                    }
                })}
            </header>
            <aside class="sidebar" id="pod-drawer" aria-label="Pods">
                <input class="search" type="search" placeholder="Filter pods…"
                    aria-label="Filter pods"
                    data-testid="pod-search"
                    prop:value=move || search.get()
                    on:input=move |e| search.set(event_target_value(&e)) />
                <PodList
                    pods=pod_list
                    search=search.into()
                    selected=Signal::derive(move || active.get())
                    cluster=cluster.into()
                    namespace=namespace.into()
                    on_open=Callback::new(open)
                />
            </aside>
            <main class="main" on:click=move |_| drawer_open.set(false)>
                <Show
                    when=move || sign_in_reason.with(Option::is_none)
                    fallback=move || auth_info.get().and_then(Result::ok).map(|info| view! {
                        <SignIn
                            info
                            reason=Signal::derive(move || sign_in_reason.get().unwrap_or_default())
                            on_signed_in=signed_in
                        />
                    })
                >
                    <Show
                        when=move || tabs.with(|ts| !ts.open.is_empty())
                        fallback=move || view! { <Placeholder route=route.into() pods=pod_list /> }
                    >
                        <TabStrip tabs on_open=Callback::new(open) />
                        <div class="toolbar">
                            <span class="target" data-testid="target">
                                {move || active.get().map(|t| t.place())}
                            </span>
                            <ContainerSelect pod=selected_pod target=active on_open=Callback::new(open) />
                            <ViewSwitch target=active on_open=Callback::new(open) />
                            <StatusLine status=active_status />
                            <button data-testid="reconnect"
                                class:primary=move || active_status.with(TerminalStatus::is_final)
                                on:click=reconnect>"Reconnect"</button>
                        </div>
                        <DebugOffer target=active status=active_status on_open=Callback::new(open) />
                        <div class="term-area">
                            <For each=tab_ids key=|id| *id children=tab_panel />
                        </div>
                    </Show>
                </Show>
            </main>
        </div>
    }
}

/// The cluster `<select>`, when the server reaches more than one. Its value is the cluster's
/// name; the server's default is `None` in the signal, so its links stay short.
#[component]
fn ClusterSelect(
    /// The server's clusters, once loaded.
    clusters: LocalResource<Result<ClusterList, api::Error>>,
    /// The cluster the pod browser shows.
    cluster: RwSignal<Option<String>>,
) -> impl IntoView {
    move || {
        let list = clusters.get()?.ok()?;
        if list.clusters.len() < 2 {
            return None;
        }
        let default = list.default.clone();
        let shown = {
            let default = default.clone();
            move || cluster.get().unwrap_or_else(|| default.clone())
        };
        let current = shown();
        let choose = move |e: ev::Event| {
            let name = event_target_value(&e);
            cluster.set((name != default).then_some(name));
        };
        Some(view! {
            <select data-testid="cluster-select" title="Cluster (kubeconfig context)"
                aria-label="Cluster" prop:value=shown on:change=choose>
                {list.clusters.into_iter().map(|c| {
                    let selected = c.name == current;
                    view! { <option value=c.name.clone() selected=selected>{c.name.clone()}</option> }
                }).collect_view()}
            </select>
        })
    }
}

/// The namespace a cluster's context names, if the list is loaded and it names one.
fn context_namespace(
    clusters: &Option<Result<ClusterList, api::Error>>,
    cluster: Option<&str>,
) -> Option<String> {
    let list = clusters.as_ref()?.as_ref().ok()?;
    let name = cluster.unwrap_or(&list.default);
    list.clusters
        .iter()
        .find(|c| c.name == name)?
        .namespace
        .clone()
}

/// The namespace picker: a text field that suggests the cluster's namespaces as one types
/// (a `<datalist>`: native, so keyboard and screen readers work as everywhere), and a toggle
/// for all namespaces at once. Any name may be typed: a person who may not list namespaces
/// can still name theirs.
#[component]
fn NamespaceSelect(
    /// The namespace list, once loaded.
    namespaces: LocalResource<Result<Vec<Namespace>, api::Error>>,
    /// The selected namespace, or [`ALL_NAMESPACES`].
    namespace: RwSignal<String>,
) -> impl IntoView {
    let all = move || namespace.with(|ns| ns == ALL_NAMESPACES);
    let choose = move |e: ev::Event| {
        let typed = event_target_value(&e).trim().to_owned();
        if !typed.is_empty() {
            namespace.set(typed);
        }
    };
    let options = move || match namespaces.get() {
        Some(Ok(list)) => list
            .into_iter()
            .map(|n| view! { <option value=n.name></option> })
            .collect_view()
            .into_any(),
        _ => ().into_any(),
    };
    let error = move || match namespaces.get() {
        Some(Err(e)) => Some(view! {
            <span class="api-error" data-testid="api-error" data-source="namespaces"
                data-status=e.status() title=format!("namespaces: {e}")>{format!("namespaces: {e}")}</span>
        }),
        _ => None,
    };
    view! {
        <span class="namespace-picker" role="group" aria-label="Namespace">
            <input type="search" class="namespace-input" data-testid="namespace-select"
                list="namespace-options" aria-label="Namespace" title="Namespace: type to search"
                placeholder=move || if all() { "all namespaces" } else { "namespace…" }
                spellcheck="false" autocomplete="off"
                prop:value=move || if all() { String::new() } else { namespace.get() }
                on:focus=move |e| {
                    if let Some(input) = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                        input.select();
                    }
                }
                on:change=choose />
            <datalist id="namespace-options">{options}</datalist>
            <button class="ghost all-namespaces" data-testid="all-namespaces"
                title="Pods of every namespace at once"
                aria-pressed=move || all().to_string()
                on:click=move |_| {
                    if !all() {
                        namespace.set(ALL_NAMESPACES.to_owned());
                    }
                }>"all"</button>
            {error}
        </span>
    }
}

/// Switches between the containers of a multi-container pod.
#[component]
fn ContainerSelect(
    /// The pod of the open terminal, when its namespace's pod list is loaded.
    pod: Signal<Option<Pod>>,
    /// The open terminal.
    target: Memo<Option<Target>>,
    /// Opens another container.
    on_open: Callback<Target>,
) -> impl IntoView {
    move || {
        let pod = pod.get().filter(|p| p.containers.len() > 1)?;
        let current = target.get()?;
        let choose = {
            let current = current.clone();
            move |e: ev::Event| {
                on_open.run(Target {
                    container: event_target_value(&e),
                    ..current.clone()
                })
            }
        };
        Some(view! {
            <select data-testid="container-select" title="Container" aria-label="Container"
                prop:value=current.container.clone() on:change=choose>
                {pod.containers.into_iter().map(|c| {
                    let selected = c.name == current.container;
                    let label = format!("{} ({})", c.name, c.state);
                    view! { <option value=c.name selected=selected>{label}</option> }
                }).collect_view()}
            </select>
        })
    }
}

/// Shell, attach or logs of the open container: each opens (or shows) its own tab.
#[component]
fn ViewSwitch(
    /// The open tab's target.
    target: Memo<Option<Target>>,
    /// Opens another view.
    on_open: Callback<Target>,
) -> impl IntoView {
    let button = move |view: View| {
        let current = move || target.with(|t| t.as_ref().map(|t| t.view)) == Some(view);
        let title = match view {
            View::Shell => "Open a shell in this container",
            View::Attach => "Attach to the container's main process (closing the tab detaches)",
            View::Logs => "Show this container's log",
        };
        view! {
            <button class="ghost view-button" data-testid=format!("view-{}", view.label())
                title=title aria-pressed=move || current().to_string()
                on:click=move |_| {
                    if let Some(t) = target.get_untracked() {
                        on_open.run(Target { view, ..t });
                    }
                }>{view.label()}</button>
        }
    };
    view! {
        <span class="view-switch" role="group" aria-label="Show">
            {View::ALL.into_iter().map(button).collect_view()}
        </span>
    }
}

/// One line of session status, with machine-readable attributes for tests.
#[component]
fn StatusLine(
    /// The shown terminal's status.
    status: Signal<TerminalStatus>,
) -> impl IntoView {
    view! {
        // role=status: screen readers announce connects, exits and errors as they happen.
        <span class="status" data-testid="status-line" role="status" aria-live="polite"
            data-state=move || status.with(TerminalStatus::state)
            data-exit-code=move || status.with(TerminalStatus::exit_code)
            // The line is cut off with an ellipsis when narrow; hovering shows all of it.
            title=move || status.with(TerminalStatus::text)>
            {move || status.with(TerminalStatus::text)}
        </span>
    }
}

/// What the main area shows without a terminal.
#[component]
fn Placeholder(
    /// The wanted route.
    route: Signal<Route>,
    /// The pods of the selected namespace.
    pods: Signal<Option<Result<Vec<Pod>, api::Error>>>,
) -> impl IntoView {
    move || {
        let text = match route.get() {
            Route::Terminal { namespace, pod, .. } => match pods.get() {
                Some(Ok(list)) if !list.iter().any(|p| p.name == pod) => {
                    format!("Pod {pod} was not found in namespace {namespace}.")
                }
                Some(Ok(_)) => format!("Pod {pod} has no containers."),
                Some(Err(_)) => "The pods could not be loaded.".to_owned(),
                None => format!("Opening {namespace}/{pod}…"),
            },
            Route::Home => "Pick a pod to open a terminal.".to_owned(),
        };
        view! { <div class="placeholder" data-testid="placeholder">{text}</div> }
    }
}

/// The terminal socket's server under `trunk serve`: `<meta name="webshell-dev-endpoint">`,
/// which only debug-profile builds carry (frontend/build/dev-endpoint.mjs), because trunk's
/// proxy cannot carry the socket's subprotocol (Trunk.toml). REST still goes through that
/// proxy; the socket goes straight to the backend, which must allow the dev page's origin.
/// Release builds never read it.
#[cfg(not(debug_assertions))]
fn socket_endpoint_override() -> Option<String> {
    None
}

/// See the release version above. A page served by the backend itself (`./x dev`) keeps its
/// own origin.
#[cfg(debug_assertions)]
fn socket_endpoint_override() -> Option<String> {
    let endpoint = document()
        .query_selector(r#"meta[name="webshell-dev-endpoint"]"#)
        .ok()
        .flatten()?
        .get_attribute("content")
        .filter(|e| !e.trim().is_empty())?;
    let origin = window().location().origin().ok()?;
    (endpoint.trim_end_matches('/') != origin).then_some(endpoint)
}

/// The document title for an open terminal: the pod first, since tab titles are cut off.
pub fn page_title(t: &Target) -> String {
    let view = match t.view {
        View::Shell => String::new(),
        other => format!(" ({})", other.label()),
    };
    let cluster = t
        .cluster
        .as_ref()
        .map(|c| format!(" @ {c}"))
        .unwrap_or_default();
    format!(
        "{}{view} · {}/{}{cluster} — webshell",
        t.pod, t.namespace, t.container
    )
}

/// Whether the system prefers light colours, live (`prefers-color-scheme`).
fn prefers_light_scheme() -> ReadSignal<bool> {
    let query = window()
        .match_media("(prefers-color-scheme: light)")
        .ok()
        .flatten();
    let (light, set_light) = signal(query.as_ref().is_some_and(web_sys::MediaQueryList::matches));
    if let Some(query) = query {
        let watched = query.clone();
        let on_change = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            set_light.set(watched.matches());
        });
        let _ =
            query.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
        // The app lives as long as the page, and so does this listener.
        on_change.forget();
    }
    light
}

fn location_path() -> String {
    window().location().pathname().unwrap_or_default()
}

fn push_path(path: &str) {
    if let Ok(history) = window().history() {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
    }
}

fn replace_path(path: &str) {
    if let Ok(history) = window().history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(names: &[&str]) -> Vec<Namespace> {
        names
            .iter()
            .map(|n| Namespace {
                name: (*n).to_owned(),
            })
            .collect()
    }

    #[test]
    fn the_page_title_names_the_pod_first() {
        let t = Target {
            view: View::Shell,
            cluster: None,
            namespace: "demo".into(),
            pod: "bash-pod".into(),
            container: "main".into(),
        };
        assert_eq!(page_title(&t), "bash-pod · demo/main — webshell");
        let logs = Target {
            view: View::Logs,
            ..t
        };
        assert_eq!(page_title(&logs), "bash-pod (logs) · demo/main — webshell");
    }

    #[test]
    fn default_namespace_prefers_demo_then_default_then_first() {
        assert_eq!(
            default_namespace(&ns(&["a", "default", "demo"])).as_deref(),
            Some("demo")
        );
        assert_eq!(
            default_namespace(&ns(&["a", "default"])).as_deref(),
            Some("default")
        );
        assert_eq!(
            default_namespace(&ns(&["kube-system", "a"])).as_deref(),
            Some("kube-system")
        );
        assert_eq!(default_namespace(&[]), None);
    }
}
