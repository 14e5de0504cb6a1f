//! What every handler shares.

use std::sync::Arc;

use crate::security::Security;
use crate::session::SessionConfig;

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState {
    /// Client for the Kubernetes API, with the server's own identity.
    pub client: kube::Client,
    /// Origin and token policy.
    pub security: Arc<Security>,
    /// Session timing.
    pub session: SessionConfig,
}
