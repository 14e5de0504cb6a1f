//! `webshell`: serves the web terminal for Kubernetes pods.
//!
//! ```text
//! webshell --kubeconfig ~/.kube/config --context my-cluster   # http://127.0.0.1:8080
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Parser;
use tracing_subscriber::EnvFilter;
use webshell::security::{Security, read_secret_file};
use webshell::site::Site;
use webshell::{AppState, kube_client};

/// A browser terminal into Kubernetes pods.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on. Beyond loopback, an access token is required.
    #[arg(long, env = "WEBSHELL_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster config).
    #[arg(long, env = "WEBSHELL_KUBECONFIG")]
    kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use (default: the current context).
    #[arg(long, env = "WEBSHELL_CONTEXT")]
    context: Option<String>,
    /// A URL browsers use to reach this server, e.g. https://webshell.example.com. Requests
    /// for any other name are refused (DNS rebinding). Repeatable. On loopback, localhost,
    /// 127.0.0.1 and [::1] with the listening port are always accepted; beyond loopback at least
    /// one is required.
    #[arg(
        long = "public-url",
        env = "WEBSHELL_PUBLIC_URLS",
        value_delimiter = ','
    )]
    public_urls: Vec<String>,
    /// Extra browser origin allowed to call this server, e.g. http://127.0.0.1:8081 for
    /// `trunk serve`, or a page that embeds the terminal. Repeatable. The server's own
    /// origins are always allowed.
    #[arg(
        long = "allowed-origin",
        env = "WEBSHELL_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    allowed_origins: Vec<String>,
    /// File holding the access token every API request must present (Bearer header, or the
    /// `webshell.bearer.<base64url(token)>` WebSocket subprotocol). Required beyond loopback.
    #[arg(long, env = "WEBSHELL_ACCESS_TOKEN_FILE")]
    access_token_file: Option<PathBuf>,
}

/// A misconfiguration ends the process with one line on stderr and exit code 2, never a panic
/// or a multi-line trace.
fn main() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("webshell: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("webshell: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .init();
    let args = Args::parse();

    let access_token = match &args.access_token_file {
        Some(path) => Some(read_secret_file(path).context("--access-token-file")?),
        None => None,
    };
    if !args.listen.ip().is_loopback() && access_token.is_none() {
        bail!(
            "refusing to listen on {} without authentication: pass --access-token-file, \
             or listen on 127.0.0.1",
            args.listen
        );
    }
    let site = Site::new(args.listen, false, &args.public_urls, &args.allowed_origins)
        .map_err(anyhow::Error::msg)?;
    let client = kube_client(args.kubeconfig.as_deref(), args.context.clone())
        .await
        .context("loading Kubernetes client configuration")?;
    let state = AppState {
        client,
        site: Arc::new(site),
        security: Arc::new(Security { access_token }),
        session: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(url = %format!("http://{}", listener.local_addr()?), "webshell listening");
    webshell::serve(listener, state, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
}
