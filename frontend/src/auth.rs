//! How a terminal socket carries a token that a host app supplies (`--auth token` servers):
//! as a subprotocol entry, since browsers cannot set headers on a WebSocket.
//!
//! The SPA itself never holds a credential: signing in leaves an `HttpOnly` session cookie
//! that the browser sends on its own, and nothing lands in JS storage or a URL.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use webshell_protocol::{BEARER_SUBPROTOCOL_PREFIX, SUBPROTOCOL, SUBPROTOCOL_V1};

/// RFC 4648 §5 base64url, without padding, over the token's UTF-8 bytes.
pub fn base64url(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(token)
}

/// The subprotocols to offer on the terminal socket: [`SUBPROTOCOL`] (with flow control)
/// and [`SUBPROTOCOL_V1`] for an older server, then the token entry when there is a token.
pub fn socket_protocols(token: Option<&str>) -> Vec<String> {
    let mut protocols = vec![SUBPROTOCOL.to_owned(), SUBPROTOCOL_V1.to_owned()];
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        protocols.push(format!("{BEARER_SUBPROTOCOL_PREFIX}{}", base64url(t)));
    }
    protocols
}

/// What a person typed, as a token: surrounding whitespace dropped (the server trims it the
/// same way), `None` when nothing is left.
pub fn normalize(input: &str) -> Option<String> {
    Some(input.trim())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_vectors_without_padding() {
        let vectors = [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
            ("t0ken", "dDBrZW4"),
            // The server's own test vector.
            ("s3cret", "czNjcmV0"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64url(plain), encoded, "{plain:?}");
        }
    }

    #[test]
    fn base64url_uses_the_url_safe_alphabet() {
        // Standard base64 of these is "76+/" and "Pz8/": both need the mapping.
        assert_eq!(base64url("\u{fbff}"), "76-_");
        assert_eq!(base64url("???"), "Pz8_");
        // The e2e token: standard base64 "ZTJlLXMzY3JldCsvdG9rZW4ufn5+Pz8/".
        assert_eq!(
            base64url("e2e-s3cret+/token.~~~???"),
            "ZTJlLXMzY3JldCsvdG9rZW4ufn5-Pz8_"
        );
        // Non-ASCII tokens are encoded as UTF-8.
        assert_eq!(base64url("é"), "w6k");
    }

    #[test]
    fn the_protocol_comes_first_and_the_token_entry_only_with_a_token() {
        assert_eq!(socket_protocols(None), vec!["webshell.v2", "webshell.v1"]);
        assert_eq!(
            socket_protocols(Some("")),
            vec!["webshell.v2", "webshell.v1"]
        );
        assert_eq!(
            socket_protocols(Some("t0ken")),
            vec!["webshell.v2", "webshell.v1", "webshell.bearer.dDBrZW4"]
        );
    }

    #[test]
    fn typed_tokens_are_trimmed_and_blank_ones_ignored() {
        assert_eq!(normalize("  s3cret\n").as_deref(), Some("s3cret"));
        assert_eq!(normalize(" \t"), None);
    }
}
