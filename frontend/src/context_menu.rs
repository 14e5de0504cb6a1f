//! The terminal's context menu (right click): copy, paste, select all, clear and find, for
//! people who reach for the mouse rather than Ctrl+Shift+C/V/F. Paste asks about several
//! lines as the shortcut does; bracketed paste is kept (it goes through `term.paste`).

use leptos::ev::MouseEvent;
use leptos::prelude::*;

use crate::clipboard;
use crate::hooks::{Xterm, XtermHandle};

/// What a menu item does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuAction {
    /// Copy the selection.
    Copy,
    /// Paste the clipboard.
    Paste,
    /// Select the whole buffer.
    SelectAll,
    /// Clear the scrollback.
    Clear,
    /// Open the search bar.
    Find,
}

impl MenuAction {
    /// In menu order.
    pub const ALL: [MenuAction; 5] = [
        MenuAction::Copy,
        MenuAction::Paste,
        MenuAction::SelectAll,
        MenuAction::Clear,
        MenuAction::Find,
    ];

    /// The item's label, with its keyboard shortcut where it has one.
    pub fn label(self) -> &'static str {
        match self {
            MenuAction::Copy => "Copy   Ctrl+Shift+C",
            MenuAction::Paste => "Paste   Ctrl+Shift+V",
            MenuAction::SelectAll => "Select all",
            MenuAction::Clear => "Clear scrollback",
            MenuAction::Find => "Find…   Ctrl+Shift+F",
        }
    }

    /// Its test id.
    pub fn id(self) -> &'static str {
        match self {
            MenuAction::Copy => "menu-copy",
            MenuAction::Paste => "menu-paste",
            MenuAction::SelectAll => "menu-select-all",
            MenuAction::Clear => "menu-clear",
            MenuAction::Find => "menu-find",
        }
    }

    /// Whether it can do anything now: Copy needs a selection.
    pub fn enabled(self, has_selection: bool) -> bool {
        self != MenuAction::Copy || has_selection
    }
}

fn run(action: MenuAction, x: &Xterm, handle: XtermHandle) {
    match action {
        MenuAction::Copy => clipboard::copy(&x.term),
        MenuAction::Paste => clipboard::paste(&x.term, x.clipboard_prefs.clone()),
        MenuAction::SelectAll => x.term.select_all(),
        MenuAction::Clear => x.term.clear(),
        MenuAction::Find => return handle.find(),
    }
    x.term.focus();
}

/// Where the menu is open (page coordinates), if it is.
pub type MenuAt = RwSignal<Option<(i32, i32)>>;

/// The `contextmenu` handler for the terminal's element: opens the menu at the pointer.
pub fn open_at(at: MenuAt) -> impl Fn(MouseEvent) + Copy {
    move |e: MouseEvent| {
        e.prevent_default();
        at.set(Some((e.client_x(), e.client_y())));
        // Like any menu, it takes the keyboard once drawn: its first enabled item has focus.
        gloo_timers::callback::Timeout::new(0, focus_first_item).forget();
    }
}

fn focus_first_item() {
    let first = document()
        .query_selector("[data-testid=context-menu] button:not(:disabled)")
        .ok()
        .flatten()
        .and_then(|el| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok());
    if let Some(first) = first {
        let _ = first.focus();
    }
}

/// The menu, while `at` says where; any click or Esc outside closes it.
#[component]
pub fn ContextMenu(
    /// The terminal it acts on.
    xterm: XtermHandle,
    /// Where it is open.
    at: MenuAt,
) -> impl IntoView {
    let close = move || at.set(None);
    // Esc closes the menu and gives the keyboard back to the shell.
    let dismiss = move || {
        close();
        if let Some(x) = xterm.ready() {
            x.term.focus();
        }
    };
    let item = move |action: MenuAction| {
        let has_selection = xterm.ready().is_some_and(|x| x.term.has_selection());
        view! {
            <button role="menuitem" class="menu-item" data-testid=action.id()
                disabled=!action.enabled(has_selection)
                on:click=move |_| {
                    close();
                    if let Some(x) = xterm.ready() {
                        run(action, &x, xterm);
                    }
                }>{action.label()}</button>
        }
    };
    move || {
        let (x, y) = at.get()?;
        Some(view! {
            <div class="menu-backdrop" on:click=move |_| close()
                on:contextmenu=move |e: MouseEvent| { e.prevent_default(); close(); }></div>
            <div class="context-menu" role="menu" data-testid="context-menu"
                style=format!("left: {x}px; top: {y}px")
                on:keydown=move |e| if e.key() == "Escape" { dismiss() }>
                {MenuAction::ALL.into_iter().map(item).collect_view()}
            </div>
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_needs_a_selection_and_the_rest_do_not() {
        assert!(!MenuAction::Copy.enabled(false));
        assert!(MenuAction::Copy.enabled(true));
        for action in &MenuAction::ALL[1..] {
            assert!(action.enabled(false), "{action:?}");
        }
    }

    #[test]
    fn every_item_has_its_own_id() {
        let mut ids: Vec<_> = MenuAction::ALL.iter().map(|a| a.id()).collect();
        ids.dedup();
        assert_eq!(ids.len(), MenuAction::ALL.len());
    }
}
