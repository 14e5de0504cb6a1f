//! The command line (every flag also reads an environment variable), checked into
//! [`Settings`]. Any misconfiguration is one line for a person, never a panic.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::HeaderName;
use clap::{Parser, ValueEnum};
use ipnet::IpNet;

use crate::audit::AuditSink;
use crate::auth::AuthSettings;
use crate::auth::oidc::OidcSettings;
use crate::auth::proxy::ProxySettings;
use crate::debug::DEFAULT_DEBUG_IMAGE;
use crate::limits::SessionLimits;
use crate::security::read_secret_file;
use crate::serving::{ServeOptions, TlsFiles, load_tls};
use crate::session::SessionConfig;
use crate::state::Settings;
use crate::upstream::{ContextChoice, load_clusters};

/// A browser terminal into Kubernetes pods.
#[derive(Parser, Debug)]
#[command(version, about, max_term_width = 100)]
pub struct Args {
    /// Address to listen on. `--auth local` (the default on loopback) only listens on
    /// loopback; anything else needs --auth and --public-url.
    #[arg(long, env = "WEBSHELL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// A URL browsers use to reach this server, e.g. https://webshell.example.com. Requests
    /// for other names are refused (DNS rebinding). Repeatable.
    #[arg(
        long = "public-url",
        env = "WEBSHELL_PUBLIC_URLS",
        value_delimiter = ','
    )]
    pub public_urls: Vec<String>,
    /// Another page origin allowed to call this server, e.g. http://127.0.0.1:8081 for
    /// `trunk serve`, or an app that embeds the terminal. Repeatable.
    #[arg(
        long = "allowed-origin",
        env = "WEBSHELL_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
    /// Pages allowed to frame the SPA (CSP frame-ancestors sources). Default: none.
    #[arg(
        long = "frame-ancestors",
        env = "WEBSHELL_FRAME_ANCESTORS",
        value_delimiter = ','
    )]
    pub frame_ancestors: Vec<String>,

    /// Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster account).
    #[arg(long, env = "WEBSHELL_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig contexts to offer, the first being the default; `in-cluster` names the
    /// pod's own service account. Repeatable. Default: with --auth local every context (the
    /// current one first) and the in-cluster account; otherwise only the current context (or
    /// the in-cluster account), since a person's credential would reach every cluster offered.
    #[arg(long = "context", env = "WEBSHELL_CONTEXTS", value_delimiter = ',')]
    pub contexts: Vec<String>,
    /// How long the Kubernetes API server may take to connect and answer a call, or to
    /// accept an exec, before the person gets an error.
    #[arg(long, env = "WEBSHELL_APISERVER_TIMEOUT", default_value = "15s", value_parser = humantime::parse_duration)]
    pub apiserver_timeout: Duration,

    /// Who callers are: `local` (the server's own identity, behind a launch secret; loopback
    /// only), `token` (each person's bearer token), `oidc` (sign-in at the cluster's OpenID
    /// Connect provider) or `proxy` (named by an authenticating proxy, impersonated).
    /// Default: local on loopback, required otherwise.
    #[arg(long, env = "WEBSHELL_AUTH")]
    pub auth: Option<AuthKind>,
    /// File with the key (≥ 32 bytes) sealing session cookies. Replicas must share it.
    /// Default: a random key per process (sign-ins end with it).
    #[arg(long, env = "WEBSHELL_SESSION_KEY_FILE")]
    pub session_key_file: Option<PathBuf>,
    /// The longest a sign-in lasts.
    #[arg(long, env = "WEBSHELL_SESSION_TTL", default_value = "12h", value_parser = humantime::parse_duration)]
    pub session_ttl: Duration,
    /// `--auth local`: file with the launch secret (≥ 32 bytes). Default: a random one.
    #[arg(long, env = "WEBSHELL_LOCAL_SECRET_FILE")]
    pub local_secret_file: Option<PathBuf>,

    /// `--auth oidc`: the issuer URL; the API server must trust the same issuer.
    #[arg(long, env = "WEBSHELL_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// `--auth oidc`: this server's client id (an audience the API server accepts).
    #[arg(long, env = "WEBSHELL_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// `--auth oidc`: file with the client secret, for a confidential client.
    #[arg(long, env = "WEBSHELL_OIDC_CLIENT_SECRET_FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// `--auth oidc`: a CA bundle for the provider's certificate, besides the usual roots.
    #[arg(long, env = "WEBSHELL_OIDC_CA_FILE")]
    pub oidc_ca_file: Option<PathBuf>,
    /// `--auth oidc`: scopes besides `openid`; `offline_access` asks for a refresh token.
    #[arg(
        long,
        env = "WEBSHELL_OIDC_SCOPES",
        value_delimiter = ',',
        default_value = "profile,email,offline_access"
    )]
    pub oidc_scopes: Vec<String>,
    /// `--auth oidc`: renew the id-token when it expires within this.
    #[arg(long, env = "WEBSHELL_OIDC_REFRESH_BEFORE", default_value = "60s", value_parser = humantime::parse_duration)]
    pub oidc_refresh_before: Duration,

    /// `--auth proxy`: an address or CIDR the authenticating proxy connects from.
    /// Identity headers from anywhere else are refused. Repeatable.
    #[arg(
        long = "proxy-trusted-source",
        env = "WEBSHELL_PROXY_TRUSTED_SOURCES",
        value_delimiter = ','
    )]
    pub proxy_trusted_sources: Vec<String>,
    /// `--auth proxy`: the header naming the user.
    #[arg(
        long,
        env = "WEBSHELL_PROXY_USER_HEADER",
        default_value = "X-Forwarded-User"
    )]
    pub proxy_user_header: String,
    /// `--auth proxy`: the header with the user's groups (comma-separated).
    #[arg(
        long,
        env = "WEBSHELL_PROXY_GROUPS_HEADER",
        default_value = "X-Forwarded-Groups"
    )]
    pub proxy_groups_header: String,
    /// `--auth proxy`: the proxy's sign-in page, linked from the UI.
    #[arg(
        long,
        env = "WEBSHELL_PROXY_SIGN_IN_URL",
        default_value = "/oauth2/sign_in"
    )]
    pub proxy_sign_in_url: String,
    /// `--auth proxy`: the proxy's sign-out page, where the UI's sign-out goes.
    #[arg(
        long,
        env = "WEBSHELL_PROXY_SIGN_OUT_URL",
        default_value = "/oauth2/sign_out"
    )]
    pub proxy_sign_out_url: String,

    /// Terminal sessions at once, all users together.
    #[arg(long, env = "WEBSHELL_MAX_SESSIONS", default_value_t = 1000)]
    pub max_sessions: usize,
    /// Terminal sessions at once per user.
    #[arg(long, env = "WEBSHELL_MAX_SESSIONS_PER_USER", default_value_t = 20)]
    pub max_sessions_per_user: usize,
    /// Image of the ephemeral debug container offered for containers without a shell.
    #[arg(long, env = "WEBSHELL_DEBUG_IMAGE", default_value = DEFAULT_DEBUG_IMAGE)]
    pub debug_image: String,
    /// New terminal sessions per user per minute.
    #[arg(
        long,
        env = "WEBSHELL_MAX_NEW_SESSIONS_PER_MINUTE",
        default_value_t = 30
    )]
    pub max_new_sessions_per_minute: usize,
    /// End a session with no input and no output for this long (0: never).
    #[arg(long, env = "WEBSHELL_IDLE_TIMEOUT", default_value = "30m", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,
    /// End any session this long after it started (0: never).
    #[arg(long, env = "WEBSHELL_MAX_SESSION_DURATION", default_value = "12h", value_parser = humantime::parse_duration)]
    pub max_session_duration: Duration,
    /// How long a browser may take no output (a blocked socket, or no acknowledgement with a
    /// full window) before its session is ended.
    #[arg(long, env = "WEBSHELL_STALL_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub stall_timeout: Duration,
    /// How long a client may take to send its request headers (slowloris).
    #[arg(long, env = "WEBSHELL_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_read_timeout: Duration,

    /// Serve TLS with this PEM certificate chain (with --tls-key); reloaded when it changes.
    #[arg(long, env = "WEBSHELL_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "WEBSHELL_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Where audit lines go: a file path, `-` for stdout, or `off`.
    #[arg(long, env = "WEBSHELL_AUDIT_LOG", default_value = "-")]
    pub audit_log: AuditSink,

    /// Address of the operations listener: /healthz, /readyz and /metrics (Prometheus),
    /// without the Host check, for kubelet probes and scrapers. Off by default; never expose
    /// it to people (it tells how many sessions run).
    #[arg(long, env = "WEBSHELL_OPS_LISTEN")]
    pub ops_listen: Option<SocketAddr>,
    /// The diagnostic log's form on stderr: `pretty` for people, `json` for collectors.
    /// RUST_LOG filters it (default: info).
    #[arg(long, env = "WEBSHELL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
    /// On SIGTERM or Ctrl-C: how long running sessions get to close (each is told the
    /// server is shutting down, close code 1001) before the server exits. Keep it below the
    /// pod's terminationGracePeriodSeconds.
    #[arg(long, env = "WEBSHELL_SHUTDOWN_DRAIN", default_value = "20s", value_parser = humantime::parse_duration)]
    pub shutdown_drain: Duration,
}

/// The values of `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, with the span fields (session id, user, namespace, pod,
    /// container).
    Json,
}

/// The values of `--auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthKind {
    /// The server's own identity, behind a launch secret (loopback only).
    Local,
    /// Each person's own bearer token.
    Token,
    /// Sign-in at the cluster's OpenID Connect provider.
    Oidc,
    /// Named by an authenticating proxy; impersonated.
    Proxy,
}

impl Args {
    /// How to serve: TLS files and timeouts. The TLS files are loaded here, so a bad one is
    /// a start-up error, not a failed handshake later.
    pub async fn serve_options(&self) -> Result<ServeOptions, String> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                let files = TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                };
                load_tls(&files).await?;
                Some(files)
            }
            _ => None,
        };
        Ok(ServeOptions {
            tls,
            header_read_timeout: self.header_read_timeout,
            ..ServeOptions::default()
        })
    }

    /// Checks the flags and loads what they point at (files, kubeconfig, provider).
    pub async fn into_settings(self) -> Result<Settings, String> {
        let auth_kind = match self.auth {
            Some(kind) => kind,
            None if self.listen.ip().is_loopback() => AuthKind::Local,
            None => {
                return Err(format!(
                    "listening on {} needs --auth token, oidc or proxy (local is for loopback)",
                    self.listen
                ));
            }
        };
        self.refuse_flags_of_other_modes(auth_kind)?;
        if auth_kind == AuthKind::Local && !self.listen.ip().is_loopback() {
            return Err(format!(
                "--auth local serves the server's own Kubernetes identity and only listens on \
                 loopback, not {}; choose --auth token, oidc or proxy",
                self.listen
            ));
        }
        // Checked here too, so that this mistake is named before the kubeconfig is read.
        let tls = self.tls_cert.is_some();
        crate::site::Site::new(self.listen, tls, &self.public_urls, &self.allowed_origins)?;
        let auth = match auth_kind {
            AuthKind::Local => AuthSettings::Local {
                secret: secret(self.local_secret_file.as_deref(), "--local-secret-file")?,
            },
            AuthKind::Token => AuthSettings::Token,
            AuthKind::Oidc => AuthSettings::Oidc(OidcSettings {
                issuer: self
                    .oidc_issuer
                    .clone()
                    .ok_or("--auth oidc needs --oidc-issuer")?,
                client_id: self
                    .oidc_client_id
                    .clone()
                    .ok_or("--auth oidc needs --oidc-client-id")?,
                client_secret: match &self.oidc_client_secret_file {
                    Some(path) => Some(
                        std::fs::read_to_string(path)
                            .map_err(|e| {
                                format!("--oidc-client-secret-file {}: {e}", path.display())
                            })?
                            .trim()
                            .to_owned(),
                    ),
                    None => None,
                },
                ca_file: self.oidc_ca_file.clone(),
                scopes: self.oidc_scopes.clone(),
                refresh_before: self.oidc_refresh_before,
            }),
            AuthKind::Proxy => AuthSettings::Proxy(self.proxy_settings()?),
        };
        let session_key = secret(self.session_key_file.as_deref(), "--session-key-file")?;
        let choice = match (auth_kind, self.contexts.len()) {
            (AuthKind::Local, 0) => ContextChoice::All,
            (_, 0) => ContextChoice::Current,
            (AuthKind::Token, 2..) => {
                return Err(
                    "--auth token sends each person's token to the API server, so one \
                            cluster's token would reach the others: name one --context"
                        .into(),
                );
            }
            _ => ContextChoice::Named(self.contexts.clone()),
        };
        let kube = load_clusters(self.kubeconfig.as_deref(), &choice)
            .await
            .map_err(|e| e.to_string())?;
        let nonzero = |d: Duration| (!d.is_zero()).then_some(d);
        Ok(Settings {
            listen: self.listen,
            tls,
            public_urls: self.public_urls,
            allowed_origins: self.allowed_origins,
            frame_ancestors: self.frame_ancestors,
            kube,
            apiserver_timeout: self.apiserver_timeout,
            auth,
            session_key,
            session_ttl: self.session_ttl,
            limits: SessionLimits {
                total: self.max_sessions,
                per_user: self.max_sessions_per_user,
                new_per_minute: self.max_new_sessions_per_minute,
            },
            session: SessionConfig {
                idle_timeout: nonzero(self.idle_timeout),
                max_duration: nonzero(self.max_session_duration),
                stall_timeout: self.stall_timeout,
                ..SessionConfig::default()
            },
            audit: self.audit_log,
            launchers: None,
            debug_image: self.debug_image,
        })
    }

    fn proxy_settings(&self) -> Result<ProxySettings, String> {
        if self.proxy_trusted_sources.is_empty() {
            return Err(
                "--auth proxy needs --proxy-trusted-source with the proxy's address".into(),
            );
        }
        let trusted_sources = self
            .proxy_trusted_sources
            .iter()
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("--proxy-trusted-source {s:?} is not an address or CIDR"))
            })
            .collect::<Result<_, _>>()?;
        let header = |flag: &str, name: &str| {
            HeaderName::try_from(name).map_err(|_| format!("{flag} {name:?} is not a header name"))
        };
        Ok(ProxySettings {
            trusted_sources,
            user_header: header("--proxy-user-header", &self.proxy_user_header)?,
            groups_header: header("--proxy-groups-header", &self.proxy_groups_header)?,
            sign_in_url: Some(self.proxy_sign_in_url.clone()).filter(|u| !u.is_empty()),
            sign_out_url: Some(self.proxy_sign_out_url.clone()).filter(|u| !u.is_empty()),
        })
    }

    /// Flags that only mean something in another mode are a mistake worth stopping for.
    fn refuse_flags_of_other_modes(&self, kind: AuthKind) -> Result<(), String> {
        let oidc = self.oidc_issuer.is_some()
            || self.oidc_client_id.is_some()
            || self.oidc_client_secret_file.is_some()
            || self.oidc_ca_file.is_some();
        let checks = [
            (oidc, AuthKind::Oidc, "--oidc-*"),
            (
                !self.proxy_trusted_sources.is_empty(),
                AuthKind::Proxy,
                "--proxy-trusted-source",
            ),
            (
                self.local_secret_file.is_some(),
                AuthKind::Local,
                "--local-secret-file",
            ),
        ];
        for (given, wants, flag) in checks {
            if given && kind != wants {
                return Err(format!(
                    "{flag} only applies to --auth {}, but --auth is {}",
                    wants
                        .to_possible_value()
                        .map(|v| v.get_name().to_owned())
                        .unwrap_or_default(),
                    kind.to_possible_value()
                        .map(|v| v.get_name().to_owned())
                        .unwrap_or_default(),
                ));
            }
        }
        Ok(())
    }
}

fn secret(path: Option<&Path>, flag: &str) -> Result<Option<String>, String> {
    path.map(|p| read_secret_file(p).map_err(|e| format!("{flag}: {e}")))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-line refusal of a command line.
    async fn refusal(args: Args) -> String {
        match args.into_settings().await {
            Ok(_) => panic!("accepted"),
            Err(e) => e,
        }
    }

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec!["webshell"];
        argv.extend_from_slice(extra);
        Args::try_parse_from(argv).unwrap()
    }

    #[tokio::test]
    async fn beyond_loopback_a_mode_must_be_chosen() {
        let err = refusal(args(&["--listen", "0.0.0.0:8080"])).await;
        assert!(err.contains("needs --auth"), "{err}");
    }

    #[tokio::test]
    async fn flags_of_another_mode_are_refused() {
        let err = refusal(args(&["--auth", "token", "--oidc-issuer", "https://idp"])).await;
        assert!(err.contains("only applies to --auth oidc"), "{err}");
    }

    #[tokio::test]
    async fn each_mode_names_what_it_is_missing() {
        let err = refusal(args(&["--auth", "oidc"])).await;
        assert!(err.contains("--oidc-issuer"), "{err}");
        let err = refusal(args(&["--auth", "proxy"])).await;
        assert!(err.contains("--proxy-trusted-source"), "{err}");
        let err = refusal(args(&["--auth", "proxy", "--proxy-trusted-source", "nope"])).await;
        assert!(err.contains("not an address"), "{err}");
    }
}
