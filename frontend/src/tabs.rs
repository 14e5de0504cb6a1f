//! Several terminals at once, one per tab, each with its own connection. Opening a pod that
//! already has a tab shows that tab; switching tabs never ends a shell (hidden terminals stay
//! connected). Closed tabs go to a short recent list for reopening.

use leptos::prelude::*;

use crate::app::Target;
use crate::route::View;
use crate::status::TerminalStatus;

/// How many closed terminals the recent list keeps.
pub const RECENT: usize = 8;

/// One open terminal.
#[derive(Debug, Clone)]
pub struct Tab {
    /// Stable identity (keys the view; never reused on this page).
    pub id: u32,
    /// The container it is open to.
    pub target: Target,
    /// A name the person gave it, instead of the pod's.
    pub name: Option<String>,
    /// Its session's status.
    pub status: RwSignal<TerminalStatus>,
    /// Bumped to reconnect: the terminal is keyed on it.
    pub generation: RwSignal<u32>,
}

impl Tab {
    /// The tab's label: its name, else the pod's and the view unless a shell (the tooltip
    /// names namespace and container).
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| match self.target.view {
            View::Shell => self.target.pod.clone(),
            view => format!("{} ({})", self.target.pod, view.label()),
        })
    }

    /// Whether closing it would end a running process. An attach only detaches (the main
    /// process runs on) and a log only stops reading.
    pub fn is_running(&self) -> bool {
        self.target.view == View::Shell
            && self
                .status
                .with_untracked(|s| matches!(s, TerminalStatus::Connected { .. }))
    }
}

/// The open tabs, the active one and the recently closed.
#[derive(Debug, Clone, Default)]
pub struct Tabs {
    /// In strip order.
    pub open: Vec<Tab>,
    /// The shown tab.
    pub active: Option<u32>,
    /// Closed targets, newest first, without repeats.
    pub recent: Vec<Target>,
    next_id: u32,
}

impl Tabs {
    /// Shows the tab of `target`, opening one if there is none; returns its id.
    pub fn open(&mut self, target: Target) -> u32 {
        if let Some(tab) = self.open.iter().find(|t| t.target == target) {
            self.active = Some(tab.id);
            return tab.id;
        }
        self.next_id += 1;
        let id = self.next_id;
        self.recent.retain(|t| *t != target);
        self.open.push(Tab {
            id,
            target,
            name: None,
            status: RwSignal::new(TerminalStatus::Connecting),
            generation: RwSignal::new(0),
        });
        self.active = Some(id);
        id
    }

    /// Closes a tab; the one to its right (else left) becomes active if it was.
    pub fn close(&mut self, id: u32) {
        let Some(at) = self.open.iter().position(|t| t.id == id) else {
            return;
        };
        let closed = self.open.remove(at);
        self.recent.retain(|t| *t != closed.target);
        self.recent.insert(0, closed.target);
        self.recent.truncate(RECENT);
        if self.active == Some(id) {
            self.active = self.open.get(at).or_else(|| self.open.last()).map(|t| t.id);
        }
    }

    /// Gives a tab a name; an empty one restores the pod's.
    pub fn rename(&mut self, id: u32, name: &str) {
        if let Some(tab) = self.open.iter_mut().find(|t| t.id == id) {
            let name = name.trim();
            tab.name = (!name.is_empty()).then(|| name.to_owned());
        }
    }

    /// The open tab with this id.
    pub fn get(&self, id: u32) -> Option<&Tab> {
        self.open.iter().find(|t| t.id == id)
    }

    /// The shown tab.
    pub fn active_tab(&self) -> Option<&Tab> {
        self.get(self.active?)
    }

    /// Whether any tab's shell is running (leaving the page would end it).
    pub fn any_running(&self) -> bool {
        self.open.iter().any(Tab::is_running)
    }
}

/// Asks before ending a running shell; `true` when it may end.
pub fn may_end(tab: &Tab, doing: &str) -> bool {
    if !tab.is_running() {
        return true;
    }
    let question = format!(
        "{doing} ends the shell in {} and its output. Go on?",
        tab.target.place()
    );
    window().confirm_with_message(&question).unwrap_or(false)
}

/// The strip of tabs over the terminals, and the list to reopen a closed one.
#[component]
pub fn TabStrip(
    /// The tabs.
    tabs: RwSignal<Tabs>,
    /// Opens a target (a recent one).
    on_open: Callback<Target>,
) -> impl IntoView {
    let ids = move || tabs.with(|t| t.open.iter().map(|tab| tab.id).collect::<Vec<_>>());
    let tab_view = move |id: u32| {
        let tab = move || tabs.with(|t| t.get(id).cloned());
        let selected = move || tabs.with(|t| t.active == Some(id));
        let label = move || tab().map(|t| t.label()).unwrap_or_default();
        let state = move || {
            tab()
                .map(|t| t.status.with(TerminalStatus::state))
                .unwrap_or("")
        };
        let tooltip = move || {
            tab().map(|t| {
                format!(
                    "{} ({}) — double-click to rename",
                    t.target.place(),
                    t.target.container
                )
            })
        };
        let rename = move |_| {
            let Some(current) = tab() else { return };
            if let Ok(Some(name)) =
                window().prompt_with_message_and_default("Name this terminal", &current.label())
            {
                tabs.update(|t| t.rename(id, &name));
            }
        };
        let close = move |_| {
            if tab().is_some_and(|t| may_end(&t, "Closing this tab")) {
                tabs.update(|t| t.close(id));
            }
        };
        view! {
            <div class="tab" class:active=selected data-testid="tab"
                data-pod=move || tab().map(|t| t.target.pod).unwrap_or_default()
                data-state=state>
                <button class="tab-label" data-testid="tab-button"
                    id=format!("tab-{id}") aria-controls=format!("tab-panel-{id}")
                    aria-current=move || selected().then_some("true") title=tooltip
                    on:click=move |_| tabs.update(|t| t.active = Some(id))
                    on:dblclick=rename>
                    <span class="tab-dot" aria-hidden="true"></span>
                    {label}
                </button>
                <button class="ghost tab-close" data-testid="tab-close"
                    aria-label=move || format!("Close {}", label()) on:click=close>"×"</button>
            </div>
        }
    };
    let recent = move || tabs.with(|t| t.recent.clone());
    view! {
        <div class="tab-strip">
            // A nav of buttons, not an ARIA tablist: each tab has its own close button, which
            // a tablist may not contain.
            <nav class="tabs" aria-label="Terminals">
                <For each=ids key=|id| *id children=tab_view />
            </nav>
            <Show when=move || !recent().is_empty()>
                <select class="reopen" data-testid="reopen" aria-label="Reopen a closed terminal"
                    prop:value=""
                    on:change=move |e| {
                        let index: Option<usize> = event_target_value(&e).parse().ok();
                        if let Some(target) = index.and_then(|i| recent().get(i).cloned()) {
                            on_open.run(target);
                        }
                    }>
                    <option value="" selected=true>"Reopen…"</option>
                    {move || recent().into_iter().enumerate().map(|(i, t)| view! {
                        <option value=i.to_string()>
                            {match t.view {
                                View::Shell => format!("{}/{} ({})", t.namespace, t.pod, t.container),
                                view => format!("{}/{} ({}, {})", t.namespace, t.pod, t.container,
                                    view.label()),
                            }}
                        </option>
                    }).collect_view()}
                </select>
            </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(pod: &str) -> Target {
        Target {
            view: View::Shell,
            cluster: None,
            namespace: "demo".into(),
            pod: pod.into(),
            container: "main".into(),
        }
    }

    #[test]
    fn opening_a_pod_with_a_tab_shows_that_tab() {
        let mut tabs = Tabs::default();
        let a = tabs.open(target("a"));
        let b = tabs.open(target("b"));
        assert_ne!(a, b);
        assert_eq!(tabs.active, Some(b));
        assert_eq!(tabs.open(target("a")), a);
        assert_eq!(tabs.active, Some(a));
        assert_eq!(tabs.open.len(), 2);
    }

    #[test]
    fn closing_the_active_tab_shows_its_neighbour_and_remembers_it() {
        let mut tabs = Tabs::default();
        let a = tabs.open(target("a"));
        let b = tabs.open(target("b"));
        let c = tabs.open(target("c"));
        tabs.active = Some(b);
        tabs.close(b);
        assert_eq!(tabs.active, Some(c), "the right neighbour");
        tabs.close(c);
        assert_eq!(tabs.active, Some(a), "else the left");
        tabs.close(a);
        assert_eq!(tabs.active, None);
        let recent: Vec<&str> = tabs.recent.iter().map(|t| t.pod.as_str()).collect();
        assert_eq!(recent, ["a", "c", "b"]);
        // Reopening takes it off the recent list, with a fresh id.
        let again = tabs.open(target("c"));
        assert!(again > c);
        assert_eq!(tabs.recent.len(), 2);
    }

    #[test]
    fn the_recent_list_is_short() {
        let mut tabs = Tabs::default();
        for i in 0..20 {
            let id = tabs.open(target(&format!("p{i}")));
            tabs.close(id);
        }
        assert_eq!(tabs.recent.len(), RECENT);
        assert_eq!(tabs.recent[0].pod, "p19");
    }

    #[test]
    fn a_tab_shows_its_name_or_its_pod() {
        let mut tabs = Tabs::default();
        let id = tabs.open(target("web-0"));
        assert_eq!(tabs.active_tab().unwrap().label(), "web-0");
        tabs.rename(id, "  prod db  ");
        assert_eq!(tabs.active_tab().unwrap().label(), "prod db");
        tabs.rename(id, " ");
        assert_eq!(tabs.active_tab().unwrap().label(), "web-0");
    }

    #[test]
    fn each_view_of_a_container_has_its_own_tab_and_only_a_shell_ends_a_process() {
        let mut tabs = Tabs::default();
        let shell = tabs.open(target("web-0"));
        let logs = tabs.open(Target {
            view: View::Logs,
            ..target("web-0")
        });
        let attach = tabs.open(Target {
            view: View::Attach,
            ..target("web-0")
        });
        assert_eq!(tabs.open.len(), 3);
        assert_eq!(tabs.get(logs).unwrap().label(), "web-0 (logs)");
        for id in [shell, logs, attach] {
            tabs.get(id).unwrap().status.set(TerminalStatus::Connected {
                command: Vec::new(),
            });
        }
        let running: Vec<bool> = [shell, logs, attach]
            .iter()
            .map(|id| tabs.get(*id).unwrap().is_running())
            .collect();
        assert_eq!(running, [true, false, false]);
    }
}
