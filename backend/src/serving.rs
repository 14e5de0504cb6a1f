//! The HTTP(S) server loop: plain HTTP or TLS with rustls, a header-read timeout against
//! slowloris clients, and certificates reloaded when their files change.
//!
//! cert-manager and Kubernetes Secret mounts replace certificate files in place (a symlink
//! swap), so the files are polled rather than watched with inotify, which loses track of a
//! swapped symlink target. A change is picked up within [`ServeOptions::reload_every`];
//! a file that does not parse keeps the old certificate and is logged.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use axum_server::Handle;
use axum_server::accept::NoDelayAcceptor;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use tokio::net::TcpListener;

use crate::state::AppState;

/// A certificate and its key, PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Serve TLS with these files; plain HTTP without.
    pub tls: Option<TlsFiles>,
    /// A client must send its request headers within this.
    pub header_read_timeout: Duration,
    /// How often certificate files are checked for changes.
    pub reload_every: Duration,
    /// After shutdown starts, how long open connections may take to finish.
    pub drain: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            tls: None,
            header_read_timeout: Duration::from_secs(10),
            reload_every: Duration::from_secs(10),
            drain: Duration::from_secs(10),
        }
    }
}

/// Loads the certificate files; fails with one line naming the file.
pub async fn load_tls(files: &TlsFiles) -> Result<RustlsConfig, String> {
    // rustls needs a process-wide crypto provider; ring is the one kube-rs uses too.
    let _ = rustls::crypto::ring::default_provider().install_default();
    RustlsConfig::from_pem_file(&files.cert, &files.key)
        .await
        .map_err(|e| {
            format!(
                "--tls-cert {} / --tls-key {}: {e}",
                files.cert.display(),
                files.key.display()
            )
        })
}

/// Serves the app on `listener`, and the operations routes on `ops`, until `signal` resolves;
/// then drains as [`crate::lifecycle`] describes: readiness fails and sessions are told at
/// once, the servers stop once every session ended or `drain` ran out.
pub async fn serve_and_drain(
    listener: TcpListener,
    ops: Option<TcpListener>,
    state: AppState,
    signal: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
    options: ServeOptions,
) -> std::io::Result<()> {
    let lifecycle = state.lifecycle.clone();
    let (stopped, stop_serving) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        signal.await;
        lifecycle.begin_drain();
        if !lifecycle.sessions_ended(drain).await {
            tracing::warn!(
                sessions = lifecycle.running_sessions(),
                "drain period over; ending the remaining sessions"
            );
        }
        let _ = stopped.send(true);
    });
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stopped| *stopped).await;
    };
    if let Some(ops) = ops {
        tracing::info!(address = %ops.local_addr()?, "operations listener (/healthz, /readyz, /metrics)");
        let router = crate::ops::router(state.clone());
        let stop = until_stopped(stop_serving.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(ops, router).with_graceful_shutdown(stop).await {
                tracing::error!(error = %e, "operations listener failed");
            }
        });
    }
    let options = ServeOptions {
        // Sessions had the drain period already; requests still in flight get a moment.
        drain: Duration::from_secs(2),
        ..options
    };
    serve_with(listener, state, until_stopped(stop_serving), options).await
}

/// Serves `state` on `listener` until `shutdown` resolves.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> std::io::Result<()> {
    let handle: Handle<SocketAddr> = Handle::new();
    let drain = options.drain;
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(drain));
    });
    let app = crate::app(state).into_make_service_with_connect_info::<SocketAddr>();
    let mut server = axum_server::from_tcp(listener.into_std()?)?.handle(handle.clone());
    server
        .http_builder()
        .http1()
        .header_read_timeout(options.header_read_timeout);
    let server = server.first_request_timeout(options.header_read_timeout);
    // Terminal traffic is many small writes (keystrokes, echoes, acks): without TCP_NODELAY,
    // Nagle's algorithm and delayed ACKs add tens of milliseconds to each keystroke.
    match options.tls {
        None => server.acceptor(NoDelayAcceptor::new()).serve(app).await,
        Some(files) => {
            let config = load_tls(&files).await.map_err(std::io::Error::other)?;
            let reloader = tokio::spawn(reload_on_change(
                config.clone(),
                files,
                options.reload_every,
            ));
            let acceptor =
                RustlsAcceptor::new(config).handshake_timeout(options.header_read_timeout);
            let result = server.acceptor(acceptor).serve(app).await;
            reloader.abort();
            result
        }
    }
}

/// Reloads the certificate whenever either file's modification time or size changes.
async fn reload_on_change(config: RustlsConfig, files: TlsFiles, every: Duration) {
    let stamp = |files: &TlsFiles| -> Option<[(SystemTime, u64); 2]> {
        let of = |p: &PathBuf| {
            let m = std::fs::metadata(p).ok()?;
            Some((m.modified().ok()?, m.len()))
        };
        Some([of(&files.cert)?, of(&files.key)?])
    };
    let mut last = stamp(&files);
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let now = stamp(&files);
        if now.is_none() || now == last {
            continue;
        }
        match config.reload_from_pem_file(&files.cert, &files.key).await {
            Ok(()) => {
                tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
                last = now;
            }
            // Half-written files during a rotation: try again next tick.
            Err(e) => {
                tracing::warn!(error = %e, "TLS certificate reload failed; keeping the old one")
            }
        }
    }
}
