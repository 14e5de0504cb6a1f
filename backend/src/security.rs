//! The access token that is required whenever the server listens beyond loopback.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use webshell_protocol::BEARER_SUBPROTOCOL_PREFIX;

use crate::error::AppError;
use crate::state::AppState;

/// Access policy, fixed at start-up.
#[derive(Clone, Default)]
pub struct Security {
    /// When set, every `/api` request must present it.
    pub access_token: Option<String>,
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token, not even in debug output.
        f.debug_struct("Security")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Security {
    fn token_presented(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.access_token else {
            return true;
        };
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let subprotocol = headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(|p| p.trim().strip_prefix(BEARER_SUBPROTOCOL_PREFIX))
            .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok());
        let presented = bearer.map(|t| t.as_bytes().to_vec()).or(subprotocol);
        presented.is_some_and(|t| constant_time_eq(&t, expected.as_bytes()))
    }
}

/// The fewest bytes a secret read from a file may have: 32 random bytes is what a guess can
/// never reach, and anything shorter is more likely a mistake (an empty file, a placeholder).
pub const MIN_SECRET_BYTES: usize = 32;

/// Why a secret file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Too short (after trimming surrounding whitespace) to be a secret.
    #[error(
        "{path} holds {len} bytes; a secret needs at least {MIN_SECRET_BYTES} (e.g. `openssl rand -base64 48`)"
    )]
    TooShort {
        /// The file.
        path: String,
        /// Its length after trimming.
        len: usize,
    },
}

/// Reads a secret from a file, trimmed of surrounding whitespace (files usually end in a
/// newline), and refuses one shorter than [`MIN_SECRET_BYTES`]: an empty token file must never
/// turn authentication off.
pub fn read_secret_file(path: &std::path::Path) -> Result<String, SecretFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| SecretFileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let secret = text.trim();
    if secret.len() < MIN_SECRET_BYTES {
        return Err(SecretFileError::TooShort {
            path: path.display().to_string(),
            len: secret.len(),
        });
    }
    Ok(secret.to_owned())
}

/// Compares without an early exit, so response timing does not reveal a token prefix.
/// (Four lines; not worth a dependency.)
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware: refuses `/api` requests without the access token, when one is configured.
pub async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if state.security.token_presented(request.headers()) {
        next.run(request).await
    } else {
        AppError::unauthorized("a valid access token is required").into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn the_token_is_accepted_as_bearer_header_or_subprotocol_entry_only_when_exact() {
        let s = Security {
            access_token: Some("s3cret".into()),
        };
        assert!(s.token_presented(&headers(&[("authorization", "Bearer s3cret")])));
        assert!(s.token_presented(&headers(&[(
            "sec-websocket-protocol",
            "webshell.v1, webshell.bearer.czNjcmV0" // base64url("s3cret")
        )])));
        assert!(!s.token_presented(&headers(&[("authorization", "Bearer s3cre")])));
        assert!(!s.token_presented(&headers(&[])));
    }

    #[test]
    fn empty_blank_or_short_secret_files_are_refused() {
        let dir = std::env::temp_dir().join(format!("webshell-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, content) in [("empty", ""), ("blank", " \n\t\n"), ("short", "s3cret\n")] {
            let path = dir.join(name);
            std::fs::write(&path, content).unwrap();
            let err = read_secret_file(&path).unwrap_err();
            assert!(
                matches!(err, SecretFileError::TooShort { .. }),
                "{name}: {err}"
            );
            assert!(err.to_string().contains("at least 32"), "{err}");
        }
        let path = dir.join("good");
        std::fs::write(&path, format!("  {}\n", "k".repeat(32))).unwrap();
        assert_eq!(read_secret_file(&path).unwrap(), "k".repeat(32));
        let missing = read_secret_file(&dir.join("missing")).unwrap_err();
        assert!(matches!(missing, SecretFileError::Read { .. }));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let s = Security {
            access_token: Some("s3cret".into()),
        };
        assert!(!format!("{s:?}").contains("s3cret"));
    }
}
