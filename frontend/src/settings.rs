//! The person's terminal settings, kept per browser in `localStorage["webshell.settings"]`
//! (written only once something is changed). Nothing secret is ever stored: no token, no
//! cookie (see [`crate::auth`]).

use serde::{Deserialize, Serialize};

use crate::options::{FONT_SIZES, TerminalOptions, Theme};

const KEY: &str = "webshell.settings";

/// Which colours to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeChoice {
    /// Follow the system's light or dark preference, live.
    #[default]
    System,
    /// Always dark.
    Dark,
    /// Always light.
    Light,
}

impl ThemeChoice {
    /// Every choice with its label, for the settings menu.
    pub const ALL: [(Self, &'static str); 3] = [
        (Self::System, "System"),
        (Self::Dark, "Dark"),
        (Self::Light, "Light"),
    ];

    /// The value in `<select>` and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Dark => "dark",
            Self::Light => "light",
        }
    }

    /// The inverse of [`Self::as_str`]; anything else is the default.
    pub fn parse(s: &str) -> Self {
        Self::ALL
            .iter()
            .find(|(c, _)| c.as_str() == s)
            .map_or_else(Self::default, |(c, _)| *c)
    }
}

/// What a person may set for every terminal in this browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Colours.
    pub theme: ThemeChoice,
    /// Font size in CSS pixels.
    pub font_size: u16,
    /// Copy the selection as soon as it is made.
    pub copy_on_select: bool,
    /// Ask before a paste that would run several commands.
    pub confirm_multiline_paste: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let defaults = TerminalOptions::default();
        Self {
            theme: ThemeChoice::System,
            font_size: defaults.font_size,
            copy_on_select: defaults.copy_on_select,
            confirm_multiline_paste: defaults.confirm_multiline_paste,
        }
    }
}

impl Settings {
    /// Reads stored settings; anything unreadable (another version's, edited by hand) falls
    /// back to the defaults field by field, and sizes out of range are brought into it.
    pub fn from_json(text: &str) -> Self {
        let mut s: Self = crate::api::json::from_str(text).unwrap_or_default();
        s.font_size = s.font_size.clamp(*FONT_SIZES.start(), *FONT_SIZES.end());
        s
    }

    /// Whether the page and the terminals are light, given the system's preference.
    pub fn is_light(&self, system_prefers_light: bool) -> bool {
        match self.theme {
            ThemeChoice::System => system_prefers_light,
            ThemeChoice::Dark => false,
            ThemeChoice::Light => true,
        }
    }

    /// The terminal options these settings give.
    pub fn terminal_options(&self, system_prefers_light: bool) -> TerminalOptions {
        TerminalOptions {
            theme: if self.is_light(system_prefers_light) {
                Theme::light()
            } else {
                Theme::dark()
            },
            font_size: self.font_size,
            copy_on_select: self.copy_on_select,
            confirm_multiline_paste: self.confirm_multiline_paste,
            ..TerminalOptions::default()
        }
    }
}

/// The stored settings, or the defaults.
pub fn load() -> Settings {
    storage()
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .map(|text| Settings::from_json(&text))
        .unwrap_or_default()
}

/// Stores the settings for the next visit (private windows may refuse: then they last only
/// as long as the page).
pub fn save(settings: &Settings) {
    if let (Some(storage), Ok(text)) = (storage(), crate::api::json::to_string(settings)) {
        let _ = storage.set_item(KEY, &text);
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_settings_round_trip() {
        let s = Settings {
            theme: ThemeChoice::Light,
            font_size: 18,
            copy_on_select: true,
            confirm_multiline_paste: false,
        };
        let text = crate::api::json::to_string(&s).unwrap();
        assert_eq!(Settings::from_json(&text), s);
    }

    #[test]
    fn unreadable_or_partial_settings_fall_back_to_defaults() {
        assert_eq!(Settings::from_json("not json"), Settings::default());
        let partial = Settings::from_json(r#"{"font_size": 200, "future_field": 1}"#);
        assert_eq!(partial.font_size, *FONT_SIZES.end());
        assert_eq!(partial.theme, ThemeChoice::System);
        assert!(partial.confirm_multiline_paste);
    }

    #[test]
    fn the_system_theme_follows_the_system_and_the_others_do_not() {
        let system = Settings::default();
        assert!(system.is_light(true));
        assert!(!system.is_light(false));
        let dark = Settings {
            theme: ThemeChoice::Dark,
            ..Settings::default()
        };
        assert!(!dark.is_light(true));
        assert_eq!(dark.terminal_options(true).theme, Theme::dark());
        assert_eq!(ThemeChoice::parse("light"), ThemeChoice::Light);
        assert_eq!(ThemeChoice::parse("purple"), ThemeChoice::System);
    }
}
