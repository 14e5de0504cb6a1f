//! The keys a phone's keyboard lacks (Esc, Tab, Ctrl, arrows), as a row of buttons under the
//! terminal. Ctrl latches: the next typed character is sent as its control character, so
//! Ctrl then `c` interrupts. Buttons never take focus, so the soft keyboard stays up.

use js_sys::Reflect;
use leptos::prelude::*;

use crate::hooks::{XtermHandle, XtermState};
use crate::xterm::Terminal;

/// The Ctrl key of the key bar, shared with the terminal's input path (a signal, so the
/// button shows when typing released it).
#[derive(Debug, Clone, Copy)]
pub struct CtrlLatch(RwSignal<bool>);

impl Default for CtrlLatch {
    fn default() -> Self {
        Self(RwSignal::new(false))
    }
}

impl CtrlLatch {
    /// Arms or releases the latch.
    pub fn set(&self, armed: bool) {
        self.0.set(armed);
    }

    /// Arms the latch if released, releases it if armed.
    pub fn toggle(&self) {
        self.0.update(|armed| *armed = !*armed);
    }

    /// Whether the next character becomes a control character (tracked in a reactive scope).
    pub fn armed(&self) -> bool {
        self.0.get()
    }

    /// Typed input, with the latch applied: one character that has a control character while
    /// armed becomes it, and the latch releases on any input.
    pub fn apply(&self, typed: String) -> String {
        if !self.0.get_untracked() {
            return typed;
        }
        self.0.set(false);
        let mut chars = typed.chars();
        match (chars.next().and_then(control_char), chars.next()) {
            (Some(control), None) => control.to_string(),
            _ => typed,
        }
    }
}

/// The control character Ctrl+`c` sends in a terminal, if it has one.
pub fn control_char(c: char) -> Option<char> {
    let code = match c {
        'a'..='z' => c as u32 - 'a' as u32 + 1,
        'A'..='Z' => c as u32 - 'A' as u32 + 1,
        '@' | ' ' | '2' => 0,
        '[' | '3' => 27,
        '\\' | '4' => 28,
        ']' | '5' => 29,
        '^' | '6' => 30,
        '_' | '7' | '/' => 31,
        '?' | '8' => 127,
        _ => return None,
    };
    char::from_u32(code)
}

/// An arrow key's bytes; `application` is the cursor key mode full-screen programs set.
pub fn arrow(direction: char, application: bool) -> String {
    format!("\x1b{}{direction}", if application { 'O' } else { '[' })
}

/// Whether the page is used with a finger (a coarse pointer): then the bar is shown.
pub fn touch_screen() -> bool {
    window()
        .match_media("(pointer: coarse)")
        .ok()
        .flatten()
        .is_some_and(|q| q.matches())
}

/// The row of keys, for the terminal of `xterm`.
#[component]
pub fn KeyBar(
    /// The terminal the keys type into.
    xterm: XtermHandle,
) -> impl IntoView {
    let term = move || xterm.ready();
    let ctrl = move || match xterm.state.get() {
        XtermState::Ready(x) => x.ctrl.armed(),
        _ => false,
    };
    let send = move |bytes: String| {
        if let Some(x) = term() {
            x.ctrl.set(false);
            x.term.input(&bytes, true);
        }
    };
    let arrow_key = move |direction: char| {
        if let Some(x) = term() {
            send(arrow(direction, application_cursor_keys(&x.term)));
        }
    };
    let toggle_ctrl = move || {
        if let Some(x) = term() {
            x.ctrl.toggle();
            x.term.focus();
        }
    };
    let key = |label: &'static str, name: &'static str, testid: &'static str| (label, name, testid);
    let keys = [
        (key("Esc", "Escape", "key-esc"), "\x1b"),
        (key("Tab", "Tab", "key-tab"), "\t"),
    ];
    let arrows = [
        (key("←", "Left", "key-left"), 'D'),
        (key("↑", "Up", "key-up"), 'A'),
        (key("↓", "Down", "key-down"), 'B'),
        (key("→", "Right", "key-right"), 'C'),
    ];
    // pointerdown is cancelled so the buttons never steal focus from the terminal.
    view! {
        <div class="webshell-keys" role="toolbar" aria-label="Terminal keys" data-testid="key-bar"
            on:pointerdown=|e| e.prevent_default()
            style="display: flex; gap: 4px; padding: 4px; overflow-x: auto; \
                   position: absolute; left: 0; right: 0; bottom: 0; height: 40px">
            {keys.into_iter().map(|((label, name, testid), bytes)| view! {
                <button data-testid=testid aria-label=name tabindex="-1"
                    on:click=move |_| send(bytes.to_owned())>{label}</button>
            }).collect_view()}
            <button data-testid="key-ctrl" aria-label="Control (applies to the next key)"
                tabindex="-1" aria-pressed=move || ctrl().to_string()
                class:primary=ctrl
                on:click=move |_| toggle_ctrl()>"Ctrl"</button>
            {arrows.into_iter().map(|((label, name, testid), direction)| view! {
                <button data-testid=testid aria-label=name tabindex="-1"
                    on:click=move |_| arrow_key(direction)>{label}</button>
            }).collect_view()}
        </div>
    }
}

fn application_cursor_keys(term: &Terminal) -> bool {
    Reflect::get(term, &"modes".into())
        .and_then(|modes| Reflect::get(&modes, &"applicationCursorKeysMode".into()))
        .is_ok_and(|v| v.is_truthy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_letters_are_the_c0_controls() {
        assert_eq!(control_char('c'), Some('\x03'));
        assert_eq!(control_char('D'), Some('\x04'));
        assert_eq!(control_char('['), Some('\x1b'));
        assert_eq!(control_char('?'), Some('\x7f'));
        assert_eq!(control_char('é'), None);
    }

    #[test]
    fn the_latch_turns_one_character_and_then_releases() {
        let latch = CtrlLatch::default();
        assert_eq!(latch.apply("c".into()), "c", "not armed");
        latch.set(true);
        assert_eq!(latch.apply("c".into()), "\x03");
        assert!(!latch.armed());
        assert_eq!(latch.apply("c".into()), "c");
        latch.set(true);
        assert_eq!(latch.apply("ls".into()), "ls", "a paste is not a key");
        assert!(!latch.armed());
    }

    #[test]
    fn arrows_follow_the_cursor_key_mode() {
        assert_eq!(arrow('A', false), "\x1b[A");
        assert_eq!(arrow('A', true), "\x1bOA");
    }
}
