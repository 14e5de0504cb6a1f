//! `webshell`: serves the web terminal for Kubernetes pods.
//!
//! ```text
//! webshell --kubeconfig ~/.kube/config --context my-cluster   # prints http://127.0.0.1:8080/?secret=…
//! ```

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use webshell::config::{Args, LogFormat};
use webshell::{AppState, auth};

/// A misconfiguration ends the process with one line on stderr and exit code 2, never a panic
/// or a multi-line trace.
fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => return clap_error(&e),
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=info".into());
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    match args.log_format {
        LogFormat::Pretty => logs.init(),
        // Span fields (session id, user, namespace, pod, container) on every line.
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
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
    let (ops_listen, drain) = (args.ops_listen, args.shutdown_drain);
    let settings = args.into_settings().await?;
    let listen = settings.listen;
    let state = AppState::build(settings).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let ops = match ops_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("--ops-listen: cannot listen on {addr}: {e}"))?,
        ),
        None => None,
    };
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

    webshell::serving::serve_and_drain(listener, ops, state, shutdown_signal(), drain, options)
        .await
        .map_err(|e| format!("serving: {e}"))?;
    tracing::info!("shut down");
    Ok(())
}

/// `--help` and `--version` as clap prints them; a flag error as one line (clap's message
/// without its usage block), exit 2.
fn clap_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let text = e.render().to_string();
    let message: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.is_empty() && !l.starts_with("Usage:"))
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    eprintln!("webshell: {message} (see --help)");
    ExitCode::from(2)
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
