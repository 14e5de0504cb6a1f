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
//!
//! [`ShellProbe`] wraps any launcher: it runs the script, strips the marker from stdout
//! ([`MarkerReader`]), announces the shell it names, and turns "no `sh`" into the no-shell
//! error that points at a debug container. Nothing else knows about the probe.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::oneshot;
use webshell_protocol::{ErrorKind, TermSize};

use super::port::{Announce, Outcome, ProcessLauncher, RemoteProcess};
use crate::error::AppError;

/// A launcher that runs the shell probe in place of a command.
pub struct ShellProbe<F> {
    /// Makes the launcher for a command.
    pub launcher: F,
    /// Where it runs, for the no-shell message.
    pub namespace: String,
    /// The pod.
    pub pod: String,
    /// The container.
    pub container: String,
}

impl<F, L> ProcessLauncher for ShellProbe<F>
where
    F: FnOnce(Vec<String>) -> L + Send + 'static,
    L: ProcessLauncher + 'static,
{
    fn launch(
        self: Box<Self>,
        size: TermSize,
    ) -> BoxFuture<'static, Result<RemoteProcess, AppError>> {
        let ShellProbe {
            launcher,
            namespace,
            pod,
            container,
        } = *self;
        let inner = Box::new(launcher(probe_command()));
        async move {
            let mut process = inner.launch(size).await?;
            let (announce, announced) = oneshot::channel();
            process.stdout = Box::new(MarkerReader::new(process.stdout, announce));
            process.command = Announce::Later(announced);
            process.outcome = process
                .outcome
                .map(move |outcome| match outcome {
                    Outcome::Failed(e) if is_not_found(&e.message) => {
                        Outcome::Failed(no_shell(&namespace, &pod, &container))
                    }
                    other => other,
                })
                .boxed();
            Ok(process)
        }
        .boxed()
    }
}

/// How container runtimes report a missing executable.
fn is_not_found(message: &str) -> bool {
    message.contains("executable file not found") || message.contains("no such file or directory")
}

/// The error for a container without `sh`, naming the way in.
pub fn no_shell(namespace: &str, pod: &str, container: &str) -> AppError {
    AppError::new(
        ErrorKind::NoShell,
        format!(
            "container {container} of pod {pod} has no shell (neither bash nor sh). Distroless \
             images often have none: add an ephemeral debug container with a shell, e.g. \
             `kubectl debug -it -n {namespace} {pod} --image=busybox --target={container}`."
        ),
    )
}

/// Stdout with the marker taken off its front: holds output back until the marker is decided,
/// then announces the shell (or `sh`, when the output turned out to have no marker) before it
/// yields a byte.
pub struct MarkerReader<R> {
    inner: R,
    marker: Option<ShellMarker>,
    announce: Option<oneshot::Sender<Vec<String>>>,
    ready: Vec<u8>,
}

impl<R> MarkerReader<R> {
    /// Wraps `inner`; the shell goes to `announce`.
    pub fn new(inner: R, announce: oneshot::Sender<Vec<String>>) -> Self {
        MarkerReader {
            inner,
            marker: Some(ShellMarker::default()),
            announce: Some(announce),
            ready: Vec::new(),
        }
    }

    fn decided(&mut self, shell: String, rest: Vec<u8>) {
        self.marker = None;
        self.ready = rest;
        if let Some(announce) = self.announce.take() {
            let _ = announce.send(vec![shell]);
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for MarkerReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if !this.ready.is_empty() {
                let n = this.ready.len().min(buf.remaining());
                buf.put_slice(&this.ready[..n]);
                this.ready.drain(..n);
                return Poll::Ready(Ok(()));
            }
            let Some(marker) = this.marker.as_mut() else {
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            };
            let mut scratch = [0u8; 256];
            let mut read = ReadBuf::new(&mut scratch);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                // Output ended before the marker was decided: what was held is output.
                let pending = this.marker.take().map(ShellMarker::into_pending);
                this.decided("sh".into(), pending.unwrap_or_default());
                if this.ready.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            if let Scan::Found { shell, rest } = marker.scan(read.filled()) {
                this.decided(shell, rest);
            }
        }
    }
}

/// Starts the script. `sh` itself is the one thing the container must have; without it the
/// exec fails with "executable file not found", which becomes the no-shell error.
pub fn probe_command() -> Vec<String> {
    let script = concat!(
        r#"[ -n "$TERM" ] || export TERM=xterm-256color; "#,
        // Without a locale, bash reads typed UTF-8 as meta keys (`echo héllo` ran `echo
        // hllo`). C.UTF-8 is built into musl and glibc >= 2.35; where `locale` can say, ask it.
        r#"if [ -z "$LANG$LC_ALL$LC_CTYPE" ]; then "#,
        r#"if ! command -v locale >/dev/null 2>&1 || locale -a 2>/dev/null | grep -qix 'c\.utf-\{0,1\}8'; "#,
        r#"then export LANG=C.UTF-8; fi; fi; "#,
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

    #[tokio::test]
    async fn the_reader_strips_the_marker_announces_the_shell_and_passes_the_rest() {
        use tokio::io::AsyncReadExt;
        let (announce, announced) = oneshot::channel();
        let input: &[u8] = b"\x1b]webshell-shell;bash\x07$ hello";
        let mut reader = MarkerReader::new(input, announce);
        let mut all = Vec::new();
        reader.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"$ hello");
        assert_eq!(announced.await.unwrap(), ["bash"]);
    }

    #[tokio::test]
    async fn output_that_ends_before_a_marker_is_still_output() {
        use tokio::io::AsyncReadExt;
        let (announce, announced) = oneshot::channel();
        let input: &[u8] = b"\x1b]webshell";
        let mut reader = MarkerReader::new(input, announce);
        let mut all = Vec::new();
        reader.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"\x1b]webshell");
        assert_eq!(announced.await.unwrap(), ["sh"]);
    }

    #[test]
    fn the_no_shell_error_names_the_pod_namespace_and_the_debug_command() {
        let e = no_shell("demo", "distroless-pod", "main");
        assert_eq!(e.kind, ErrorKind::NoShell);
        assert!(
            e.message
                .contains("kubectl debug -it -n demo distroless-pod --image=busybox --target=main"),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_probe_sets_a_utf8_locale_only_when_the_container_has_none() {
        let script = &probe_command()[2];
        assert!(script.contains(r#"[ -z "$LANG$LC_ALL$LC_CTYPE" ]"#));
        assert!(script.contains("export LANG=C.UTF-8"));
        assert!(script.find("LANG=C.UTF-8").unwrap() < script.find("exec").unwrap());
    }

    #[test]
    fn the_probe_prefers_bash_then_sh() {
        let script = &probe_command()[2];
        assert!(script.find("bash").unwrap() < script.find(" sh;").unwrap());
    }
}
