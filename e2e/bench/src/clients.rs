//! The ways to run a command in a pod that the suite compares:
//! (a) webshell, through its socket, with a client that speaks the product protocol and
//!     acknowledges output like the browser;
//! (b) a direct kube-rs exec against the API server (the same buffer sizes webshell uses);
//! (c) `kubectl exec`, under a pseudo-terminal (`script`) when a TTY is wanted;
//! (d) for throughput, (b) through a TCP relay ([`crate::relay`]): the floor for any hop.

use std::process::Stdio;
use std::time::Instant;

use anyhow::{Context, bail};
use futures::{FutureExt, SinkExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::AttachParams;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use webshell_protocol::{
    ACK_EVERY, ClientFrame, Frame, INPUT_WINDOW, MAX_STDIN_CHUNK, SUBPROTOCOL, ServerFrame,
    TermSize,
};

/// Which client.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
pub enum Via {
    /// (a) webshell.
    Webshell,
    /// (b) a direct kube-rs exec.
    Direct,
    /// (c) kubectl exec.
    Kubectl,
    /// (d) a direct kube-rs exec through a TCP relay ([`crate::relay`]): the floor for any hop.
    Relayed,
}

impl Via {
    /// The report's name for it.
    pub fn label(self) -> &'static str {
        match self {
            Via::Webshell => "webshell",
            Via::Direct => "direct kube-rs",
            Via::Kubectl => "kubectl",
            Via::Relayed => "direct kube-rs through a TCP relay",
        }
    }
}

/// Where the clients go.
#[derive(Clone)]
pub struct Target {
    /// webshell's address (`127.0.0.1:port`).
    pub webshell: String,
    /// The webshell session cookie (`name=value`).
    pub cookie: String,
    /// A kube-rs client as admin.
    pub pods: Api<Pod>,
    /// The same, through a TCP relay to the API server.
    pub relayed: Api<Pod>,
    /// The kubectl binary.
    pub kubectl: String,
    /// The test kubeconfig.
    pub kubeconfig: String,
    /// The pod.
    pub pod: String,
}

/// One command run to its end: output, and how long it took.
pub struct Ran {
    /// Everything it printed (stdout, or all output with a TTY).
    pub output: Vec<u8>,
    /// From starting the exec to its end.
    pub seconds: f64,
}

impl Target {
    /// Runs `script` (an `sh -c` script) through `via`, collecting output (up to `keep` bytes
    /// kept; all of it is hashed into `digest`). With `input`, the script must print one byte
    /// when it is ready to read (so a TTY is already raw on both ends), and `input` is sent
    /// after that first output byte.
    pub async fn run(
        &self,
        via: Via,
        script: &str,
        tty: bool,
        input: &[u8],
        digest: &mut (dyn FnMut(&[u8]) + Send),
        keep: usize,
    ) -> anyhow::Result<Ran> {
        let started = Instant::now();
        let mut output = Vec::new();
        let mut sink = |bytes: &[u8]| {
            digest(bytes);
            let room = keep.saturating_sub(output.len());
            output.extend_from_slice(&bytes[..bytes.len().min(room)]);
        };
        match via {
            Via::Webshell => self.webshell(script, tty, input, &mut sink).await?,
            Via::Direct => {
                self.direct(&self.pods, script, tty, input, &mut sink)
                    .await?
            }
            Via::Relayed => {
                self.direct(&self.relayed, script, tty, input, &mut sink)
                    .await?
            }
            Via::Kubectl => self.kubectl(script, tty, input, &mut sink).await?,
        }
        Ok(Ran {
            output,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    async fn webshell(
        &self,
        script: &str,
        tty: bool,
        input: &[u8],
        sink: &mut (dyn FnMut(&[u8]) + Send),
    ) -> anyhow::Result<()> {
        let mut socket = self.open_webshell(script, tty).await?;
        let (mut sent, mut in_flight, mut ready) = (0usize, 0u32, false);
        let mut acks = Acks::default();
        let mut closed = input.is_empty();
        loop {
            while ready && sent < input.len() && in_flight < INPUT_WINDOW {
                let end = (sent + MAX_STDIN_CHUNK).min(input.len());
                let frame = ClientFrame::Stdin(input[sent..end].to_vec()).to_bytes();
                socket.send(Message::Binary(frame.into())).await?;
                in_flight += (end - sent) as u32;
                sent = end;
            }
            // Without a TTY, the end of input is EOF (a TTY session's input stays open).
            if !closed && !tty && sent == input.len() {
                closed = true;
                let eof = ClientFrame::StdinClose.to_bytes();
                socket.send(Message::Binary(eof.into())).await?;
            }
            let Some(message) = socket.next().await else {
                bail!("webshell closed the socket before the exit status");
            };
            let Message::Binary(bytes) = message? else {
                continue;
            };
            match ServerFrame::from_bytes(&bytes)? {
                ServerFrame::Stdout(b) | ServerFrame::Stderr(b) => {
                    ready = true;
                    sink(&b);
                    acks.processed(&mut socket, b.len()).await?;
                }
                ServerFrame::StdinAck(n) => in_flight -= n,
                ServerFrame::Exit { code: 0, .. } => return Ok(()),
                ServerFrame::Exit { code, .. } => bail!("exit code {code}"),
                ServerFrame::Error { message, .. } => bail!("webshell: {message}"),
                _ => {}
            }
        }
    }

    /// A webshell socket with the first size sent.
    pub async fn open_webshell(&self, script: &str, tty: bool) -> anyhow::Result<WsClient> {
        let query = ["sh", "-c", script]
            .iter()
            .map(|a| format!("command={}", encode(a)))
            .collect::<Vec<_>>()
            .join("&");
        let path = webshell_protocol::rest::exec_path("demo", &self.pod, "main");
        let url = format!("ws://{}{path}?{query}&tty={tty}", self.webshell);
        let mut request = url.into_client_request()?;
        request
            .headers_mut()
            .insert("sec-websocket-protocol", SUBPROTOCOL.parse()?);
        request.headers_mut().insert("cookie", self.cookie.parse()?);
        // As browsers do: TCP_NODELAY, or Nagle adds delayed-ACK waits to every keystroke.
        let (mut socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
            .await
            .context("connecting to webshell")?;
        let size = ClientFrame::Resize(TermSize {
            cols: 200,
            rows: 50,
        })
        .to_bytes();
        socket.send(Message::Binary(size.into())).await?;
        Ok(socket.peekable())
    }

    /// A direct kube-rs exec of `script` on the pod; with a TTY, sized 200x50 first, as a
    /// terminal client (and webshell) does.
    pub async fn exec_direct(
        &self,
        script: &str,
        params: &AttachParams,
    ) -> anyhow::Result<kube::api::AttachedProcess> {
        exec_sized(&self.pods, &self.pod, script, params).await
    }

    async fn direct(
        &self,
        pods: &Api<Pod>,
        script: &str,
        tty: bool,
        input: &[u8],
        sink: &mut (dyn FnMut(&[u8]) + Send),
    ) -> anyhow::Result<()> {
        let params = AttachParams::default()
            .container("main")
            .stdin(true)
            .stdout(true)
            .stderr(!tty)
            .tty(tty)
            .max_stdin_buf_size(64 * 1024)
            .max_stdout_buf_size(64 * 1024)
            .max_stderr_buf_size(64 * 1024);
        let mut process = exec_sized(pods, &self.pod, script, &params).await?;
        let stdin = process.stdin().context("stdin")?;
        let mut stdout = process.stdout().context("stdout")?;
        let status = process.take_status().context("status")?;
        let _stdin = feed_and_read(stdin, &mut stdout, input, tty, sink).await?;
        let status = status.await;
        match status.and_then(|s| s.status) {
            Some(s) if s == "Success" => Ok(()),
            other => bail!("direct exec ended with {other:?}"),
        }
    }

    async fn kubectl(
        &self,
        script: &str,
        tty: bool,
        input: &[u8],
        sink: &mut (dyn FnMut(&[u8]) + Send),
    ) -> anyhow::Result<()> {
        let args = [
            "--kubeconfig",
            &self.kubeconfig,
            "--context",
            "admin",
            "exec",
            if tty { "-it" } else { "-i" },
            "-n",
            "demo",
            &self.pod,
            "-c",
            "main",
            "--",
            "sh",
            "-c",
            script,
        ];
        let mut command = if tty {
            // kubectl wants a terminal for -t; `script` gives it one (a pipe in, a pipe out).
            let mut line = vec![self.kubectl.clone()];
            line.extend(args.iter().map(|a| shell_quote(a)));
            let mut c = tokio::process::Command::new("script");
            c.args(["-qefc", &line.join(" "), "/dev/null"]);
            c
        } else {
            let mut c = tokio::process::Command::new(&self.kubectl);
            c.args(args);
            c
        };
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting kubectl")?;
        let stdin = child.stdin.take().context("stdin")?;
        let mut stdout = child.stdout.take().context("stdout")?;
        let stdin = feed_and_read(stdin, &mut stdout, input, tty, sink).await?;
        let status = child.wait().await?;
        drop(stdin);
        if !status.success() {
            bail!("kubectl exited with {status}");
        }
        Ok(())
    }
}

/// Reads everything into `sink` while a task writes `input` once the first byte arrived (then
/// EOF without a TTY; a TTY session's stdin stays open until the command is done, as EOF
/// would end it). Returns stdin, to be dropped once the command ended.
async fn feed_and_read<W>(
    mut stdin: W,
    stdout: &mut (impl tokio::io::AsyncRead + Unpin),
    input: &[u8],
    tty: bool,
    sink: &mut (dyn FnMut(&[u8]) + Send),
) -> anyhow::Result<W>
where
    W: tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (go, ready) = tokio::sync::oneshot::channel::<()>();
    let input = input.to_vec();
    let writer = tokio::spawn(async move {
        if !input.is_empty() && ready.await.is_ok() {
            stdin.write_all(&input).await?;
            if !tty {
                stdin.shutdown().await?;
            }
        }
        anyhow::Ok(stdin)
    });
    read_to_end(stdout, sink, go).await?;
    writer.await?
}

/// Reads everything into `sink`, firing `go` at the first byte.
async fn read_to_end(
    reader: &mut (impl tokio::io::AsyncRead + Unpin),
    sink: &mut (dyn FnMut(&[u8]) + Send),
    go: tokio::sync::oneshot::Sender<()>,
) -> anyhow::Result<()> {
    let mut go = Some(go);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        if let Some(go) = go.take() {
            let _ = go.send(());
        }
        sink(&buf[..n]);
    }
}

/// A protocol client's socket; peekable, to see whether more output has already arrived.
pub type WsClient = futures::stream::Peekable<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
>;

/// Acknowledges output as the browser does ([`ACK_EVERY`]): every 64 KiB processed, and as
/// soon as nothing that has arrived is left to process. This client processes output the
/// moment it arrives, the browser's best case; during a flood it batches its acks as a
/// browser does, rather than costing the server one `Ack` per frame.
#[derive(Default)]
pub struct Acks {
    processed: u32,
}

impl Acks {
    /// `n` bytes of output were processed.
    pub async fn processed(&mut self, socket: &mut WsClient, n: usize) -> anyhow::Result<()> {
        self.processed = self.processed.saturating_add(n as u32);
        let more_arrived = std::pin::Pin::new(&mut *socket)
            .peek()
            .now_or_never()
            .flatten()
            .is_some();
        if self.processed >= ACK_EVERY || !more_arrived {
            let ack = ClientFrame::Ack(std::mem::take(&mut self.processed)).to_bytes();
            socket.send(Message::Binary(ack.into())).await?;
        }
        Ok(())
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A kube-rs exec of `script` on `pod`; with a TTY, sized 200x50 first, as a terminal client
/// (and webshell) does.
async fn exec_sized(
    pods: &Api<Pod>,
    pod: &str,
    script: &str,
    params: &AttachParams,
) -> anyhow::Result<kube::api::AttachedProcess> {
    let mut process = pods.exec(pod, ["sh", "-c", script], params).await?;
    if params.tty {
        let mut size = process.terminal_size().context("terminal size")?;
        size.send(kube::api::TerminalSize {
            width: 200,
            height: 50,
        })
        .await?;
    }
    Ok(process)
}
