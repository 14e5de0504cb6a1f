//! webshell's browser side: an embeddable Leptos [`Terminal`] component that puts a shell in a
//! Kubernetes container into the page, and the webshell SPA built around it ([`app::App`]).
//!
//! Modules, one concern each:
//! - [`terminal`]: the `<Terminal/>` component (props documented there);
//! - [`hooks`]: `use_xterm` and `use_exec_socket`, which own the browser objects;
//! - [`session`]: the protocol state machine (pure, unit-tested natively);
//! - [`status`]: [`TerminalStatus`] and its text;
//! - [`xterm`]: the hand-written binding to @xterm/xterm 6;
//! - [`url`], [`route`]: socket URLs and the SPA's deep links (pure);
//! - [`auth`]: how a host-supplied token rides on the socket (pure);
//! - [`api`], [`app`], [`pod_list`], [`sign_in`]: the SPA.
//!
//! Reading the terminal in end-to-end tests: nothing is exposed on `window`. xterm 6 renders
//! with its DOM renderer by default, so each visible row is a `div` under
//! `[data-testid=terminal] .xterm-rows`; read `textContent` (spaces may be U+00A0). The same
//! element carries `data-cols`/`data-rows`, xterm's current size in cells.

pub mod api;
pub mod app;
pub mod auth;
pub mod hooks;
pub mod pod_list;
pub mod route;
pub mod session;
pub mod sign_in;
pub mod status;
pub mod terminal;
pub mod url;
pub mod xterm;

pub use status::TerminalStatus;
pub use terminal::Terminal;
pub use webshell_protocol::ErrorKind;
