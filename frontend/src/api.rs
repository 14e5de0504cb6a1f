//! The REST calls of the SPA (`fetch` + the shared `webshell_protocol::rest` types). The
//! browser sends the session cookie by itself (same origin); the SPA never sees a credential.
//!
//! JSON is read and written by the browser (`JSON.parse`/`JSON.stringify`, through
//! serde-wasm-bindgen), not by serde_json compiled into the wasm: that parser and its error
//! machinery were about 8 KB of the gzipped SPA (issue 7's transfer-size goal). Native builds
//! (the unit tests below) use serde_json; both sides deserialize the same serde types.

use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};
use webshell_protocol::rest::{
    ALL_POD_EVENTS_PATH, ALL_PODS_PATH, AUTH_PATH, ApiError, AuthInfo, CLUSTERS_PATH, ClusterList,
    DebugContainer, DebugRequest, Identity, NAMESPACES_PATH, Namespace, Pod, SERVER_SETTINGS_PATH,
    SIGN_OUT_PATH, ServerSettings, TOKEN_SIGN_IN_PATH, TokenSignIn, WHOAMI_PATH, debug_path,
    in_cluster, pod_events_path, pods_path,
};

use crate::app::ALL_NAMESPACES;
use crate::url::encode_component;

/// Why a REST call failed, ready to show to a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// 401: sign in (again); the server says why.
    #[error("{0}")]
    Unauthorized(String),
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
            Error::Unauthorized(_) => Some(UNAUTHORIZED),
            _ => None,
        }
    }

    /// For a 401, why the person must sign in; `None` for every other error.
    pub fn unauthorized(&self) -> Option<&str> {
        match self {
            Error::Unauthorized(why) => Some(why),
            _ => None,
        }
    }
}

const UNAUTHORIZED: u16 = 401;

/// `GET /api/auth`: how this server signs people in.
pub async fn auth_info() -> Result<AuthInfo, Error> {
    fetch_json("GET", AUTH_PATH, None).await
}

/// `GET /api/whoami`: the signed-in person, as `cluster` knows them.
pub async fn whoami(cluster: Option<String>) -> Result<Identity, Error> {
    fetch_json("GET", &in_cluster(cluster.as_deref(), WHOAMI_PATH), None).await
}

/// `GET /api/clusters`: the clusters this server reaches.
pub async fn clusters() -> Result<ClusterList, Error> {
    fetch_json("GET", CLUSTERS_PATH, None).await
}

/// `POST /api/auth/token`: signs in with a Kubernetes bearer token; the server answers with
/// the session cookie, which the browser keeps (`HttpOnly`, out of the SPA's reach).
pub async fn sign_in_with_token(token: String) -> Result<Identity, Error> {
    let body = json::to_string(&TokenSignIn { token }).map_err(Error::Decode)?;
    fetch_json("POST", TOKEN_SIGN_IN_PATH, Some(body)).await
}

/// `POST /api/auth/sign-out`: clears the session cookie.
pub async fn sign_out() -> Result<(), Error> {
    let (status, status_text, body) = fetch("POST", SIGN_OUT_PATH, Some("{}".into())).await?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        decode::<serde::de::IgnoredAny>(status, &status_text, &body).map(|_| ())
    }
}

/// `GET /api/namespaces` of `cluster` (`None`: the server's default).
pub async fn namespaces(cluster: Option<String>) -> Result<Vec<Namespace>, Error> {
    fetch_json(
        "GET",
        &in_cluster(cluster.as_deref(), NAMESPACES_PATH),
        None,
    )
    .await
}

/// `GET /api/settings`: what the server offers beyond sign-in (the debug image).
pub async fn server_settings() -> Result<ServerSettings, Error> {
    fetch_json("GET", SERVER_SETTINGS_PATH, None).await
}

/// `POST /api/namespaces/{ns}/pods/{pod}/debug`: an ephemeral debug container, once it runs.
pub async fn start_debug(
    cluster: Option<&str>,
    namespace: &str,
    pod: &str,
    request: &DebugRequest,
) -> Result<DebugContainer, Error> {
    let body = json::to_string(request).map_err(Error::Decode)?;
    let path = in_cluster(
        cluster,
        &debug_path(&encode_component(namespace), &encode_component(pod)),
    );
    fetch_json("POST", &path, Some(body)).await
}

/// The pod list of `namespace` (or [`ALL_NAMESPACES`]) in `cluster`: its path once, and live
/// (server-sent [`webshell_protocol::rest::PodEvent`]s).
pub fn pod_list_paths(cluster: Option<&str>, namespace: &str) -> (String, String) {
    let (once, live) = if namespace == ALL_NAMESPACES {
        (ALL_PODS_PATH.to_owned(), ALL_POD_EVENTS_PATH.to_owned())
    } else {
        let ns = encode_component(namespace);
        (pods_path(&ns), pod_events_path(&ns))
    };
    (in_cluster(cluster, &once), in_cluster(cluster, &live))
}

/// `GET /api/namespaces/{ns}/pods` (or `/api/pods`) of `cluster`.
pub async fn pods(cluster: Option<&str>, namespace: &str) -> Result<Vec<Pod>, Error> {
    let (path, _) = pod_list_paths(cluster, namespace);
    fetch_json("GET", &path, None).await
}

/// `GET path` as a stream of bytes (a log): the body's reader once the server said yes, or
/// the server's error. `abort` cancels the request and any read in progress.
pub async fn open_stream(
    path: &str,
    abort: &web_sys::AbortSignal,
) -> Result<web_sys::ReadableStreamDefaultReader, Error> {
    let window = web_sys::window().ok_or_else(|| Error::Network("no window".into()))?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_signal(Some(abort));
    let response = send(&window, path, &init).await?;
    let status = response.status();
    if !(200..300).contains(&status) {
        let text = body_text(&response).await;
        let refused = decode::<serde::de::IgnoredAny>(status, &response.status_text(), &text);
        return Err(refused
            .err()
            .unwrap_or_else(|| Error::Decode("an error status with a success body".into())));
    }
    response
        .body()
        .ok_or_else(|| Error::Decode("the answer has no body".into()))?
        .get_reader()
        .dyn_into()
        .map_err(|_| Error::Decode("the body has no default reader".into()))
}

async fn fetch_json<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<T, Error> {
    let (status, status_text, text) = fetch(method, path, body).await?;
    decode(status, &status_text, &text)
}

/// One same-origin request: status, status text and body text.
async fn fetch(
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<(u16, String, String), Error> {
    let window = web_sys::window().ok_or_else(|| Error::Network("no window".into()))?;
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        let headers = Headers::new().map_err(|e| Error::Network(js_message(&e)))?;
        let _ = headers.set("Content-Type", "application/json");
        init.set_headers(&headers);
        init.set_body(&wasm_bindgen::JsValue::from_str(&body));
    }
    let response = send(&window, path, &init).await?;
    let text = body_text(&response).await;
    Ok((response.status(), response.status_text(), text))
}

/// `fetch(path, init)`, its failure as a network error.
async fn send(window: &web_sys::Window, path: &str, init: &RequestInit) -> Result<Response, Error> {
    JsFuture::from(window.fetch_with_str_and_init(path, init))
        .await
        .map_err(|e| Error::Network(js_message(&e)))?
        .dyn_into::<Response>()
        .map_err(|_| Error::Network("fetch did not return a Response".into()))
}

/// The whole body as text; empty when it cannot be read.
async fn body_text(response: &Response) -> String {
    match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_string()),
        Err(_) => None,
    }
    .unwrap_or_default()
}

/// Turns a status and body into the typed result. Error bodies that are not an [`ApiError`]
/// (a proxy's HTML page, a static server's 404) still become a readable error.
fn decode<T: DeserializeOwned>(status: u16, status_text: &str, body: &str) -> Result<T, Error> {
    if (200..300).contains(&status) {
        return json::from_str(body).map_err(Error::Decode);
    }
    if status == UNAUTHORIZED {
        let why = json::from_str::<ApiError>(body)
            .map(|e| e.message)
            .unwrap_or_else(|_| "sign in to use webshell".into());
        return Err(Error::Unauthorized(why));
    }
    Err(Error::Status(
        json::from_str::<ApiError>(body).unwrap_or_else(|_| ApiError {
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

/// JSON text <-> serde types: the browser's JSON on wasm32, serde_json natively.
pub(crate) mod json {
    use serde::{Serialize, de::DeserializeOwned};

    #[cfg(target_arch = "wasm32")]
    pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
        let value = js_sys::JSON::parse(text).map_err(|e| super::js_message(&e))?;
        serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
    }

    #[cfg(target_arch = "wasm32")]
    pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
        let value = serde_wasm_bindgen::to_value(value).map_err(|e| e.to_string())?;
        js_sys::JSON::stringify(&value)
            .map(String::from)
            .map_err(|e| super::js_message(&e))
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
        serde_json::to_string(value).map_err(|e| e.to_string())
    }
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
    fn a_pod_list_has_one_path_once_and_one_live_for_a_namespace_or_all() {
        assert_eq!(
            pod_list_paths(None, "demo"),
            (
                "/api/namespaces/demo/pods".to_owned(),
                "/api/namespaces/demo/pod-events".to_owned()
            )
        );
        assert_eq!(
            pod_list_paths(Some("b"), ALL_NAMESPACES),
            (
                "/api/clusters/b/pods".to_owned(),
                "/api/clusters/b/pod-events".to_owned()
            )
        );
    }

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

    #[test]
    fn a_401_carries_the_servers_reason_to_sign_in() {
        let body = r#"{"status":401,"reason":"Unauthorized","message":"your sign-in expired; sign in again"}"#;
        let err = decode::<Vec<Pod>>(401, "Unauthorized", body).expect_err("error");
        assert_eq!(err.status(), Some(401));
        assert_eq!(
            err.unauthorized(),
            Some("your sign-in expired; sign in again")
        );
        assert_eq!(err.to_string(), "your sign-in expired; sign in again");
        let err = decode::<Vec<Pod>>(401, "Unauthorized", "<html>").expect_err("error");
        assert_eq!(err.unauthorized(), Some("sign in to use webshell"));
        assert_eq!(
            Error::Network("down".into()).unauthorized(),
            None,
            "only a 401 asks to sign in"
        );
    }
}
