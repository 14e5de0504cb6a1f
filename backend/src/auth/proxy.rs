//! `--auth proxy`: behind an authenticating proxy such as oauth2-proxy.
//!
//! The proxy signs people in and names them in request headers (`X-Forwarded-User`,
//! `X-Forwarded-Groups` by default). The server then impersonates them (`Impersonate-User`,
//! `Impersonate-Group`) with its own service account, which needs `impersonate` on users and
//! groups and nothing else wide.
//!
//! Those headers are only as trustworthy as whoever sent them, so they are honoured only from
//! the configured proxy addresses (`--proxy-trusted-source`). Anything else is refused: with
//! identity headers it is a spoofing attempt (403, logged and audited), without them a request
//! that bypassed the proxy (401).

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;
use webshell_protocol::rest::AuthMode;

use super::{Caller, Identity};
use crate::error::AppError;
use crate::upstream::Credential;

/// How the proxy names people.
#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// Addresses the proxy connects from.
    pub trusted_sources: Vec<IpNet>,
    /// The header with the user name.
    pub user_header: HeaderName,
    /// The header with the groups, comma-separated (and/or repeated).
    pub groups_header: HeaderName,
    /// Where the browser signs in (the proxy's page), if the UI should link it.
    pub sign_in_url: Option<String>,
    /// Where the browser signs out (the proxy's page).
    pub sign_out_url: Option<String>,
}

/// The trusted proxy.
pub struct Proxy {
    settings: ProxySettings,
}

impl Proxy {
    /// A proxy with these settings.
    pub fn new(settings: ProxySettings) -> Proxy {
        Proxy { settings }
    }

    /// The proxy's sign-in page.
    pub fn sign_in_url(&self) -> Option<String> {
        self.settings.sign_in_url.clone()
    }

    /// The proxy's sign-out page.
    pub fn sign_out_url(&self) -> Option<String> {
        self.settings.sign_out_url.clone()
    }

    /// The caller the proxy names, if the request came from the proxy.
    pub fn identify(&self, headers: &HeaderMap, source: IpAddr) -> Result<Caller, AppError> {
        let s = &self.settings;
        let trusted = s.trusted_sources.iter().any(|net| net.contains(&source));
        let names_someone =
            headers.contains_key(&s.user_header) || headers.contains_key(&s.groups_header);
        if !trusted {
            if names_someone {
                tracing::warn!(%source, header = %s.user_header,
                    "identity headers from an untrusted address refused");
                return Err(AppError::forbidden(format!(
                    "identity headers from {source} are refused: only the authenticating \
                     proxy may send them"
                )));
            }
            return Err(AppError::unauthorized(
                "this server is only reachable through its authenticating proxy",
            ));
        }
        let user = headers
            .get(&s.user_header)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                AppError::unauthorized(format!(
                    "the authenticating proxy named no user ({} is missing)",
                    s.user_header
                ))
            })?;
        let groups: Vec<String> = headers
            .get_all(&s.groups_header)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(Caller {
            identity: Identity {
                user: user.to_owned(),
                groups: groups.clone(),
                mode: AuthMode::Proxy,
                expires_at: None,
            },
            credential: Credential::Impersonate {
                user: user.to_owned(),
                groups,
            },
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use webshell_protocol::ErrorKind;

    fn proxy() -> Proxy {
        Proxy::new(ProxySettings {
            trusted_sources: vec!["127.0.0.1/32".parse().unwrap()],
            user_header: HeaderName::from_static("x-forwarded-user"),
            groups_header: HeaderName::from_static("x-forwarded-groups"),
            sign_in_url: None,
            sign_out_url: None,
        })
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_trusted_proxy_names_the_user_and_their_groups() {
        let caller = proxy()
            .identify(
                &headers(&[
                    ("x-forwarded-user", "alice"),
                    ("x-forwarded-groups", "dev, ops"),
                    ("x-forwarded-groups", "oncall"),
                ]),
                "127.0.0.1".parse().unwrap(),
            )
            .unwrap();
        assert_eq!(caller.identity.user, "alice");
        match caller.credential {
            Credential::Impersonate { user, groups } => {
                assert_eq!(user, "alice");
                assert_eq!(groups, ["dev", "ops", "oncall"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn identity_headers_from_anywhere_else_are_refused_as_spoofing() {
        let refused = proxy()
            .identify(
                &headers(&[("x-forwarded-user", "admin")]),
                "127.0.0.2".parse().unwrap(),
            )
            .unwrap_err();
        assert_eq!(refused.kind, ErrorKind::Forbidden);
        assert!(refused.message.contains("127.0.0.2"), "{}", refused.message);
    }

    #[test]
    fn bypassing_the_proxy_or_a_proxy_naming_nobody_is_unauthorized() {
        let p = proxy();
        let bypass = p
            .identify(&headers(&[]), "10.0.0.9".parse().unwrap())
            .unwrap_err();
        assert_eq!(bypass.kind, ErrorKind::Unauthorized);
        let nobody = p
            .identify(
                &headers(&[("x-forwarded-user", " ")]),
                "127.0.0.1".parse().unwrap(),
            )
            .unwrap_err();
        assert_eq!(nobody.kind, ErrorKind::Unauthorized);
    }
}
