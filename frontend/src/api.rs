//! The REST calls of the SPA (`fetch` + the shared `webshell_protocol::rest` types).

use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;
use webshell_protocol::rest::{ApiError, NAMESPACES_PATH, Namespace, Pod, pods_path};

use crate::url::encode_component;

/// Why a REST call failed, ready to show to a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The server answered with an error status.
    #[error("{} {}: {}", .0.status, .0.reason, .0.message)]
    Status(ApiError),
    /// No answer: the server is down or unreachable.
    #[error("cannot reach the webshell server: {0}")]
    Network(String),
    /// A success status with a body that is not the expected JSON.
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
}

impl Error {
    /// The HTTP status, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status(e) => Some(e.status),
            _ => None,
        }
    }
}

/// `GET /api/namespaces`.
pub async fn namespaces() -> Result<Vec<Namespace>, Error> {
    get_json(NAMESPACES_PATH).await
}

/// `GET /api/namespaces/{ns}/pods`.
pub async fn pods(namespace: &str) -> Result<Vec<Pod>, Error> {
    get_json(&pods_path(&encode_component(namespace))).await
}

async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, Error> {
    let window = web_sys::window().ok_or_else(|| Error::Network("no window".into()))?;
    let response = JsFuture::from(window.fetch_with_str(path))
        .await
        .map_err(|e| Error::Network(js_message(&e)))?
        .dyn_into::<Response>()
        .map_err(|_| Error::Network("fetch did not return a Response".into()))?;
    let body = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_string()),
        Err(_) => None,
    }
    .unwrap_or_default();
    decode(response.status(), &response.status_text(), &body)
}

/// Turns a status and body into the typed result. Error bodies that are not an [`ApiError`]
/// (a proxy's HTML page, a static server's 404) still become a readable error.
fn decode<T: DeserializeOwned>(status: u16, status_text: &str, body: &str) -> Result<T, Error> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body).map_err(|e| Error::Decode(e.to_string()));
    }
    Err(Error::Status(
        serde_json::from_str::<ApiError>(body).unwrap_or_else(|_| ApiError {
            status,
            reason: if status_text.is_empty() {
                "Error".into()
            } else {
                status_text.into()
            },
            message: match status {
                404 => "the webshell API is not here (is the backend running?)".into(),
                502..=504 => "the webshell backend is unreachable".into(),
                _ => "the server returned an error".into(),
            },
        }),
    ))
}

fn js_message(value: &wasm_bindgen::JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "network error".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_body_is_used() {
        let body = r#"{"status":403,"reason":"Forbidden","message":"cannot list pods"}"#;
        let err = decode::<Vec<Pod>>(403, "Forbidden", body).expect_err("error");
        assert_eq!(err.to_string(), "403 Forbidden: cannot list pods");
        assert_eq!(err.status(), Some(403));
    }

    #[test]
    fn foreign_error_pages_still_read_well() {
        let err = decode::<Vec<Pod>>(404, "File not found", "<html>…</html>").expect_err("error");
        assert!(
            err.to_string()
                .starts_with("404 File not found: the webshell API is not here")
        );
        let err = decode::<Vec<Pod>>(502, "", "").expect_err("error");
        assert_eq!(
            err.to_string(),
            "502 Error: the webshell backend is unreachable"
        );
    }

    #[test]
    fn success_decodes_and_bad_json_is_an_error() {
        let ns: Vec<Namespace> = decode(200, "OK", r#"[{"name":"demo"}]"#).expect("namespaces");
        assert_eq!(
            ns,
            vec![Namespace {
                name: "demo".into()
            }]
        );
        assert!(matches!(
            decode::<Vec<Namespace>>(200, "OK", "nope"),
            Err(Error::Decode(_))
        ));
    }
}
