//! The REST calls of the SPA (`fetch` + the shared `webshell_protocol::rest` types), with the
//! access token as `Authorization: Bearer …` when the SPA has one.

use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};
use webshell_protocol::rest::{ApiError, NAMESPACES_PATH, Namespace, Pod, pods_path};

use crate::auth;
use crate::url::encode_component;

/// Why a REST call failed, ready to show to a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// 401: the server requires an access token. `refused` when one was sent.
    #[error("{}", if *.refused { "token refused" } else { "this server requires an access token" })]
    Unauthorized {
        /// A token was sent and the server did not accept it.
        refused: bool,
    },
    /// The server answered with another error status.
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
            Error::Unauthorized { .. } => Some(UNAUTHORIZED),
            _ => None,
        }
    }

    /// For a 401, whether the token sent was refused (`Some(true)`) or none was sent
    /// (`Some(false)`); `None` for every other error.
    pub fn unauthorized(&self) -> Option<bool> {
        match self {
            Error::Unauthorized { refused } => Some(*refused),
            _ => None,
        }
    }
}

const UNAUTHORIZED: u16 = 401;

/// `GET /api/namespaces`, presenting `token` if given.
pub async fn namespaces(token: Option<String>) -> Result<Vec<Namespace>, Error> {
    get_json(NAMESPACES_PATH, token.as_deref()).await
}

/// `GET /api/namespaces/{ns}/pods`, presenting `token` if given.
pub async fn pods(namespace: &str, token: Option<String>) -> Result<Vec<Pod>, Error> {
    get_json(&pods_path(&encode_component(namespace)), token.as_deref()).await
}

async fn get_json<T: DeserializeOwned>(path: &str, token: Option<&str>) -> Result<T, Error> {
    let window = web_sys::window().ok_or_else(|| Error::Network("no window".into()))?;
    let init = RequestInit::new();
    if let Some(token) = token {
        let headers = Headers::new().map_err(|e| Error::Network(js_message(&e)))?;
        headers
            .set("Authorization", &auth::authorization(token))
            // The browser's message would not name the token, but keep it out regardless.
            .map_err(|_| Error::Network("the access token is not a valid header value".into()))?;
        init.set_headers(&headers);
    }
    let response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
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
    decode(
        response.status(),
        &response.status_text(),
        &body,
        token.is_some(),
    )
}

/// Turns a status and body into the typed result; `token_sent` tells a refused token from a
/// missing one. Error bodies that are not an [`ApiError`] (a proxy's HTML page, a static
/// server's 404) still become a readable error.
fn decode<T: DeserializeOwned>(
    status: u16,
    status_text: &str,
    body: &str,
    token_sent: bool,
) -> Result<T, Error> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body).map_err(|e| Error::Decode(e.to_string()));
    }
    if status == UNAUTHORIZED {
        return Err(Error::Unauthorized {
            refused: token_sent,
        });
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
        let err = decode::<Vec<Pod>>(403, "Forbidden", body, false).expect_err("error");
        assert_eq!(err.to_string(), "403 Forbidden: cannot list pods");
        assert_eq!(err.status(), Some(403));
    }

    #[test]
    fn foreign_error_pages_still_read_well() {
        let err =
            decode::<Vec<Pod>>(404, "File not found", "<html>…</html>", false).expect_err("error");
        assert!(
            err.to_string()
                .starts_with("404 File not found: the webshell API is not here")
        );
        let err = decode::<Vec<Pod>>(502, "", "", false).expect_err("error");
        assert_eq!(
            err.to_string(),
            "502 Error: the webshell backend is unreachable"
        );
    }

    #[test]
    fn success_decodes_and_bad_json_is_an_error() {
        let ns: Vec<Namespace> =
            decode(200, "OK", r#"[{"name":"demo"}]"#, false).expect("namespaces");
        assert_eq!(
            ns,
            vec![Namespace {
                name: "demo".into()
            }]
        );
        assert!(matches!(
            decode::<Vec<Namespace>>(200, "OK", "nope", false),
            Err(Error::Decode(_))
        ));
    }

    #[test]
    fn a_401_asks_for_a_token_or_says_it_was_refused() {
        let body = r#"{"status":401,"reason":"Unauthorized","message":"a valid access token is required"}"#;
        let err = decode::<Vec<Pod>>(401, "Unauthorized", body, false).expect_err("error");
        assert_eq!(err, Error::Unauthorized { refused: false });
        assert_eq!(err.status(), Some(401));
        assert_eq!(err.to_string(), "this server requires an access token");
        let err = decode::<Vec<Pod>>(401, "Unauthorized", body, true).expect_err("error");
        assert_eq!(err, Error::Unauthorized { refused: true });
        assert_eq!(err.to_string(), "token refused");
        assert_eq!(err.unauthorized(), Some(true));
        assert_eq!(
            Error::Network("down".into()).unauthorized(),
            None,
            "only a 401 asks for a token"
        );
    }
}
