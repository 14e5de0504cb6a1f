//! Secrets read from files (`--session-key-file`, `--local-secret-file`,
//! `--oidc-client-secret-file`), and comparing secrets without leaking them through timing.

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
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn equal_secrets_compare_equal_and_prefixes_do_not() {
        assert!(constant_time_eq(b"s3cret", b"s3cret"));
        assert!(!constant_time_eq(b"s3cre", b"s3cret"));
        assert!(!constant_time_eq(b"s3creT", b"s3cret"));
    }
}
