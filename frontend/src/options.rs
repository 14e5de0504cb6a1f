//! How a terminal looks and behaves: [`TerminalOptions`], a prop of
//! [`crate::terminal::Terminal`] that may change while the terminal runs.

/// Terminal colours (a subset of xterm.js's `ITheme`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// Background, `#rrggbb`.
    pub background: String,
    /// Default text colour.
    pub foreground: String,
    /// Cursor colour.
    pub cursor: String,
    /// Background of selected text.
    pub selection_background: String,
}

impl Theme {
    /// The SPA's dark theme.
    pub fn dark() -> Self {
        Self {
            background: "#0d1117".into(),
            foreground: "#d6dde6".into(),
            cursor: "#d6dde6".into(),
            selection_background: "#264f78".into(),
        }
    }

    /// The SPA's light theme.
    pub fn light() -> Self {
        Self {
            background: "#ffffff".into(),
            foreground: "#1f2328".into(),
            cursor: "#1f2328".into(),
            selection_background: "#b6d7ff".into(),
        }
    }
}

/// Everything about the terminal a host app or a person may choose.
#[derive(Debug, Clone, PartialEq)]
pub struct TerminalOptions {
    /// Colours.
    pub theme: Theme,
    /// CSS font family list; the first one installed is used.
    pub font_family: String,
    /// Font size in CSS pixels.
    pub font_size: u16,
    /// Lines kept above the screen.
    pub scrollback: u32,
    /// Copy the selection to the clipboard as soon as it is made (X11 style).
    pub copy_on_select: bool,
    /// Ask before pasting text with a line break inside (it would run commands).
    pub confirm_multiline_paste: bool,
}

/// Font sizes a person can pick; xterm.js renders anything, but these stay legible.
pub const FONT_SIZES: std::ops::RangeInclusive<u16> = 8..=32;

impl Default for TerminalOptions {
    fn default() -> Self {
        Self {
            theme: Theme::dark(),
            // The SPA bundles JetBrains Mono (fonts.css); a page without it gets the system's.
            font_family: "'JetBrains Mono', ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, \
                          monospace"
                .into(),
            font_size: 14,
            scrollback: 10_000,
            copy_on_select: false,
            confirm_multiline_paste: true,
        }
    }
}

/// `size` moved by `steps`, kept within [`FONT_SIZES`].
pub fn font_size_step(size: u16, steps: i32) -> u16 {
    let (low, high) = (*FONT_SIZES.start(), *FONT_SIZES.end());
    let moved = (i32::from(size) + steps).clamp(i32::from(low), i32::from(high));
    u16::try_from(moved).unwrap_or(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_steps_stay_within_the_legible_sizes() {
        assert_eq!(font_size_step(14, 2), 16);
        assert_eq!(font_size_step(14, -100), 8);
        assert_eq!(font_size_step(14, 100), 32);
    }
}
