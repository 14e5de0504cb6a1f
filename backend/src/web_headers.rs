//! Security headers on every response.
//!
//! The Content-Security-Policy allows the SPA's own scripts and its WebAssembly
//! (`'wasm-unsafe-eval'`) and no inline script at all: the build moves trunk's inline loader
//! into a file (`frontend/build/no-inline-script.mjs`). Inline styles stay allowed because
//! xterm.js themes its rows with a `<style>` element it creates. Framing is refused unless
//! `--frame-ancestors` names the pages that may embed the SPA.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The header values, fixed at start-up.
#[derive(Debug, Clone)]
pub struct WebHeaders {
    csp: HeaderValue,
    frame_options: Option<HeaderValue>,
}

impl WebHeaders {
    /// The policy for pages that may be framed by `frame_ancestors` (origins, or `'self'`);
    /// empty means nobody may frame them.
    pub fn new(frame_ancestors: &[String]) -> Result<WebHeaders, String> {
        for a in frame_ancestors {
            if a.is_empty() || a.contains([';', ',', '\r', '\n']) {
                return Err(format!("--frame-ancestors: {a:?} is not a CSP source"));
            }
        }
        let ancestors = if frame_ancestors.is_empty() {
            "'none'".to_owned()
        } else {
            frame_ancestors.join(" ")
        };
        let csp = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
             frame-ancestors {ancestors}"
        );
        Ok(WebHeaders {
            csp: HeaderValue::from_str(&csp).map_err(|e| format!("--frame-ancestors: {e}"))?,
            // The pre-CSP equivalent, for old browsers, only when nobody may frame.
            frame_options: frame_ancestors
                .is_empty()
                .then(|| HeaderValue::from_static("DENY")),
        })
    }
}

/// Middleware: adds the headers to every response that does not set them itself.
pub async fn add(State(headers): State<Arc<WebHeaders>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let mut set = |name: HeaderName, value: HeaderValue| {
        h.entry(name).or_insert(value);
    };
    set(header::CONTENT_SECURITY_POLICY, headers.csp.clone());
    set(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    set(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if let Some(value) = &headers.frame_options {
        set(header::X_FRAME_OPTIONS, value.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_default_no_inline_script_and_no_framing() {
        let h = WebHeaders::new(&[]).unwrap();
        let csp = h.csp.to_str().unwrap();
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval';"),
            "{csp}"
        );
        assert!(!csp.contains("script-src 'self' 'wasm-unsafe-eval' 'unsafe-inline'"));
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(h.frame_options, Some(HeaderValue::from_static("DENY")));
    }

    #[test]
    fn framing_can_be_allowed_for_named_pages_but_not_injected_into() {
        let h = WebHeaders::new(&["https://portal.example.com".into()]).unwrap();
        assert!(
            h.csp
                .to_str()
                .unwrap()
                .ends_with("frame-ancestors https://portal.example.com")
        );
        assert_eq!(h.frame_options, None);
        assert!(WebHeaders::new(&["x; script-src *".into()]).is_err());
    }
}
