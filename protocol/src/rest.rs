//! The JSON REST API the UI uses beside the terminal socket, shared by server and browser.
//!
//! | method | path | body |
//! |--------|------|------|
//! | GET | `/api/namespaces` | `Vec<`[`Namespace`]`>` |
//! | GET | `/api/namespaces/{ns}/pods` | `Vec<`[`Pod`]`>` |
//! | GET (WebSocket) | [`exec_path`] `?command=..&command=..&tty=false` | frames, see the crate docs |
//!
//! Every error is an HTTP status with an [`ApiError`] body.

use serde::{Deserialize, Serialize};

/// A namespace the caller can see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    /// Namespace name.
    pub name: String,
}

/// A pod, reduced to what a person needs to pick a terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pod {
    /// Pod name.
    pub name: String,
    /// `status.phase`: Pending, Running, Succeeded, Failed or Unknown.
    pub phase: String,
    /// Whether every container is ready.
    pub ready: bool,
    /// Restarts summed over containers.
    pub restarts: i32,
    /// Regular containers, in spec order.
    pub containers: Vec<Container>,
}

/// One container of a [`Pod`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Image reference.
    pub image: String,
    /// Readiness from the container status.
    pub ready: bool,
    /// Restart count from the container status.
    pub restarts: i32,
    /// `running`, `waiting`, `terminated`, or `unknown` before the kubelet reports.
    pub state: String,
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The HTTP status, repeated for clients that only see the body.
    pub status: u16,
    /// A short machine-readable reason, e.g. `NotFound`, `Forbidden`, `Upstream`.
    pub reason: String,
    /// A message for a person. Never contains credentials or internal detail.
    pub message: String,
}

/// Path of the namespace list.
pub const NAMESPACES_PATH: &str = "/api/namespaces";

/// Path of the pod list of `namespace`.
pub fn pods_path(namespace: &str) -> String {
    format!("/api/namespaces/{namespace}/pods")
}

/// Path of the terminal WebSocket for one container.
pub fn exec_path(namespace: &str, pod: &str, container: &str) -> String {
    format!("/api/namespaces/{namespace}/pods/{pod}/containers/{container}/exec")
}
