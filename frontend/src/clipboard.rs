//! The terminal's own shortcuts, and copy and paste the way terminal users expect: Ctrl+Shift+C copies the selection and
//! Ctrl+Shift+V pastes (Cmd+C / Cmd+V on macOS), so Ctrl+C stays the shell's interrupt and
//! Ctrl+V its literal-next. A paste of several lines asks first, whichever way it comes
//! (shortcut, context menu, middle click), because a newline runs a command.
//!
//! Ctrl+Shift+M toggles "Tab moves focus": the terminal keeps Tab and Shift+Tab for the shell
//! (completion) until a person asks for them to leave it, the way VS Code's Ctrl+M does for its
//! editor; keyboard users then Tab out to the page.
//!
//! Pastes go through `term.paste`, so bracketed paste is kept when the shell asked for it.
//! Copy-on-select and the multi-line question follow [`ClipboardPrefs`], which may change
//! while the terminal runs.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{ClipboardEvent, HtmlElement, KeyboardEvent};

use crate::xterm::{Disposable, Terminal};

/// The clipboard choices of [`crate::options::TerminalOptions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClipboardPrefs {
    /// Copy the selection as soon as it is made.
    pub copy_on_select: bool,
    /// Ask before a paste with a line break inside.
    pub confirm_multiline_paste: bool,
}

/// Shared between the terminal's option updates and the event handlers.
pub type SharedPrefs = Rc<Cell<ClipboardPrefs>>;

/// What a key event asks of the clipboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    /// Copy the selection.
    Copy,
    /// Paste the clipboard.
    Paste,
    /// Open the search bar (Ctrl+Shift+F, Cmd+F).
    Find,
    /// Toggle whether Tab and Shift+Tab move focus out of the terminal (Ctrl+Shift+M).
    ToggleTabFocus,
}

/// The shortcut a keydown is, if any: Ctrl+Shift+C/V/F anywhere, and Cmd+C/V/F. Everything
/// else (Ctrl+C, Ctrl+V, Ctrl+F, …) stays the shell's.
pub fn shortcut(
    key_code: &str,
    ctrl: bool,
    shift: bool,
    alt: bool,
    meta: bool,
) -> Option<Shortcut> {
    if alt || !((ctrl && shift && !meta) || (meta && !ctrl)) {
        return None;
    }
    match key_code {
        "KeyC" => Some(Shortcut::Copy),
        "KeyV" => Some(Shortcut::Paste),
        "KeyF" => Some(Shortcut::Find),
        // Ctrl+Shift only: Cmd+M is macOS's minimize.
        "KeyM" if ctrl => Some(Shortcut::ToggleTabFocus),
        _ => None,
    }
}

/// Whether a key event is a plain Tab or Shift+Tab, the keys that move focus.
pub fn is_focus_key(key: &str, ctrl: bool, alt: bool, meta: bool) -> bool {
    key == "Tab" && !ctrl && !alt && !meta
}

/// Whether pasting `text` should ask first: it holds a line break, so it would run commands.
pub fn needs_confirmation(text: &str) -> bool {
    text.trim_end_matches(['\r', '\n']).contains(['\r', '\n'])
}

/// Asks before a multi-line paste (unless turned off); `true` when the paste may go ahead.
fn confirmed(prefs: &SharedPrefs, text: &str) -> bool {
    if !prefs.get().confirm_multiline_paste || !needs_confirmation(text) {
        return true;
    }
    let lines = text.lines().count();
    web_sys::window()
        .and_then(|w| {
            w.confirm_with_message(&format!(
                "Paste {lines} lines into the terminal? Each line break runs a command."
            ))
            .ok()
        })
        .unwrap_or(false)
}

/// The installed handlers; they stay active as long as this value lives.
pub struct ClipboardShortcuts {
    element: HtmlElement,
    on_paste: Closure<dyn FnMut(ClipboardEvent)>,
    _on_key: Closure<dyn FnMut(KeyboardEvent) -> bool>,
    selection_subscription: Disposable,
    _on_selection: Closure<dyn FnMut()>,
}

impl Drop for ClipboardShortcuts {
    fn drop(&mut self) {
        self.selection_subscription.dispose();
        let _ = self.element.remove_event_listener_with_callback_and_bool(
            "paste",
            self.on_paste.as_ref().unchecked_ref(),
            true,
        );
    }
}

/// Installs the shortcuts on `term`, and the multi-line paste check on `element` (the
/// terminal's parent), which sees the browser's own paste events before xterm does.
pub fn install(
    term: &Terminal,
    element: &HtmlElement,
    prefs: SharedPrefs,
    on_find: Box<dyn Fn()>,
    on_tab_focus: Box<dyn Fn(bool)>,
) -> ClipboardShortcuts {
    let target = term.clone();
    let key_prefs = Rc::clone(&prefs);
    let tab_moves_focus = Cell::new(false);
    let on_key = Closure::<dyn FnMut(KeyboardEvent) -> bool>::new(move |e: KeyboardEvent| {
        if tab_moves_focus.get() && is_focus_key(&e.key(), e.ctrl_key(), e.alt_key(), e.meta_key())
        {
            // Not handled and not prevented: the browser moves focus.
            return false;
        }
        let Some(action) = shortcut(
            &e.code(),
            e.ctrl_key(),
            e.shift_key(),
            e.alt_key(),
            e.meta_key(),
        ) else {
            return true;
        };
        if e.type_() == "keydown" {
            e.prevent_default();
            match action {
                Shortcut::Copy => copy(&target),
                Shortcut::Paste => paste(&target, Rc::clone(&key_prefs)),
                Shortcut::Find => on_find(),
                Shortcut::ToggleTabFocus => {
                    tab_moves_focus.set(!tab_moves_focus.get());
                    on_tab_focus(tab_moves_focus.get());
                }
            }
        }
        false
    });
    term.attach_custom_key_event_handler(on_key.as_ref().unchecked_ref());

    let selected = term.clone();
    let select_prefs = Rc::clone(&prefs);
    let on_selection = Closure::<dyn FnMut()>::new(move || {
        if select_prefs.get().copy_on_select {
            copy(&selected);
        }
    });
    let selection_subscription = term.on_selection_change(on_selection.as_ref().unchecked_ref());

    let on_paste = Closure::<dyn FnMut(ClipboardEvent)>::new(move |e: ClipboardEvent| {
        let text = e
            .clipboard_data()
            .and_then(|d| d.get_data("text/plain").ok())
            .unwrap_or_default();
        if !confirmed(&prefs, &text) {
            e.prevent_default();
            e.stop_immediate_propagation();
        }
    });
    let _ = element.add_event_listener_with_callback_and_bool(
        "paste",
        on_paste.as_ref().unchecked_ref(),
        true,
    );
    ClipboardShortcuts {
        element: element.clone(),
        on_paste,
        _on_key: on_key,
        selection_subscription,
        _on_selection: on_selection,
    }
}

/// Copies the selection, if any, to the clipboard.
pub fn copy(term: &Terminal) {
    if !term.has_selection() {
        return;
    }
    let selection = term.get_selection();
    if let Some(w) = web_sys::window() {
        // A refused write (no permission, insecure origin) leaves the clipboard as it was.
        let _ = w.navigator().clipboard().write_text(&selection);
    }
}

/// Pastes the clipboard into `term`, asking first about several lines when `prefs` say so.
pub fn paste(term: &Terminal, prefs: SharedPrefs) {
    let Some(w) = web_sys::window() else { return };
    let read = w.navigator().clipboard().read_text();
    let term = term.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(text) = wasm_bindgen_futures::JsFuture::from(read).await else {
            return;
        };
        let text = text.as_string().unwrap_or_default();
        if !text.is_empty() && confirmed(&prefs, &text) {
            term.paste(&text);
            term.focus();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_shift_c_and_v_and_cmd_are_the_shortcuts() {
        assert_eq!(
            shortcut("KeyC", true, true, false, false),
            Some(Shortcut::Copy)
        );
        assert_eq!(
            shortcut("KeyV", true, true, false, false),
            Some(Shortcut::Paste)
        );
        assert_eq!(
            shortcut("KeyC", false, false, false, true),
            Some(Shortcut::Copy)
        );
        assert_eq!(
            shortcut("KeyV", false, false, false, true),
            Some(Shortcut::Paste)
        );
        assert_eq!(
            shortcut("KeyF", true, true, false, false),
            Some(Shortcut::Find)
        );
        assert_eq!(
            shortcut("KeyF", false, false, false, true),
            Some(Shortcut::Find)
        );
    }

    #[test]
    fn the_shells_own_keys_stay_the_shells() {
        // Ctrl+C interrupts, Ctrl+V is literal-next, Ctrl+Alt+Shift is someone else's.
        assert_eq!(shortcut("KeyC", true, false, false, false), None);
        assert_eq!(shortcut("KeyV", true, false, false, false), None);
        assert_eq!(shortcut("KeyC", true, true, true, false), None);
        assert_eq!(shortcut("KeyX", true, true, false, false), None);
        // Ctrl+F is readline's forward-char.
        assert_eq!(shortcut("KeyF", true, false, false, false), None);
        // Ctrl+M is Enter; Cmd+Shift+M stays the system's.
        assert_eq!(shortcut("KeyM", true, false, false, false), None);
        assert_eq!(shortcut("KeyM", false, true, false, true), None);
    }

    #[test]
    fn ctrl_shift_m_toggles_whether_plain_tab_and_shift_tab_leave_the_terminal() {
        assert_eq!(
            shortcut("KeyM", true, true, false, false),
            Some(Shortcut::ToggleTabFocus)
        );
        assert!(is_focus_key("Tab", false, false, false));
        assert!(
            !is_focus_key("Tab", true, false, false),
            "Ctrl+Tab is the browser's"
        );
        assert!(!is_focus_key("a", false, false, false));
    }

    #[test]
    fn only_a_paste_with_a_line_break_inside_asks() {
        assert!(!needs_confirmation("ls -la"));
        assert!(
            !needs_confirmation("ls -la\n"),
            "one command with its Enter"
        );
        assert!(needs_confirmation("ls\nrm -rf x"));
        assert!(needs_confirmation("a\r\nb"));
    }
}
