//! Find in the terminal's scrollback: a bar over the terminal's top right corner, opened
//! with Ctrl+Shift+F (Cmd+F). Enter finds the next match (upwards from the newest output,
//! where a person usually looks), Shift+Enter the previous one, Esc closes it and gives the
//! keyboard back to the shell. The search addon loads on the first search.

use leptos::ev;
use leptos::html::Input;
use leptos::prelude::*;

use crate::hooks::XtermHandle;
use crate::xterm::{Search, Terminal, object};

/// What the last search found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Found,
    NoMatch,
    /// The page offers no search addon, or it failed to load.
    Unavailable,
}

/// The search bar of one terminal.
#[component]
pub fn SearchBar(
    /// The terminal to search.
    xterm: XtermHandle,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let query = RwSignal::new(String::new());
    let case_sensitive = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Outcome>);
    let addon = StoredValue::new_local(None::<Search>);
    let input = NodeRef::<Input>::new();

    let term = move || xterm.ready().map(|x| x.term);
    Effect::new(move |first: Option<()>| {
        xterm.find_requests.track();
        if first.is_some() {
            open.set(true);
            if let Some(el) = input.get_untracked() {
                let _ = el.focus();
                el.select();
            }
        }
    });
    // Focus once the bar is in the DOM (the first request mounts it).
    input.on_load(|el| {
        let _ = el.focus();
    });

    let find = move |backwards: bool| {
        let Some(term) = term() else { return };
        let text = query.get_untracked();
        if text.is_empty() {
            outcome.set(None);
            return;
        }
        let case = case_sensitive.get_untracked();
        leptos::task::spawn_local(async move {
            let Some(search) = searcher(&term, addon).await else {
                outcome.set(Some(Outcome::Unavailable));
                return;
            };
            let options = object(&[("caseSensitive", case.into())]);
            // xterm's findNext runs top to bottom; "next" here means older output first.
            let found = if backwards {
                search.find_next(&text, &options)
            } else {
                search.find_previous(&text, &options)
            };
            outcome.set(Some(if found {
                Outcome::Found
            } else {
                Outcome::NoMatch
            }));
        });
    };
    let close = move || {
        open.set(false);
        outcome.set(None);
        if let Some(search) = addon.get_value() {
            search.clear_decorations();
        }
        if let Some(term) = term() {
            term.focus();
        }
    };
    let on_key = move |e: ev::KeyboardEvent| match e.key().as_str() {
        "Enter" => {
            e.prevent_default();
            find(e.shift_key());
        }
        "Escape" => {
            e.prevent_default();
            close();
        }
        _ => {}
    };
    let result_text = move || match outcome.get() {
        Some(Outcome::NoMatch) => "no matches",
        Some(Outcome::Unavailable) => "search is not available",
        Some(Outcome::Found) | None => "",
    };

    view! {
        <Show when=move || open.get()>
            <div class="webshell-search" role="search" data-testid="search-bar"
                style="position: absolute; top: 4px; right: 16px; z-index: 5; display: flex; \
                       gap: 4px; align-items: center; padding: 4px; border-radius: 4px; \
                       background: var(--panel, #161b22); border: 1px solid var(--line, #30363d)">
                <input node_ref=input type="search" placeholder="Find" aria-label="Find in terminal"
                    data-testid="search-input"
                    prop:value=move || query.get()
                    on:input=move |e| {
                        query.set(event_target_value(&e));
                        outcome.set(None);
                    }
                    on:keydown=on_key />
                <button data-testid="search-case" title="Match case" aria-label="Match case"
                    aria-pressed=move || case_sensitive.get().to_string()
                    class:primary=move || case_sensitive.get()
                    on:click=move |_| case_sensitive.update(|c| *c = !*c)>"Aa"</button>
                <button data-testid="search-next" title="Next match (Enter)" aria-label="Next match"
                    on:click=move |_| find(false)>"↑"</button>
                <button data-testid="search-previous" title="Previous match (Shift+Enter)"
                    aria-label="Previous match" on:click=move |_| find(true)>"↓"</button>
                <span data-testid="search-result" role="status" aria-live="polite"
                    data-outcome=move || match outcome.get() {
                        Some(Outcome::Found) => "found",
                        Some(Outcome::NoMatch) => "none",
                        Some(Outcome::Unavailable) => "unavailable",
                        None => "",
                    }>{result_text}</span>
                <button data-testid="search-close" title="Close (Esc)" aria-label="Close search"
                    on:click=move |_| close()>"×"</button>
            </div>
        </Show>
    }
}

/// The terminal's search addon, loaded once per terminal.
async fn searcher(
    term: &Terminal,
    addon: StoredValue<Option<Search>, LocalStorage>,
) -> Option<Search> {
    if let Some(search) = addon.get_value() {
        return Some(search);
    }
    let search = crate::addons::search(term).await?;
    addon.set_value(Some(search.clone()));
    Some(search)
}
