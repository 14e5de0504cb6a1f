//! `webshell`: serves the web terminal for Kubernetes pods.
//!
//! ```text
//! webshell --kubeconfig ~/.kube/config --context my-cluster   # prints http://127.0.0.1:8080/?secret=…
//! ```

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use webshell::config::Args;
use webshell::{AppState, auth};

/// A misconfiguration ends the process with one line on stderr and exit code 2, never a panic
/// or a multi-line trace.
fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("webshell: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("webshell: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let options = args.serve_options().await?;
    let secret_from_file = args.local_secret_file.is_some();
    let scheme = if options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let settings = args.into_settings().await?;
    let listen = settings.listen;
    let state = AppState::build(settings).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let param = webshell_protocol::rest::LOCAL_SECRET_PARAM;
    let url = match state.auth.launch_secret() {
        // Like Jupyter: the one URL that signs this browser in, printed once to the console
        // that started the server (never to the log). A secret from a file is not repeated:
        // whoever wrote the file knows it.
        Some(_) if secret_from_file => {
            format!("{scheme}://{address}/?{param}=<the secret in --local-secret-file>")
        }
        Some(secret) => format!("{scheme}://{address}/?{param}={secret}"),
        None => format!("{scheme}://{address}/"),
    };
    eprintln!("webshell: open {url}");
    tracing::info!(%address, auth = state.auth.mode().as_str(), "webshell listening");
    auth::warn_if_plain_http(&state, listen);
    webshell::serving::serve_with(listener, state, shutdown_signal(), options)
        .await
        .map_err(|e| format!("serving: {e}"))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
