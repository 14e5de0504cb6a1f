//! The built SPA, embedded in the binary so the deployed product is one file.
//!
//! `trunk build --release` writes `frontend/dist`; release builds include it at compile time.
//! Debug builds read the same folder from disk on each request (rust-embed's default), so
//! `./x dev` (trunk watch + a debug server) picks up every SPA rebuild on a browser reload. `/`
//! and the deep links (`/t/demo/bash-pod/main`, `/a/…`, `/l/…`: [`APP_ROUTE_SEGMENTS`], and
//! the same under `/c/{cluster}`: [`CLUSTER_APP_SEGMENT`]) get `index.html`; the app then reads
//! the path.

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::RustEmbed;
use webshell_protocol::rest::{APP_ROUTE_SEGMENTS, CLUSTER_APP_SEGMENT};

#[derive(RustEmbed)]
#[folder = "../frontend/dist"]
#[allow_missing = true]
struct Spa;

const NOT_BUILT: &str = "<!doctype html><title>webshell</title>\
<p>The web UI was not built into this binary. Build it with <code>./x build</code> \
(or <code>trunk build --release</code>) and rebuild the server.</p>";

/// Serves an embedded file, or `index.html` for app routes.
pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if let Some(file) = Spa::get(path).filter(|_| !path.is_empty()) {
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        // Trunk puts a content hash in every asset name except index.html.
        let cache = if path.ends_with(".html") {
            "no-cache"
        } else {
            "public, max-age=31536000, immutable"
        };
        return (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_str(mime.as_ref())
                        .unwrap_or(HeaderValue::from_static("application/octet-stream")),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            ],
            file.data,
        )
            .into_response();
    }
    // Only the app's own routes get index.html; a missing asset is a plain 404.
    let first = path.split('/').next().unwrap_or_default();
    if !(path.is_empty() || first == CLUSTER_APP_SEGMENT || APP_ROUTE_SEGMENTS.contains(&first)) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match Spa::get("index.html") {
        Some(index) => ([(header::CACHE_CONTROL, "no-cache")], Html(index.data)).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, Html(NOT_BUILT)).into_response(),
    }
}
