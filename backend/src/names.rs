//! Validation of object names taken from URLs, before they reach the Kubernetes API.
//!
//! Hand-written because it is four rules: kube-rs validates nothing client-side, and pulling
//! a validation crate in for DNS-1123 names would be more code to trust than this.

use crate::error::AppError;

/// Checks a namespace, pod or container name: a DNS-1123 subdomain (lowercase letters,
/// digits, `-` and `.`, starting and ending alphanumeric, at most 253 characters).
pub fn validate(what: &str, name: &str) -> Result<(), AppError> {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.chars().all(|c| alnum(c) || c == '-' || c == '.')
        && name.starts_with(alnum)
        && name.ends_with(alnum);
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_request(format!(
            "{what} {name:?} is not a valid Kubernetes name"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn kubernetes_names_are_accepted() {
        for name in ["demo", "bash-pod", "a", "kube-system", "web.v1", "x1"] {
            assert!(validate("pod", name).is_ok(), "{name}");
        }
    }

    #[test]
    fn anything_else_is_a_bad_request() {
        let long = "a".repeat(254);
        for name in [
            "",
            "Demo",
            "-x",
            "x-",
            "a/b",
            "../etc",
            "a b",
            "ü",
            long.as_str(),
        ] {
            let err = validate("pod", name).unwrap_err();
            assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST, "{name}");
        }
    }
}
