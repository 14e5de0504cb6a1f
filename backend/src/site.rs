//! Which names this server answers to, and which web pages may talk to it.
//!
//! DNS rebinding defeats any check that compares `Origin` with `Host`: a page on
//! `evil.example` whose name rebinds to 127.0.0.1 sends `Host: evil.example:8080` and
//! `Origin: http://evil.example:8080`, and the two agree. So both are checked against what the
//! server itself was configured to be:
//! - **Host** must be one of the server's own names: on loopback `localhost`, `127.0.0.1` and
//!   `[::1]` with the listening port (what `kubectl proxy --accept-hosts` accepts), and every
//!   `--public-url`. Anything else gets 403.
//! - **Origin**, when a browser sends one, must be one of those names with the matching scheme
//!   and port, or an `--allowed-origin`. Anything else (including `null` and bytes that are not
//!   UTF-8) gets 403. Requests without `Origin` come from non-browser clients, which a web page
//!   cannot drive, so they pass.
//!
//! Health probes are exempt from the Host check: the kubelet sends the pod IP as Host, and the
//! probes answer nothing a page could use.

use std::fmt;
use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::uri::{Authority, Scheme};
use axum::http::{HeaderMap, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::audit::Actor;
use crate::error::AppError;
use crate::state::AppState;

/// Paths that answer probes, exempt from the Host check.
pub const PROBE_PATHS: &[&str] = &["/healthz", "/readyz"];

/// One scheme + host + port a browser may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebOrigin {
    https: bool,
    /// Lowercase; IPv6 addresses keep their brackets (`[::1]`).
    host: String,
    port: u16,
}

impl WebOrigin {
    /// Parses `http(s)://host[:port]` (a trailing `/` is allowed, any other path is not).
    pub fn parse(url: &str) -> Result<Self, String> {
        let uri: Uri = url
            .trim()
            .parse()
            .map_err(|_| format!("{url:?} is not a URL"))?;
        let https = match uri.scheme() {
            Some(s) if *s == Scheme::HTTPS => true,
            Some(s) if *s == Scheme::HTTP => false,
            _ => return Err(format!("{url:?} must start with http:// or https://")),
        };
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(format!("{url:?} must name an origin only, without a path"));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("{url:?} has no host"))?;
        if authority.as_str().contains('@') {
            return Err(format!("{url:?} must not carry credentials"));
        }
        Ok(Self::new(https, authority.host(), authority.port_u16()))
    }

    fn new(https: bool, host: &str, port: Option<u16>) -> Self {
        WebOrigin {
            https,
            host: host.to_ascii_lowercase(),
            port: port.unwrap_or(if https { 443 } else { 80 }),
        }
    }

    /// Whether this is served over TLS.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// Whether `Host` (an authority, port optional) names this origin.
    fn matches_host(&self, host: &Authority) -> bool {
        let default_port = if self.https { 443 } else { 80 };
        host.host().eq_ignore_ascii_case(&self.host)
            && host.port_u16().unwrap_or(default_port) == self.port
    }
}

impl fmt::Display for WebOrigin {
    /// The origin as a browser serialises it: the port only when it is not the default.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        let default_port = if self.https { 443 } else { 80 };
        if self.port == default_port {
            write!(f, "{scheme}://{}", self.host)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// Why a request was refused; each has its own status and log cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteRefusal {
    /// `Host` is missing or none of the server's names.
    Host(String),
    /// `Origin` is not one of the server's pages nor an allowed origin.
    Origin(String),
}

impl SiteRefusal {
    /// The HTTP error answered for it (403 either way; the message says which check).
    pub fn to_error(&self) -> AppError {
        match self {
            SiteRefusal::Host(message) | SiteRefusal::Origin(message) => {
                AppError::forbidden(message.clone())
            }
        }
    }
}

/// The server's own origins and the extra origins allowed to call it, fixed at start-up.
#[derive(Debug, Clone)]
pub struct Site {
    own: Vec<WebOrigin>,
    extra: Vec<WebOrigin>,
}

impl Site {
    /// The site of a server listening on `listen` (TLS or not), reachable at `public_urls`,
    /// and called by pages on `allowed_origins`. Beyond loopback at least one public URL is
    /// required: without one, no browser name could be told from a rebinding one.
    pub fn new(
        listen: SocketAddr,
        tls: bool,
        public_urls: &[String],
        allowed_origins: &[String],
    ) -> Result<Site, String> {
        let mut own = Vec::new();
        if listen.ip().is_loopback() {
            for host in ["localhost", "127.0.0.1", "[::1]"] {
                own.push(WebOrigin::new(tls, host, Some(listen.port())));
            }
        }
        for url in public_urls {
            own.push(WebOrigin::parse(url).map_err(|e| format!("--public-url: {e}"))?);
        }
        if own.is_empty() {
            return Err(format!(
                "listening on {listen} needs --public-url with the URL browsers use \
                 (e.g. https://webshell.example.com), so that other names are refused"
            ));
        }
        let extra = allowed_origins
            .iter()
            .map(|o| WebOrigin::parse(o).map_err(|e| format!("--allowed-origin: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(Site { own, extra })
    }

    /// The server's own origins, as configured.
    pub fn own_origins(&self) -> &[WebOrigin] {
        &self.own
    }

    /// Whether cookies must be `Secure`: every public URL is HTTPS, or the server speaks TLS.
    pub fn is_https(&self) -> bool {
        self.own.iter().all(WebOrigin::is_https)
    }

    /// Whether any name is beyond loopback.
    pub fn is_public(&self) -> bool {
        self.own
            .iter()
            .any(|o| !matches!(o.host.as_str(), "localhost" | "127.0.0.1" | "[::1]"))
    }

    /// The origin (`scheme://host[:port]`) a request was sent to, if its Host is one of the
    /// server's names: where to send the browser back to, e.g. after an OIDC sign-in.
    pub fn origin_of(&self, uri: &Uri, headers: &HeaderMap) -> Option<String> {
        let host = request_authority(uri, headers)?;
        self.own
            .iter()
            .find(|o| o.matches_host(&host))
            .map(ToString::to_string)
    }

    /// Checks `Host` (or the HTTP/2 `:authority`) and `Origin` of a request.
    pub fn check(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), SiteRefusal> {
        self.check_host(uri, headers)?;
        self.check_origin(headers)
    }

    fn check_host(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), SiteRefusal> {
        match request_authority(uri, headers) {
            Some(h) if self.own.iter().any(|o| o.matches_host(&h)) => Ok(()),
            Some(h) => Err(SiteRefusal::Host(self.explain(&format!(
                "this server does not answer to the name {:?}",
                cut(h.as_str())
            )))),
            None => Err(SiteRefusal::Host(
                self.explain("the request has no valid Host header"),
            )),
        }
    }

    fn check_origin(&self, headers: &HeaderMap) -> Result<(), SiteRefusal> {
        let Some(value) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let Ok(text) = std::str::from_utf8(value.as_bytes()) else {
            return Err(SiteRefusal::Origin(
                "the Origin header is not valid UTF-8".into(),
            ));
        };
        let allowed = WebOrigin::parse(text)
            .is_ok_and(|origin| self.own.iter().chain(&self.extra).any(|o| *o == origin));
        if allowed {
            Ok(())
        } else {
            // The flag comes first: a WebSocket close reason keeps only 123 bytes.
            Err(SiteRefusal::Origin(format!(
                "this page's origin is not allowed: start the server with --allowed-origin {}",
                cut(text)
            )))
        }
    }

    fn explain(&self, what: &str) -> String {
        let names: Vec<String> = self
            .own
            .iter()
            .map(|o| format!("{}:{}", o.host, o.port))
            .collect();
        format!(
            "{what}; it answers to {} (add names with --public-url)",
            names.join(", ")
        )
    }
}

/// The authority a request names: HTTP/2's `:authority`, else the `Host` header.
fn request_authority(uri: &Uri, headers: &HeaderMap) -> Option<Authority> {
    match uri.authority() {
        Some(a) => Some(a.clone()),
        None => headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.parse::<Authority>().ok()),
    }
}

/// Untrusted header text in a message is cut short, so a refusal stays small.
fn cut(text: &str) -> &str {
    let mut end = text.len().min(80);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Middleware on every route: refuses requests for foreign names and from foreign pages, with
/// an audit line for each.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if PROBE_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let Err(refusal) = state.site.check(request.uri(), request.headers()) else {
        return next.run(request).await;
    };
    let cause = match refusal {
        SiteRefusal::Host(_) => "host",
        SiteRefusal::Origin(_) => "origin",
    };
    let error = refusal.to_error();
    tracing::warn!(cause, path = %request.uri().path(), "request refused");
    let actor = Actor::anonymous(state.auth.mode(), crate::auth::source_of(&request));
    state.audit.refused_request(cause, &error, &actor, &request);
    match refusal {
        // A browser shows a page nothing of a failed WebSocket handshake ("1006"), so a
        // socket from a foreign page is accepted and at once closed with the reason, which
        // names the flag. Nothing runs and nothing is read: it is as closed as a 403. A
        // rebound Host still gets a plain 403 (no 101 for a name that is not ours).
        SiteRefusal::Origin(_) => crate::terminal::refuse(request, error).await,
        SiteRefusal::Host(_) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, StatusCode};

    fn loopback() -> Site {
        Site::new("127.0.0.1:8080".parse().unwrap(), false, &[], &[]).unwrap()
    }

    fn request(host: &str, origin: Option<&[u8]>) -> (Uri, HeaderMap) {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_bytes(o).unwrap());
        }
        ("/api/namespaces".parse().unwrap(), headers)
    }

    fn check(site: &Site, host: &str, origin: Option<&str>) -> Result<(), SiteRefusal> {
        let (uri, headers) = request(host, origin.map(str::as_bytes));
        site.check(&uri, &headers)
    }

    #[test]
    fn on_loopback_the_loopback_names_with_the_port_are_accepted() {
        let site = loopback();
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "[::1]:8080",
        ] {
            assert_eq!(check(&site, host, None), Ok(()), "{host}");
        }
        assert_eq!(
            check(&site, "localhost:8080", Some("http://localhost:8080")),
            Ok(())
        );
    }

    #[test]
    fn a_rebound_name_is_refused_even_when_origin_and_host_agree() {
        let site = loopback();
        let refused = check(&site, "evil.example:8080", Some("http://evil.example:8080"));
        assert!(matches!(refused, Err(SiteRefusal::Host(_))), "{refused:?}");
        let error = refused.unwrap_err().to_error();
        assert_eq!(error.status(), StatusCode::FORBIDDEN);
        assert!(error.message.contains("--public-url"), "{}", error.message);
    }

    #[test]
    fn another_port_or_no_port_on_loopback_is_another_server() {
        let site = loopback();
        assert!(check(&site, "127.0.0.1:9090", None).is_err());
        assert!(
            check(&site, "127.0.0.1", None).is_err(),
            "port 80 is not 8080"
        );
    }

    #[test]
    fn a_foreign_origin_is_refused_with_the_flag_that_allows_it() {
        let site = loopback();
        for origin in [
            "https://evil.example",
            "null",
            "http://127.0.0.1:8081",
            "https://127.0.0.1:8080", // the scheme counts
        ] {
            match check(&site, "127.0.0.1:8080", Some(origin)) {
                Err(refusal @ SiteRefusal::Origin(_)) => {
                    let error = refusal.to_error();
                    assert_eq!(error.status(), StatusCode::FORBIDDEN);
                    assert!(error.message.contains("--allowed-origin"), "{origin}");
                }
                other => panic!("{origin}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_origin_that_is_not_utf8_is_refused() {
        let site = loopback();
        let (uri, headers) = request("127.0.0.1:8080", Some(b"http://\xff.example"));
        assert!(matches!(
            site.check(&uri, &headers),
            Err(SiteRefusal::Origin(m)) if m.contains("UTF-8")
        ));
    }

    #[test]
    fn allowed_origins_may_call_but_are_not_names_of_the_server() {
        let site = Site::new(
            "127.0.0.1:8080".parse().unwrap(),
            false,
            &[],
            &["http://127.0.0.1:8081/".into()],
        )
        .unwrap();
        assert_eq!(
            check(&site, "127.0.0.1:8080", Some("http://127.0.0.1:8081")),
            Ok(())
        );
        assert!(check(&site, "127.0.0.1:8081", None).is_err());
    }

    #[test]
    fn beyond_loopback_only_the_public_urls_are_names() {
        let listen = "0.0.0.0:8080".parse().unwrap();
        let err = Site::new(listen, false, &[], &[]).unwrap_err();
        assert!(err.contains("--public-url"), "{err}");
        let site = Site::new(listen, false, &["https://shell.example.com".into()], &[]).unwrap();
        assert_eq!(
            check(
                &site,
                "shell.example.com",
                Some("https://shell.example.com")
            ),
            Ok(())
        );
        assert_eq!(check(&site, "shell.example.com:443", None), Ok(()));
        assert!(check(&site, "127.0.0.1:8080", None).is_err());
        assert!(check(&site, "shell.example.com", Some("http://shell.example.com")).is_err());
    }

    #[test]
    fn the_origin_of_a_request_is_its_allowed_name_as_a_browser_writes_it() {
        let site = Site::new(
            "0.0.0.0:8080".parse().unwrap(),
            false,
            &[
                "https://shell.example.com".into(),
                "http://localhost:8080".into(),
            ],
            &[],
        )
        .unwrap();
        let (uri, headers) = request("shell.example.com", None);
        assert_eq!(
            site.origin_of(&uri, &headers).as_deref(),
            Some("https://shell.example.com")
        );
        let (uri, headers) = request("localhost:8080", None);
        assert_eq!(
            site.origin_of(&uri, &headers).as_deref(),
            Some("http://localhost:8080")
        );
        let (uri, headers) = request("evil.example", None);
        assert_eq!(site.origin_of(&uri, &headers), None);
        assert!(!site.is_https());
        assert!(site.is_public());
    }

    #[test]
    fn public_urls_must_be_bare_origins() {
        for bad in [
            "shell.example.com",
            "ftp://x",
            "https://x/path",
            "https://u:p@x",
        ] {
            assert!(WebOrigin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_missing_host_is_refused() {
        let site = loopback();
        let uri: Uri = "/api/namespaces".parse().unwrap();
        assert!(matches!(
            site.check(&uri, &HeaderMap::new()),
            Err(SiteRefusal::Host(_))
        ));
    }
}
