//! The session cookie: what a browser holds instead of a credential.
//!
//! A sign-in is sealed (AES-256-GCM, `cookie`'s private jar, with the cookie's name as
//! associated data) under a key from `--session-key-file`. Any replica with the same key opens
//! it, so several replicas need no sticky sessions and no shared store; the browser only ever
//! sees ciphertext, in an `HttpOnly`, `SameSite=Strict` cookie (`Secure`, and named with the
//! `__Host-` prefix, whenever the site is served over HTTPS). Nothing reaches JS storage or a
//! URL.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, CookieJar, Key, SameSite};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use webshell_protocol::rest::AuthMode;

use crate::error::AppError;

/// Browsers keep at most about 4096 bytes per cookie, name and attributes included.
const MAX_COOKIE_BYTES: usize = 4000;

/// A sign-in as the session cookie carries it.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignIn {
    /// How the person signed in.
    pub mode: AuthMode,
    /// Kubernetes user name, as the API server reported it.
    pub user: String,
    /// Kubernetes groups, as the API server reported them.
    pub groups: Vec<String>,
    /// The bearer token Kubernetes calls carry (`token`: theirs; `oidc`: the id-token).
    pub token: Option<String>,
    /// The OpenID Connect refresh token, when the provider gave one.
    pub refresh_token: Option<String>,
    /// When `token` stops being accepted (Unix seconds), if known.
    pub token_expires_at: Option<i64>,
    /// When this sign-in ends regardless (Unix seconds): `--session-ttl` after sign-in.
    pub expires_at: i64,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("mode", &self.mode)
            .field("user", &self.user)
            .field("groups", &self.groups)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("token_expires_at", &self.token_expires_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Seals values into cookies and opens them again.
pub struct Sealer {
    key: Key,
    secure: bool,
}

impl Sealer {
    /// A sealer with a key derived from `master` (at least 32 bytes), or a random key that
    /// lives as long as the process.
    pub fn new(master: Option<&[u8]>, secure: bool) -> Sealer {
        let key = match master {
            Some(master) => Key::derive_from(master),
            None => Key::generate(),
        };
        Sealer { key, secure }
    }

    /// The session cookie's name: `__Host-` prefixed over HTTPS, so no subdomain can set it.
    pub fn session_cookie(&self) -> &'static str {
        if self.secure {
            "__Host-webshell-session"
        } else {
            "webshell-session"
        }
    }

    /// A `Set-Cookie` value holding `value` sealed, as a session cookie (gone when the browser
    /// closes). `same_site` is `Strict` except for the short OIDC flow cookie, which must
    /// survive the identity provider's cross-site redirect back.
    pub fn seal<T: Serialize>(
        &self,
        name: &'static str,
        value: &T,
        same_site: SameSite,
        path: &'static str,
    ) -> Result<HeaderValue, AppError> {
        let json = serde_json::to_string(value)
            .map_err(|_| AppError::new(webshell_protocol::ErrorKind::Other, "cannot seal"))?;
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key)
            .add(self.cookie(name, json, same_site, path));
        let sealed = jar
            .get(name)
            .map(|c| c.encoded().to_string())
            .unwrap_or_default();
        if sealed.len() > MAX_COOKIE_BYTES {
            return Err(AppError::new(
                webshell_protocol::ErrorKind::Other,
                format!(
                    "the sign-in is too large for a browser cookie ({} bytes); ask the identity \
                     provider for fewer claims",
                    sealed.len()
                ),
            ));
        }
        HeaderValue::from_str(&sealed)
            .map_err(|_| AppError::new(webshell_protocol::ErrorKind::Other, "cannot seal"))
    }

    /// Opens the cookie `name` of a request; `None` if absent, tampered with, sealed under
    /// another key, or not a `T`.
    pub fn open<T: DeserializeOwned>(&self, headers: &HeaderMap, name: &str) -> Option<T> {
        let jar = self.private_jar(headers);
        let cookie = jar.private(&self.key).get(name)?;
        serde_json::from_str(cookie.value()).ok()
    }

    /// Whether the request carries a cookie `name` at all (even one that does not open).
    pub fn present(&self, headers: &HeaderMap, name: &str) -> bool {
        self.private_jar(headers).get(name).is_some()
    }

    /// A `Set-Cookie` value that deletes `name`.
    pub fn clear(
        &self,
        name: &'static str,
        same_site: SameSite,
        path: &'static str,
    ) -> HeaderValue {
        let mut cookie = self.cookie(name, String::new(), same_site, path);
        cookie.make_removal();
        HeaderValue::from_str(&cookie.encoded().to_string()).unwrap_or(HeaderValue::from_static(""))
    }

    fn cookie(
        &self,
        name: &'static str,
        value: String,
        same_site: SameSite,
        path: &'static str,
    ) -> Cookie<'static> {
        Cookie::build((name, value))
            .http_only(true)
            .secure(self.secure)
            .same_site(same_site)
            .path(path)
            .build()
    }

    fn private_jar(&self, headers: &HeaderMap) -> CookieJar {
        let mut jar = CookieJar::new();
        for value in headers.get_all(header::COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            for cookie in Cookie::split_parse_encoded(text.to_owned()).flatten() {
                jar.add_original(cookie.into_owned());
            }
        }
        jar
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_in() -> SignIn {
        SignIn {
            mode: AuthMode::Token,
            user: "alice".into(),
            groups: vec!["system:authenticated".into()],
            token: Some("s3cret-token".into()),
            refresh_token: None,
            token_expires_at: None,
            expires_at: 2_000_000_000,
        }
    }

    fn request_with(set_cookie: &HeaderValue) -> HeaderMap {
        let pair = set_cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&pair).unwrap());
        headers
    }

    #[test]
    fn a_sealed_sign_in_opens_with_the_same_key_on_any_replica() {
        let key = b"0123456789abcdef0123456789abcdef";
        let one = Sealer::new(Some(key), false);
        let other = Sealer::new(Some(key), false);
        let cookie = one
            .seal("webshell-session", &sign_in(), SameSite::Strict, "/")
            .unwrap();
        let headers = request_with(&cookie);
        assert_eq!(
            other.open::<SignIn>(&headers, "webshell-session"),
            Some(sign_in())
        );
    }

    #[test]
    fn the_cookie_hides_the_token_and_is_http_only_and_strict() {
        let sealer = Sealer::new(None, true);
        let cookie = sealer
            .seal(sealer.session_cookie(), &sign_in(), SameSite::Strict, "/")
            .unwrap();
        let text = cookie.to_str().unwrap();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(!text.contains("alice"), "{text}");
        for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(text.contains(attribute), "{attribute}: {text}");
        }
        assert!(text.starts_with("__Host-webshell-session="), "{text}");
        assert!(!format!("{:?}", sign_in()).contains("s3cret"));
    }

    #[test]
    fn another_key_a_tampered_value_or_another_name_does_not_open() {
        let sealer = Sealer::new(Some(&[7; 32]), false);
        let cookie = sealer
            .seal("webshell-session", &sign_in(), SameSite::Strict, "/")
            .unwrap();
        let headers = request_with(&cookie);
        assert!(
            Sealer::new(Some(&[8; 32]), false)
                .open::<SignIn>(&headers, "webshell-session")
                .is_none()
        );
        let renamed = cookie
            .to_str()
            .unwrap()
            .replacen("webshell-session", "webshell-oidc", 1);
        let headers = request_with(&HeaderValue::from_str(&renamed).unwrap());
        assert!(sealer.open::<SignIn>(&headers, "webshell-oidc").is_none());
        let mut tampered = cookie.to_str().unwrap().to_owned();
        let at = tampered.find('=').unwrap() + 5;
        let flipped = if &tampered[at..=at] == "A" { "B" } else { "A" };
        tampered.replace_range(at..=at, flipped);
        let headers = request_with(&HeaderValue::from_str(&tampered).unwrap());
        assert!(
            sealer
                .open::<SignIn>(&headers, "webshell-session")
                .is_none()
        );
        assert!(sealer.present(&headers, "webshell-session"));
    }

    #[test]
    fn clearing_expires_the_cookie() {
        let sealer = Sealer::new(None, false);
        let text = sealer.clear("webshell-session", SameSite::Strict, "/");
        let text = text.to_str().unwrap();
        assert!(text.starts_with("webshell-session=;"), "{text}");
        assert!(text.contains("Max-Age=0"), "{text}");
    }
}
