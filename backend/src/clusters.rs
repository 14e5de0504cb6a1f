//! The clusters one server reaches, and which one a request is for.
//!
//! Every cluster-reading route answers at `/api/…` (the default cluster) and at
//! `/api/clusters/{cluster}/…` ([`rest::CLUSTER_SCOPE_PREFIX`]). [`scope`] runs before routing
//! and rewrites the second form into the first, recording the name; handlers then take a
//! [`Cluster`] instead of reaching for one. Rewriting rather than nesting keeps every route
//! template (and its `Path` tuple extractor) the same in both forms.

use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::Uri;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use webshell_protocol::rest;

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;
use crate::upstream::Upstream;

/// Every cluster this server offers, the default first.
#[derive(Debug)]
pub struct Clusters {
    all: Vec<(Upstream, Option<String>)>,
}

impl Clusters {
    /// The clusters, each with the namespace its context names; `None` if there are none.
    pub fn new(all: Vec<(Upstream, Option<String>)>) -> Option<Clusters> {
        (!all.is_empty()).then_some(Clusters { all })
    }

    /// The cluster of routes that name none.
    pub fn default_cluster(&self) -> &Upstream {
        &self.all[0].0
    }

    /// The cluster named `name`.
    pub fn get(&self, name: &str) -> Option<&Upstream> {
        self.all
            .iter()
            .map(|(u, _)| u)
            .find(|u| u.context() == name)
    }

    /// What `GET /api/clusters` answers.
    pub fn list(&self) -> rest::ClusterList {
        rest::ClusterList {
            clusters: self
                .all
                .iter()
                .map(|(upstream, namespace)| rest::Cluster {
                    name: upstream.context().to_owned(),
                    namespace: namespace.clone(),
                })
                .collect(),
            default: self.default_cluster().context().to_owned(),
        }
    }

    fn unknown(&self, name: &str) -> AppError {
        let names: Vec<&str> = self.all.iter().map(|(u, _)| u.context()).collect();
        // Names come from the URL: keep a long one from filling the message.
        let shown: String = name.chars().take(80).collect();
        AppError::not_found(format!(
            "this server offers no cluster {shown:?}; it offers: {}",
            names.join(", ")
        ))
    }
}

/// The cluster a request named in its path, recorded by [`scope`].
#[derive(Debug, Clone)]
struct NamedCluster(String);

/// Before routing: `/api/clusters/{cluster}/rest…` becomes `/api/rest…`, with the cluster's
/// name kept for [`Cluster`]. A name that is not percent-encoded properly is a 400.
pub async fn scope(mut request: Request, next: Next) -> Response {
    let Some(split) = rest::split_cluster_scope(request.uri().path()) else {
        return next.run(request).await;
    };
    let (name, path) = match split {
        Ok(found) => found,
        Err(segment) => {
            let shown: String = segment.chars().take(80).collect();
            return AppError::bad_request(format!("{shown:?} is not a well-formed cluster name"))
                .into_response();
        }
    };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut parts = request.uri().clone().into_parts();
    parts.path_and_query = match path_and_query.parse() {
        Ok(p) => Some(p),
        Err(_) => return AppError::bad_request("malformed path").into_response(),
    };
    match Uri::from_parts(parts) {
        Ok(uri) => *request.uri_mut() = uri,
        Err(_) => return AppError::bad_request("malformed path").into_response(),
    }
    request.extensions_mut().insert(NamedCluster(name));
    next.run(request).await
}

/// The cluster a request is for: the one its path names, or the server's default.
#[derive(Debug, Clone)]
pub struct Cluster(pub Upstream);

impl FromRequestParts<AppState> for Cluster {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match parts.extensions.get::<NamedCluster>() {
            Some(NamedCluster(name)) => state
                .clusters
                .get(name)
                .cloned()
                .map(Cluster)
                .ok_or_else(|| state.clusters.unknown(name)),
            None => Ok(Cluster(state.clusters.default_cluster().clone())),
        }
    }
}

/// `GET /api/clusters`: every cluster this server offers. Signed in only: context names can
/// say more about an organisation than its sign-in page should.
pub async fn list(State(state): State<AppState>, _caller: Caller) -> Json<rest::ClusterList> {
    Json(state.clusters.list())
}
