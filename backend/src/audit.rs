//! The audit log: one JSON line when a terminal session starts, one when it ends, and one for
//! every refused attempt. It goes to a file or to stdout (`--audit-log`), apart from the
//! diagnostic log (stderr).
//!
//! What never appears: tokens, cookies, secrets, and anything typed into a terminal. Lines
//! carry who (user, groups, auth mode, source address), where (cluster context, namespace, pod,
//! container, command), when, how much (bytes each way) and how it ended.
//!
//! Writing happens on a thread of its own behind a bounded queue, so a slow disk never stalls a
//! request. If the queue is full (a flood of refusals), lines are dropped and counted, and the
//! drop is logged, rather than growing memory without bound.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};

use serde::Serialize;
use webshell_protocol::rest::AuthMode;

use crate::metrics::Metrics;

/// Lines waiting to be written, at most.
const QUEUE: usize = 4096;

/// Where audit lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditSink {
    /// Standard output.
    Stdout,
    /// Appended to this file.
    File(PathBuf),
    /// Nowhere (tests that do not look).
    Off,
}

impl std::str::FromStr for AuditSink {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "-" | "stdout" => AuditSink::Stdout,
            "off" => AuditSink::Off,
            path => AuditSink::File(path.into()),
        })
    }
}

/// Who acted, as every line names them.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    /// Kubernetes user name, when known.
    pub user: Option<String>,
    /// Kubernetes groups.
    pub groups: Vec<String>,
    /// How they signed in.
    pub auth_mode: AuthMode,
    /// The client's address (the proxy's, behind one).
    pub source: IpAddr,
}

impl Actor {
    /// Someone not (yet) known: a refused request.
    pub fn anonymous(auth_mode: AuthMode, source: IpAddr) -> Actor {
        Actor {
            user: None,
            groups: Vec::new(),
            auth_mode,
            source,
        }
    }
}

/// What a session runs.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// The kubeconfig context (or `in-cluster`).
    pub cluster: String,
    /// Namespace.
    pub namespace: String,
    /// Pod.
    pub pod: String,
    /// Container.
    pub container: String,
    /// `exec` (a new process) or `attach` (the container's main process).
    pub subresource: &'static str,
    /// The command requested; empty means the shell probe (or, for an attach, none).
    pub command: Vec<String>,
    /// Whether a TTY is attached.
    pub tty: bool,
}

/// How a session ended.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Ending {
    /// Bytes from the browser to the process.
    pub bytes_in: u64,
    /// Bytes from the process to the browser.
    pub bytes_out: u64,
    /// The process's exit code, if it exited.
    pub exit_code: Option<i32>,
    /// The WebSocket close code (1000 normal, 4xxx see `protocol`), or none if the browser
    /// vanished.
    pub close_code: Option<u16>,
    /// Why it ended, for a person.
    pub close_reason: String,
    /// Why it ended, as a fixed word for machines (`exited`, `browser_gone`, `exec_failed`,
    /// `idle`, `max_duration`, `stalled`, `no_size`, `protocol_error`, `shutdown`).
    pub cause: &'static str,
    /// When the exec failed: the error kind (`Forbidden`, `NotFound`, `NoShell`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec_error: Option<&'static str>,
}

/// One line.
#[derive(Debug, Serialize)]
#[serde(tag = "event")]
enum Line<'a> {
    #[serde(rename = "session.start")]
    SessionStart {
        time: String,
        session_id: &'a str,
        #[serde(flatten)]
        actor: &'a Actor,
        #[serde(flatten)]
        target: &'a Target,
        start_time: String,
    },
    #[serde(rename = "session.end")]
    SessionEnd {
        time: String,
        session_id: &'a str,
        #[serde(flatten)]
        actor: &'a Actor,
        #[serde(flatten)]
        target: &'a Target,
        start_time: String,
        end_time: String,
        #[serde(flatten)]
        ending: &'a Ending,
    },
    #[serde(rename = "refused")]
    Refused {
        time: String,
        /// `auth`, `origin`, `host`, `limit`, `forbidden`, `proxy-headers`.
        cause: &'a str,
        status: u16,
        #[serde(flatten)]
        actor: &'a Actor,
        method: &'a str,
        /// The path only: a query may carry a launch secret.
        path: &'a str,
        reason: &'a str,
    },
}

/// The audit log's writer; cheap to clone. It also counts what it records in the
/// [`Metrics`], so the two never disagree.
#[derive(Clone)]
pub struct Audit {
    queue: Option<SyncSender<String>>,
    dropped: Arc<AtomicU64>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit").finish_non_exhaustive()
    }
}

impl Audit {
    /// Opens the sink (creating the file, appending) and starts the writer thread.
    pub fn open(sink: &AuditSink, metrics: Arc<Metrics>) -> std::io::Result<Audit> {
        let mut out: Box<dyn Write + Send> = match sink {
            AuditSink::Off => {
                return Ok(Audit {
                    queue: None,
                    dropped: Arc::default(),
                    metrics,
                });
            }
            AuditSink::Stdout => Box::new(std::io::stdout()),
            AuditSink::File(path) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            ),
        };
        let (queue, lines) = sync_channel::<String>(QUEUE);
        std::thread::Builder::new()
            .name("audit".into())
            .spawn(move || {
                for line in lines {
                    // One write per line, so a crash loses at most the line being written.
                    if let Err(e) = out.write_all(line.as_bytes()).and_then(|()| out.flush()) {
                        tracing::error!(error = %e, "writing the audit log failed");
                    }
                }
            })?;
        Ok(Audit {
            queue: Some(queue),
            dropped: Arc::default(),
            metrics,
        })
    }

    /// A session started.
    pub fn session_start(&self, session_id: &str, actor: &Actor, target: &Target, start: Time) {
        self.metrics.session_started();
        self.write(&Line::SessionStart {
            time: now().rfc3339(),
            session_id,
            actor,
            target,
            start_time: start.rfc3339(),
        });
    }

    /// A session ended.
    pub fn session_end(
        &self,
        session_id: &str,
        actor: &Actor,
        target: &Target,
        start: Time,
        ending: &Ending,
    ) {
        let end = now();
        let lasted = end.0.duration_since(start.0).unwrap_or_default();
        self.metrics
            .session_ended(ending.cause, ending.exec_error, lasted);
        self.write(&Line::SessionEnd {
            time: end.rfc3339(),
            session_id,
            actor,
            target,
            start_time: start.rfc3339(),
            end_time: end.rfc3339(),
            ending,
        });
    }

    /// A request was refused.
    pub fn refused(
        &self,
        cause: &'static str,
        status: u16,
        actor: &Actor,
        method: &str,
        path: &str,
        reason: &str,
    ) {
        self.metrics.refused(cause);
        self.write(&Line::Refused {
            time: now().rfc3339(),
            cause,
            status,
            actor,
            method,
            path,
            reason,
        });
    }

    /// An HTTP request was refused with `error`.
    pub fn refused_request(
        &self,
        cause: &'static str,
        error: &crate::error::AppError,
        actor: &Actor,
        request: &axum::extract::Request,
    ) {
        self.refused(
            cause,
            error.kind.http_status(),
            actor,
            request.method().as_str(),
            request.uri().path(),
            &error.message,
        );
    }

    /// Lines dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn write(&self, line: &Line<'_>) {
        let Some(queue) = &self.queue else { return };
        let Ok(mut text) = serde_json::to_string(line) else {
            return;
        };
        text.push('\n');
        match queue.try_send(text) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::error!(dropped = n, "audit queue full; line dropped");
            }
            Err(TrySendError::Disconnected(_)) => {
                tracing::error!("audit writer is gone; line dropped");
            }
        }
    }
}

/// A point in time, as audit lines print it.
#[derive(Debug, Clone, Copy)]
pub struct Time(std::time::SystemTime);

/// Now.
pub fn now() -> Time {
    Time(std::time::SystemTime::now())
}

impl Time {
    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-25T10:14:07.123Z`.
    pub fn rfc3339(self) -> String {
        humantime::format_rfc3339_millis(self.0).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> Actor {
        Actor {
            user: Some("alice".into()),
            groups: vec!["system:authenticated".into()],
            auth_mode: AuthMode::Token,
            source: "127.0.0.1".parse().unwrap(),
        }
    }

    fn target() -> Target {
        Target {
            cluster: "admin".into(),
            namespace: "demo".into(),
            pod: "bash-pod".into(),
            container: "main".into(),
            subresource: "exec",
            command: vec![],
            tty: true,
        }
    }

    fn lines_of(path: &std::path::Path, want: usize) -> Vec<serde_json::Value> {
        for _ in 0..200 {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            if text.lines().count() >= want {
                return text
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("fewer than {want} lines in {}", path.display());
    }

    #[test]
    fn session_lines_carry_who_what_when_and_how_it_ended() {
        let path = std::env::temp_dir().join(format!("webshell-audit-{}.log", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let audit = Audit::open(&AuditSink::File(path.clone()), Arc::default()).unwrap();
        let start = now();
        audit.session_start("s1", &actor(), &target(), start);
        let ending = Ending {
            bytes_in: 3,
            bytes_out: 120,
            exit_code: Some(0),
            close_code: Some(1000),
            close_reason: "process exited with code 0".into(),
            cause: "exited",
            exec_error: None,
        };
        audit.session_end("s1", &actor(), &target(), start, &ending);
        audit.refused(
            "auth",
            401,
            &Actor {
                user: None,
                ..actor()
            },
            "GET",
            "/api/namespaces",
            "sign in",
        );
        let lines = lines_of(&path, 3);
        assert_eq!(lines[0]["event"], "session.start");
        let end = &lines[1];
        for field in [
            "time",
            "session_id",
            "user",
            "groups",
            "auth_mode",
            "source",
            "cluster",
            "namespace",
            "pod",
            "container",
            "command",
            "tty",
            "start_time",
            "end_time",
            "bytes_in",
            "bytes_out",
            "exit_code",
            "close_code",
            "close_reason",
        ] {
            assert!(end.get(field).is_some(), "session.end lacks {field}: {end}");
        }
        assert_eq!(end["auth_mode"], "token");
        assert_eq!(end["bytes_out"], 120);
        assert_eq!(lines[2]["event"], "refused");
        assert_eq!(lines[2]["cause"], "auth");
        assert!(lines[2]["user"].is_null());
        std::fs::remove_file(&path).unwrap();
    }
}
