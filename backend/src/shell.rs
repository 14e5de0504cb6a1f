//! Shell selection in one exec: a tiny `sh` script prefers bash, falls back to sh, and names
//! its choice in a marker at the very start of its output.
//!
//! Dashboard tries shells on the server one exec at a time and can lose the first keystroke;
//! Headlamp opens one socket per shell and mistakes a dropped connection for "no shell". Here
//! it is one exec and one round-trip: stdin is connected from the start (the PTY buffers
//! keystrokes until the shell reads them), and the marker tells the UI what actually runs.
//!
//! The marker is an OSC escape sequence (`ESC ] webshell-shell ; NAME BEL`). It is stripped
//! before output reaches the browser, and even if it were not, terminals ignore unknown OSCs.

/// Starts the script. `sh` itself is the one thing the container must have; without it the
/// exec fails with "executable file not found", which becomes the no-shell error.
pub fn probe_command() -> Vec<String> {
    let script = concat!(
        r#"[ -n "$TERM" ] || export TERM=xterm-256color; "#,
        r#"for s in bash sh; do if command -v "$s" >/dev/null 2>&1; then "#,
        r#"printf '\033]webshell-shell;%s\007' "$s"; exec "$s"; fi; done; "#,
        r#"exec sh"#,
    );
    vec!["sh".into(), "-c".into(), script.into()]
}

const PREFIX: &[u8] = b"\x1b]webshell-shell;";
const END: u8 = 0x07;
/// A shell name longer than this is not a marker.
const MAX_NAME: usize = 32;

/// Scans the first output bytes for the marker, across any split of the bytes into reads.
#[derive(Debug, Default)]
pub struct ShellMarker {
    pending: Vec<u8>,
}

/// Result of feeding bytes to a [`ShellMarker`].
#[derive(Debug, PartialEq, Eq)]
pub enum Scan {
    /// Could still be the marker; nothing to output yet.
    Pending,
    /// Scanning is over: `shell` is what runs (`sh` if no marker was found), `rest` is output.
    Found {
        /// The shell the probe chose.
        shell: String,
        /// Output bytes after the marker (or all bytes, if there was no marker).
        rest: Vec<u8>,
    },
}

impl ShellMarker {
    /// Feeds the next chunk of output.
    pub fn scan(&mut self, bytes: &[u8]) -> Scan {
        self.pending.extend_from_slice(bytes);
        let buf = &self.pending;
        let head = buf.len().min(PREFIX.len());
        if buf[..head] != PREFIX[..head] {
            // Not a marker after all (the probe printed something else first).
            return Scan::Found {
                shell: "sh".into(),
                rest: std::mem::take(&mut self.pending),
            };
        }
        if buf.len() <= PREFIX.len() {
            return Scan::Pending;
        }
        let name = &buf[PREFIX.len()..];
        match name.iter().position(|&b| b == END) {
            Some(end) if end <= MAX_NAME => {
                let shell = String::from_utf8_lossy(&name[..end]).into_owned();
                let rest = name[end + 1..].to_vec();
                self.pending.clear();
                Scan::Found { shell, rest }
            }
            None if name.len() <= MAX_NAME => Scan::Pending,
            _ => Scan::Found {
                shell: "sh".into(),
                rest: std::mem::take(&mut self.pending),
            },
        }
    }

    /// Bytes held back while scanning, for when output ends before the scan did.
    pub fn into_pending(self) -> Vec<u8> {
        self.pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(shell: &str, rest: &[u8]) -> Scan {
        Scan::Found {
            shell: shell.into(),
            rest: rest.to_vec(),
        }
    }

    #[test]
    fn the_marker_names_the_shell_and_is_stripped() {
        let mut m = ShellMarker::default();
        assert_eq!(
            m.scan(b"\x1b]webshell-shell;bash\x07$ "),
            found("bash", b"$ ")
        );
    }

    #[test]
    fn the_marker_is_found_when_split_across_reads_at_every_point() {
        let all = b"\x1b]webshell-shell;sh\x07prompt";
        for cut in 1..all.len() {
            let mut m = ShellMarker::default();
            let (shell, output) = match m.scan(&all[..cut]) {
                // Found in the first read: the second read is plain output.
                Scan::Found { shell, mut rest } => {
                    rest.extend_from_slice(&all[cut..]);
                    (shell, rest)
                }
                Scan::Pending => match m.scan(&all[cut..]) {
                    Scan::Found { shell, rest } => (shell, rest),
                    Scan::Pending => panic!("still pending after all bytes, cut at {cut}"),
                },
            };
            assert_eq!(
                (shell.as_str(), output.as_slice()),
                ("sh", &b"prompt"[..]),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn output_without_a_marker_passes_through_untouched() {
        let mut m = ShellMarker::default();
        assert_eq!(m.scan(b"hello"), found("sh", b"hello"));
    }

    #[test]
    fn an_overlong_name_is_not_a_marker() {
        let mut bytes = PREFIX.to_vec();
        bytes.extend(std::iter::repeat_n(b'x', MAX_NAME + 1));
        let mut m = ShellMarker::default();
        assert_eq!(m.scan(&bytes), found("sh", &bytes));
    }

    #[test]
    fn the_probe_prefers_bash_then_sh() {
        let script = &probe_command()[2];
        assert!(script.find("bash").unwrap() < script.find(" sh;").unwrap());
    }
}
