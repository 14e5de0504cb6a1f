//! The built SPA, embedded in the binary so the deployed product is one file.
//!
//! `trunk build --release` writes `frontend/dist`; release builds include it at compile time.
//! Debug builds read the same folder from disk on each request (rust-embed's default), so
//! `./x dev` (trunk watch + a debug server) picks up every SPA rebuild on a browser reload. `/`
//! and the deep links (`/t/demo/bash-pod/main`, `/a/…`, `/l/…`: [`APP_ROUTE_SEGMENTS`], and
//! the same under `/c/{cluster}`: [`CLUSTER_APP_SEGMENT`]) get `index.html`; the app then reads
//! the path.

use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
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
pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    if !path.is_empty()
        && let Some(response) = serve_file(path, &headers)
    {
        return response;
    }
    // Only the app's own routes get index.html; a missing asset is a plain 404.
    let first = path.split('/').next().unwrap_or_default();
    if !(path.is_empty() || first == CLUSTER_APP_SEGMENT || APP_ROUTE_SEGMENTS.contains(&first)) {
        return StatusCode::NOT_FOUND.into_response();
    }
    serve_file("index.html", &headers)
        .unwrap_or_else(|| (StatusCode::SERVICE_UNAVAILABLE, Html(NOT_BUILT)).into_response())
}

/// The compressed copies a release build writes beside each text asset
/// (frontend/build/precompress.mjs): content coding and file suffix, best first.
const PRECOMPRESSED: [(&str, &str); 2] = [("br", ".br"), ("gzip", ".gz")];

/// One embedded file, in the best encoding the browser accepts, with its caching policy; `None`
/// if there is no such file.
///
/// Encoding: the copies were compressed once, at build time, at the best levels (per request,
/// tower-http's compression took 35 ms of every first visit to gzip the wasm, and brotli's best
/// level is too slow to run per request at all). `Vary: Accept-Encoding` keeps caches from
/// mixing them up, and each copy has its own ETag.
///
/// Caching: a name with a content hash never changes: cached for good. Any other name (index.html,
/// the xterm.js module builds and the fonts, which keep their names because imports, meta tags
/// and CSS name them) is revalidated with its ETag on every use, so a new release is picked up
/// at once. By hand: rust-embed already holds each file's SHA-256, and tower-http's ServeDir
/// (which would answer conditional requests and pick precompressed copies) serves a folder.
fn serve_file(path: &str, headers: &HeaderMap) -> Option<Response> {
    // The plain file is only looked up when no copy is sent (a debug build reads it from disk).
    let compressed = PRECOMPRESSED
        .iter()
        .filter(|(coding, _)| accepts(headers, coding))
        .find_map(|(coding, suffix)| Some((Spa::get(&format!("{path}{suffix}"))?, Some(*coding))));
    let (file, coding) = match compressed {
        Some(copy) => copy,
        None => (Spa::get(path)?, None),
    };
    // Hex, not base64: an ETag that differs only in case would be a different tag.
    let hash = file.metadata.sha256_hash();
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    let etag = format!("\"{hex}\"");
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        let content_type = HeaderValue::from_str(mime.as_ref())
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        ([(header::CONTENT_TYPE, content_type)], file.data).into_response()
    };
    let cache = if fingerprinted(path) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let response_headers = response.headers_mut();
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response_headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(coding) = coding {
        response_headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, etag);
    }
    Some(response)
}

/// Whether the request's `Accept-Encoding` names `coding` without refusing it (`;q=0`). A
/// wildcard is not taken up: browsers name their codings, and the plain file is always
/// acceptable. By hand: tower-http's parser is private to its compression layers.
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let named = parts
                .next()
                .is_some_and(|name| name.trim().eq_ignore_ascii_case(coding));
            let refused = parts.any(|param| {
                let (key, value) = param.split_once('=').unwrap_or((param, ""));
                key.trim().eq_ignore_ascii_case("q")
                    && value.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
            });
            named && !refused
        })
}

/// Whether trunk put a content hash in this file name: `name-<hex>.ext`, or `name-<hex>_bg.wasm`
/// for the wasm (trunk's hash is a 64-bit number in hex, leading zeros dropped).
fn fingerprinted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((stem, _ext)) = name.rsplit_once('.') else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (12..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::{accepts, fingerprinted};
    use axum::http::{HeaderMap, HeaderValue, header};

    fn accept_encoding(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn a_coding_is_accepted_when_named_and_not_refused_with_q_0() {
        let chromium = accept_encoding("gzip, deflate, br, zstd");
        assert!(accepts(&chromium, "br") && accepts(&chromium, "gzip"));
        assert!(accepts(&accept_encoding("BR;q=0.5"), "br"));
        assert!(!accepts(&accept_encoding("gzip"), "br"));
        assert!(!accepts(&accept_encoding("br;q=0, gzip"), "br"));
        assert!(!accepts(&accept_encoding("br; q=0.0"), "br"));
        assert!(!accepts(&accept_encoding("*"), "br"));
        assert!(!accepts(&accept_encoding("brotli"), "br"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }

    #[test]
    fn only_names_with_trunks_content_hash_count_as_fingerprinted() {
        for hashed in [
            "style-413cc76ce7f5fb1b.css",
            "addon-web-links-22c5988fe53ed94.js",
            "webshell-frontend-a54dab13e6cfff64_bg.wasm",
            "webshell-frontend-a54dab13e6cfff64.js",
        ] {
            assert!(fingerprinted(hashed), "{hashed}");
        }
        for plain in [
            "xterm.mjs",
            "xterm-global.mjs",
            "addon-web-links.mjs",
            "jetbrains-mono-latin-400-normal.woff2",
            "index.html",
            "addon-fade.js",
        ] {
            assert!(!fingerprinted(plain), "{plain}");
        }
    }
}
