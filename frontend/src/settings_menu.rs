//! The settings menu of the SPA's top bar: theme, font size and clipboard behaviour, for every
//! terminal on the page at once, kept per browser ([`crate::settings`]).

use leptos::ev;
use leptos::prelude::*;

use crate::options::font_size_step;
use crate::settings::{Settings, ThemeChoice};

/// A gear button and the panel it opens. Changes apply at once; Esc or the button closes it.
#[component]
pub fn SettingsMenu(
    /// The page's settings; the menu updates them.
    settings: RwSignal<Settings>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let font = move |steps: i32| {
        settings.update(|s| s.font_size = font_size_step(s.font_size, steps));
    };
    let close_on_escape = move |e: ev::KeyboardEvent| {
        if e.key() == "Escape" {
            open.set(false);
        }
    };
    view! {
        <div class="settings" on:keydown=close_on_escape>
            <button class="ghost" data-testid="settings-button" title="Terminal settings"
                aria-label="Terminal settings" aria-haspopup="dialog"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>"⚙"</button>
            <Show when=move || open.get()>
                <div class="settings-panel" role="dialog" aria-label="Terminal settings"
                    data-testid="settings-panel">
                    <label>
                        "Theme"
                        <select data-testid="setting-theme"
                            prop:value=move || settings.with(|s| s.theme.as_str())
                            on:change=move |e| {
                                let choice = ThemeChoice::parse(&event_target_value(&e));
                                settings.update(|s| s.theme = choice);
                            }>
                            {ThemeChoice::ALL.iter().map(|(choice, label)| {
                                let selected = settings.with_untracked(|s| s.theme == *choice);
                                view! { <option value=choice.as_str() selected=selected>{*label}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <div class="font-size" role="group" aria-label="Font size">
                        "Font size"
                        <button data-testid="font-smaller" aria-label="A− smaller font"
                            on:click=move |_| font(-1)>"A−"</button>
                        <span data-testid="font-size" aria-live="polite">
                            {move || format!("{} px", settings.with(|s| s.font_size))}
                        </span>
                        <button data-testid="font-larger" aria-label="A+ larger font"
                            on:click=move |_| font(1)>"A+"</button>
                    </div>
                    <Toggle settings testid="setting-copy-on-select" label="Copy on select"
                        field=|s| &mut s.copy_on_select />
                    <Toggle settings testid="setting-confirm-paste"
                        label="Ask before pasting several lines"
                        field=|s| &mut s.confirm_multiline_paste />
                    <p class="muted hint">
                        "Copy: Ctrl+Shift+C · Paste: Ctrl+Shift+V (⌘C / ⌘V on a Mac)"
                    </p>
                </div>
            </Show>
        </div>
    }
}

/// A checkbox for one on/off setting.
#[component]
fn Toggle(
    /// The settings it changes.
    settings: RwSignal<Settings>,
    /// `data-testid` of the checkbox.
    testid: &'static str,
    /// What it turns on.
    label: &'static str,
    /// The setting.
    field: fn(&mut Settings) -> &mut bool,
) -> impl IntoView {
    view! {
        <label>
            <input type="checkbox" data-testid=testid
                // `field` reads too: on a copy (Settings is small).
                prop:checked=move || *field(&mut settings.get())
                on:change=move |e| {
                    let on = event_target_checked(&e);
                    settings.update(|s| *field(s) = on);
                } />
            {label}
        </label>
    }
}
