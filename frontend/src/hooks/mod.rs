//! `use_*` hooks that own browser objects for the lifetime of a component and release them
//! with `on_cleanup`.

pub mod socket;
pub mod xterm;

pub use socket::{SessionEvents, use_exec_socket};
pub use xterm::{Xterm, XtermHandle, XtermState, use_xterm};
