//! The pod side of a session: the pod `exec` or `attach` subresource, as the caller, after
//! the access check; the socket itself is [`remote_command`]'s.

use futures::FutureExt;
use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::AttachParams;
use kube::{Api, Resource};
use webshell_protocol::{ErrorKind, TermSize};

use super::port::{Outcome, ProcessLauncher, RemoteProcess};
use super::remote_command::{self, StartError};
use crate::access::{Asker, check_subresource};
use crate::error::{AppError, classify};

/// Which pod subresource a session connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subresource {
    /// `pods/exec`: a new process, the command's or the shell probe's. Ending the session
    /// ends it.
    Exec,
    /// `pods/attach`: the container's main process. Ending the session only detaches.
    Attach,
}

impl Subresource {
    /// The subresource's name, as RBAC and the API path spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Subresource::Exec => "exec",
            Subresource::Attach => "attach",
        }
    }
}

/// An exec into (or an attach to) one container, started when the session knows the
/// terminal size.
pub struct KubeExec {
    /// Pods of the target namespace, with the caller's client.
    pub pods: Api<Pod>,
    /// The namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// Exec or attach.
    pub subresource: Subresource,
    /// The command of an exec (the shell probe wraps this launcher to pick a shell); empty
    /// for an attach.
    pub command: Vec<String>,
    /// Allocate a TTY (stderr is then merged into stdout by the runtime). An attach ignores
    /// it: the container's spec decides.
    pub tty: bool,
    /// Who asks whether the caller may exec.
    pub access: Asker,
}

impl ProcessLauncher for KubeExec {
    fn launch(
        self: Box<Self>,
        size: TermSize,
    ) -> BoxFuture<'static, Result<RemoteProcess, AppError>> {
        self.start(size).boxed()
    }
}

impl KubeExec {
    async fn start(self, size: TermSize) -> Result<RemoteProcess, AppError> {
        let verb = self.subresource.as_str();
        check_subresource(&self.access, verb, &self.namespace, &self.pod).await?;
        let path = kube::core::Request::new(Pod::url_path(&(), Some(&self.namespace)));
        let (tty, request) = match self.subresource {
            Subresource::Exec => {
                let params = self.params(true, self.tty);
                (
                    self.tty,
                    path.exec(&self.pod, self.command.clone(), &params),
                )
            }
            Subresource::Attach => {
                let (tty, stdin) = self.main_process_io().await?;
                (tty, path.attach(&self.pod, &self.params(stdin, tty)))
            }
        };
        let request = request
            .map_err(|e| AppError::bad_request(format!("cannot build the {verb} request: {e}")))?;
        let client = self.pods.clone().into_client();
        match remote_command::start(&client, request, tty, size, self.command.clone()).await {
            Ok(process) => Ok(process),
            Err(StartError::Kube(e)) => Err(self.explain(&e).await),
            Err(e) => Err(e.to_app_error()),
        }
    }

    fn params(&self, stdin: bool, tty: bool) -> AttachParams {
        AttachParams::default()
            .container(&self.container)
            .stdin(stdin)
            .stdout(true)
            .stderr(!tty)
            .tty(tty)
    }

    /// An attach must ask for what the main process has: a TTY if its spec says `tty`, stdin
    /// if it says `stdin`. The pod says so, and also why an attach cannot work (a missing or
    /// stopped container), before the upgrade hides it behind a status code.
    async fn main_process_io(&self) -> Result<(bool, bool), AppError> {
        let pod = match self.pods.get(&self.pod).await {
            Ok(pod) => pod,
            Err(e) if classify(&e).kind == ErrorKind::NotFound => {
                return Err(self.missing_pod().await);
            }
            Err(e) => return Err(classify(&e)),
        };
        if let Some(why) = diagnose_container(&pod, &self.container) {
            return Err(why);
        }
        let spec = pod.spec.as_ref();
        let regular = spec
            .iter()
            .flat_map(|s| &s.containers)
            .find(|c| c.name == self.container)
            .map(|c| (c.tty, c.stdin));
        // A debug container (what `kubectl debug -it` attaches to) is an ephemeral one.
        let ephemeral = || {
            spec.iter()
                .flat_map(|s| s.ephemeral_containers.iter().flatten())
                .find(|c| c.name == self.container)
                .map(|c| (c.tty, c.stdin))
        };
        let (tty, stdin) = regular.or_else(ephemeral).unwrap_or_default();
        Ok((tty.unwrap_or(false), stdin.unwrap_or(false)))
    }

    /// Turns a failed exec into a clear error. The WebSocket upgrade only tells the status
    /// code, so on failure (never on the happy path) we look at the pod to say why.
    async fn explain(&self, e: &kube::Error) -> AppError {
        let err = classify(e);
        match err.kind {
            ErrorKind::Forbidden => {
                let why = if err.message.is_empty() {
                    "forbidden".to_owned()
                } else {
                    err.message
                };
                return AppError::forbidden(format!(
                    "you may not {} pod {}: {why}",
                    match self.subresource {
                        Subresource::Exec => "exec into",
                        Subresource::Attach => "attach to",
                    },
                    self.pod
                ));
            }
            ErrorKind::Unauthorized | ErrorKind::Upstream | ErrorKind::UpstreamTimeout => {
                return err;
            }
            _ => {}
        }
        match self.pods.get(&self.pod).await {
            Err(e) if classify(&e).kind == ErrorKind::NotFound => self.missing_pod().await,
            Ok(pod) => diagnose_container(&pod, &self.container)
                .unwrap_or(AppError::new(ErrorKind::ExecFailed, err.message)),
            Err(_) => AppError::new(ErrorKind::ExecFailed, err.message),
        }
    }
}

impl KubeExec {
    /// The pod is not there: say whether its namespace is missing too (a mistyped deep
    /// link), when the caller may see namespaces; otherwise name both.
    async fn missing_pod(&self) -> AppError {
        let client = self.pods.clone().into_client();
        crate::pods::missing_pod(&client, &self.namespace, &self.pod).await
    }
}

fn exec_failed(message: String) -> AppError {
    AppError {
        kind: ErrorKind::ExecFailed,
        message,
    }
}

/// Why an exec into `container` of `pod` cannot work, if the pod says so. Ephemeral (debug)
/// containers count, though the error lists only the regular ones a person would pick.
pub fn diagnose_container(pod: &Pod, container: &str) -> Option<AppError> {
    let spec = pod.spec.as_ref()?;
    let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    let ephemeral = spec
        .ephemeral_containers
        .iter()
        .flatten()
        .any(|c| c.name == container);
    if !names.contains(&container) && !ephemeral {
        return Some(AppError {
            kind: ErrorKind::NotFound,
            message: format!(
                "container {container} not found in pod {}; it has: {}",
                pod.metadata.name.as_deref().unwrap_or_default(),
                names.join(", ")
            ),
        });
    }
    let status = pod.status.as_ref()?;
    let state = status
        .container_statuses
        .iter()
        .chain(&status.ephemeral_container_statuses)
        .flatten()
        .find(|s| s.name == container)?
        .state
        .as_ref()?;
    if state.running.is_some() {
        return None;
    }
    let why = match (&state.waiting, &state.terminated) {
        (Some(w), _) => format!("waiting ({})", w.reason.as_deref().unwrap_or("unknown")),
        (_, Some(t)) => format!("terminated with exit code {}", t.exit_code),
        _ => "not running".into(),
    };
    Some(exec_failed(format!(
        "container {container} is {why}; a terminal needs a running container"
    )))
}

/// Maps the exec's final `Status` (channel 3) to how the process ended.
pub fn outcome_of(status: Option<Status>) -> Outcome {
    let Some(status) = status else {
        return Outcome::Failed(exec_failed("the exec ended without an exit status".into()));
    };
    if status.status.as_deref() == Some("Success") {
        return Outcome::Exited {
            code: 0,
            reason: "Completed".into(),
        };
    }
    let reason = status.reason.unwrap_or_default();
    if reason == "NonZeroExitCode" {
        let code = status
            .details
            .and_then(|d| d.causes)
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.reason.as_deref() == Some("ExitCode"))
            .and_then(|c| c.message?.parse().ok());
        if let Some(code) = code {
            return Outcome::Exited { code, reason };
        }
    }
    let message = status
        .message
        .unwrap_or_else(|| format!("exec failed: {reason}"));
    Outcome::Failed(exec_failed(message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{StatusCause, StatusDetails};

    fn failure(reason: &str, message: &str, exit_code: Option<&str>) -> Status {
        Status {
            status: Some("Failure".into()),
            reason: Some(reason.into()),
            message: Some(message.into()),
            details: exit_code.map(|c| StatusDetails {
                causes: Some(vec![StatusCause {
                    reason: Some("ExitCode".into()),
                    message: Some(c.into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn success_is_exit_code_zero() {
        let status = Status {
            status: Some("Success".into()),
            ..Default::default()
        };
        assert_eq!(
            outcome_of(Some(status)),
            Outcome::Exited {
                code: 0,
                reason: "Completed".into()
            }
        );
    }

    #[test]
    fn a_non_zero_exit_code_comes_from_the_exit_code_cause() {
        let status = failure(
            "NonZeroExitCode",
            "command terminated with non-zero exit code",
            Some("3"),
        );
        assert_eq!(
            outcome_of(Some(status)),
            Outcome::Exited {
                code: 3,
                reason: "NonZeroExitCode".into()
            }
        );
    }

    #[test]
    fn a_missing_explicit_command_is_an_exec_failure_with_the_runtime_message() {
        let message = r#"exec: "htop": executable file not found in $PATH"#;
        let status = failure("InternalError", message, None);
        assert_eq!(
            outcome_of(Some(status)),
            Outcome::Failed(exec_failed(message.into()))
        );
    }

    #[test]
    fn no_status_at_all_is_a_failure() {
        assert!(matches!(outcome_of(None), Outcome::Failed(_)));
    }
}
