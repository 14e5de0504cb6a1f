//! What every handler shares.

use std::sync::Arc;

use crate::security::Security;
use crate::session::SessionConfig;
use crate::site::Site;

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState {
    /// Client for the Kubernetes API, with the server's own identity.
    pub client: kube::Client,
    /// The names and origins this server answers to.
    pub site: Arc<Site>,
    /// Token policy.
    pub security: Arc<Security>,
    /// Session timing.
    pub session: SessionConfig,
}
