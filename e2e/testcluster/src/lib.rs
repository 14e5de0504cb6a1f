//! The local test cluster (`e2e/cluster/cluster.sh up`), as seen from Rust tests.
//!
//! Tests that reach the cluster call [`client`] with a user's context (`admin`, `alice`,
//! `bob`). When the cluster is not up they fail with a message that says how to start it,
//! rather than skip: a skipped cluster test would hide exactly the behaviour that matters.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::io::AsyncReadExt;

/// The namespace with the demo pods.
pub const DEMO: &str = "demo";

/// The state directory of the running cluster (same lookup as `cluster.sh`).
pub fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WEBSHELL_CLUSTER_DIR") {
        return dir.into();
    }
    if let Some(cache) = std::env::var_os("WEBSHELL_CACHE") {
        return PathBuf::from(cache).join("cluster");
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    cache.join("webshell/cluster")
}

/// The kubeconfig `cluster.sh up` writes, with contexts `admin`, `alice` and `bob`.
pub fn kubeconfig_path() -> PathBuf {
    state_dir().join("kubeconfig")
}

/// A client acting as `user` (a context of the test kubeconfig).
pub async fn client(user: &str) -> anyhow::Result<kube::Client> {
    let kubeconfig = read_kubeconfig()?;
    let options = KubeConfigOptions {
        context: Some(user.into()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options).await?;
    Ok(kube::Client::try_from(config)?)
}

/// The kubeconfig's configuration for `user`'s context, with the context's name: what a
/// webshell server started with `--kubeconfig … --context user` loads.
pub async fn kube_config(user: &str) -> anyhow::Result<(kube::Config, String)> {
    let kubeconfig = read_kubeconfig()?;
    let options = KubeConfigOptions {
        context: Some(user.into()),
        ..Default::default()
    };
    Ok((
        kube::Config::from_custom_kubeconfig(kubeconfig, &options).await?,
        user.to_owned(),
    ))
}

/// The static bearer token of a test user (`admin`, `alice`, `bob`, `webshell-proxy`), as
/// the kubeconfig holds it.
pub fn token(user: &str) -> anyhow::Result<String> {
    use kube::config::AuthInfo;
    let kubeconfig = read_kubeconfig()?;
    let info: &AuthInfo = kubeconfig
        .auth_infos
        .iter()
        .find(|a| a.name == user)
        .and_then(|a| a.auth_info.as_ref())
        .with_context(|| format!("no user {user} in the test kubeconfig"))?;
    let token = info
        .token
        .as_ref()
        .with_context(|| format!("user {user} has no token"))?;
    Ok(secrecy::ExposeSecret::expose_secret(token).to_owned())
}

/// The API server's own audit log (JSON lines), where it records who did each exec.
pub fn apiserver_audit_log() -> PathBuf {
    state_dir().join("logs/audit.log")
}

/// The identity provider's settings `cluster.sh up` wrote (`$STATE/oidc.env`: issuer, CA,
/// client id and secret, users).
pub fn oidc_env() -> anyhow::Result<std::collections::HashMap<String, String>> {
    let path = state_dir().join("oidc.env");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{} missing: is the test cluster up?", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
        .collect())
}

fn read_kubeconfig() -> anyhow::Result<Kubeconfig> {
    let path = kubeconfig_path();
    if !path.exists() {
        bail!(
            "the test cluster is not up ({} missing): run e2e/cluster/cluster.sh up",
            path.display()
        );
    }
    Ok(Kubeconfig::read_from(&path)?)
}

/// The demo namespace's pods, as `user`.
pub async fn demo_pods(user: &str) -> anyhow::Result<Api<Pod>> {
    Ok(Api::namespaced(client(user).await?, DEMO))
}

/// Reads from `reader` until the accumulated output contains `needle`, or fails after
/// `within` with everything read so far.
pub async fn read_until(
    reader: &mut (impl tokio::io::AsyncRead + Unpin),
    needle: &str,
    within: Duration,
) -> anyhow::Result<String> {
    let mut seen = Vec::new();
    let result = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                bail!("stream ended");
            }
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains(needle) {
                return Ok(());
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&seen).into_owned();
    match result {
        Ok(Ok(())) => Ok(text),
        Ok(Err(e)) => Err(e).with_context(|| format!("waiting for {needle:?}; got {text:?}")),
        Err(_) => bail!("no {needle:?} within {within:?}; got {text:?}"),
    }
}

/// What a finished exec left: stdout, stderr and its final status.
pub type Ran = (String, String, Option<Status>);

/// Runs a command without a TTY to its end.
pub async fn run(pods: &Api<Pod>, pod: &str, command: &[&str]) -> anyhow::Result<Ran> {
    let params = AttachParams::default().stdin(false).stderr(true);
    let mut process = pods.exec(pod, command.iter().copied(), &params).await?;
    let stdout = process.stdout().map(read_all);
    let stderr = process.stderr().map(read_all);
    let status = process.take_status().context("status taken")?;
    let (out, err) = tokio::join!(
        async {
            if let Some(f) = stdout {
                f.await
            } else {
                String::new()
            }
        },
        async {
            if let Some(f) = stderr {
                f.await
            } else {
                String::new()
            }
        },
    );
    let status = tokio::time::timeout(Duration::from_secs(10), status).await?;
    Ok((out, err, status))
}

/// Everything a stream yields, as text for assertions.
async fn read_all(mut reader: impl tokio::io::AsyncRead + Unpin) -> String {
    let mut all = Vec::new();
    let _ = reader.read_to_end(&mut all).await;
    String::from_utf8_lossy(&all).into_owned()
}

/// Whether `pod` has a process with `pid` (an exec of `kill -0`, through the cluster).
pub async fn is_alive(pods: &Api<Pod>, pod: &str, pid: &str) -> anyhow::Result<bool> {
    let probe = format!("kill -0 {pid}");
    let (_, _, status) = run(pods, pod, &["sh", "-c", &probe]).await?;
    Ok(status.and_then(|s| s.status).as_deref() == Some("Success"))
}

/// Waits until `pod` has no process with `pid` (checked through the cluster: an exec of
/// `kill -0`), returning how long that took.
pub async fn wait_gone(
    pods: &Api<Pod>,
    pod: &str,
    pid: &str,
    within: Duration,
) -> anyhow::Result<Duration> {
    let start = std::time::Instant::now();
    loop {
        if !is_alive(pods, pod, pid).await? {
            return Ok(start.elapsed());
        }
        if start.elapsed() > within {
            bail!("process {pid} in {pod} still alive after {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The next `n` lines of a log stream.
pub async fn next_lines(
    stream: impl futures::AsyncBufRead + Unpin,
    n: usize,
    within: Duration,
) -> anyhow::Result<Vec<String>> {
    use futures::AsyncBufReadExt;
    let lines = tokio::time::timeout(within, stream.lines().take(n).collect::<Vec<_>>()).await?;
    lines.into_iter().map(|l| l.map_err(Into::into)).collect()
}
