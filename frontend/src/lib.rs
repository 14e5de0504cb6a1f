//! webshell's browser side: an embeddable Leptos [`Terminal`] component that puts a shell in a
//! Kubernetes container into the page, and the webshell SPA built around it ([`app::App`]).
//!
//! Modules, one concern each:
//! - [`terminal`]: the `<Terminal/>` component (props documented there);
//! - [`hooks`]: `use_xterm` and `use_exec_socket`, which own the browser objects;
//! - [`session`]: the protocol state machine (pure, unit-tested natively);
//! - [`status`]: [`TerminalStatus`] and its text;
//! - [`xterm`]: the hand-written binding to @xterm/xterm 6;
//! - [`clipboard`]: copy and paste shortcuts and the multi-line paste check;
//! - [`context_menu`]: the right-click menu (copy, paste, select all, clear, find);
//! - [`search_bar`]: find in the scrollback; [`key_bar`]: Esc, Tab, Ctrl and arrows for phones;
//! - [`addons`]: xterm.js addons loaded after the terminal opens (Unicode 11 widths);
//! - [`options`]: [`TerminalOptions`](options::TerminalOptions), the look and behaviour props;
//! - [`settings`], [`settings_menu`]: the SPA's per-browser settings and their menu;
//! - [`url`], [`route`]: socket URLs and the SPA's deep links (pure);
//! - [`auth`]: how a host-supplied token rides on the socket (pure);
//! - [`logs_view`]: a container's log in a read-only xterm, followed as it grows;
//! - [`pod_feed`]: the live pod list (server-sent watch events);
//! - [`debug_offer`]: an ephemeral debug container for a container without a shell;
//! - [`api`], [`app`], [`pod_list`], [`sign_in`], [`tabs`]: the SPA.
//!
//! Reading the terminal in end-to-end tests: nothing is exposed on `window`. xterm 6 renders
//! with its DOM renderer by default, so each visible row is a `div` under
//! `[data-testid=terminal] .xterm-rows`; read `textContent` (spaces may be U+00A0). The same
//! element carries `data-cols`/`data-rows`, xterm's current size in cells.

pub mod addons;
pub mod api;
pub mod app;
pub mod auth;
pub mod clipboard;
pub mod context_menu;
pub mod debug_offer;
pub mod hooks;
pub mod key_bar;
pub mod logs_view;
pub mod options;
pub mod pod_feed;
pub mod pod_list;
pub mod route;
pub mod search_bar;
pub mod session;
pub mod settings;
pub mod settings_menu;
pub mod sign_in;
pub mod status;
pub mod tabs;
pub mod terminal;
pub mod url;
pub mod xterm;

pub use options::{TerminalOptions, Theme};
pub use status::TerminalStatus;
pub use terminal::{Terminal, TerminalHandle};
pub use webshell_protocol::ErrorKind;
