//! The measurements. Each metric returns raw figures and the checks against its goal.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use webshell_protocol::{ClientFrame, Frame, ServerFrame};

use crate::clients::{Acks, Target, Via, WsClient};
use crate::profile::{self, CpuClock};
use crate::relay::Relay;
use crate::stats::Summary;

/// Everything `run` measured.
#[derive(Debug, Serialize, Deserialize)]
pub struct Results {
    /// Tiny sizes (CI): figures mean nothing.
    pub smoke: bool,
    /// Where it ran.
    pub machine: BTreeMap<String, String>,
    /// What ran.
    pub versions: BTreeMap<String, String>,
    /// The metrics, in order.
    pub metrics: Vec<Metric>,
}

/// The order `run_all` measures in, which the report keeps.
const RUN_ORDER: [&str; 7] = ["3", "1", "2", "2b", "4", "5b", "5"];

impl Results {
    /// These results with `later`'s metrics in place of the ones of the same id. The machine
    /// and versions are the later run's: a report merges runs of one build on one machine.
    pub fn updated_by(mut self, later: Results) -> Results {
        self.metrics
            .retain(|m| later.metrics.iter().all(|l| l.id != m.id));
        self.metrics.extend(later.metrics);
        let rank = |id: &str| RUN_ORDER.iter().position(|o| *o == id);
        self.metrics.sort_by_key(|m| rank(&m.id));
        Results {
            smoke: self.smoke || later.smoke,
            machine: later.machine,
            versions: later.versions,
            metrics: self.metrics,
        }
    }
}

/// One metric.
#[derive(Debug, Serialize, Deserialize)]
pub struct Metric {
    /// Its number in the issue's table (`1`, `2b`, …).
    pub id: String,
    /// What it measures.
    pub title: String,
    /// How.
    pub method: String,
    /// Raw figures.
    pub rows: Vec<Row>,
    /// Goals.
    pub checks: Vec<Check>,
}

/// One line of figures.
#[derive(Debug, Serialize, Deserialize)]
pub struct Row {
    /// What.
    pub label: String,
    /// Unit.
    pub unit: String,
    /// The samples' summary.
    pub summary: Summary,
}

/// A goal and whether it was met.
#[derive(Debug, Serialize, Deserialize)]
pub struct Check {
    /// What is compared.
    pub what: String,
    /// The measured value.
    pub value: String,
    /// The goal.
    pub goal: String,
    /// Met.
    pub pass: bool,
}

/// The server under test, a child process.
pub(crate) struct ServerProc {
    child: tokio::process::Child,
    pid: u32,
    addr: String,
}

impl ServerProc {
    async fn start(
        bin: &Path,
        kubeconfig: &Path,
        dir: &Path,
    ) -> anyhow::Result<(ServerProc, String)> {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        };
        let secret: String = (0..64)
            .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
            .collect();
        let secret_file = dir.join("bench-secret");
        std::fs::write(&secret_file, &secret)?;
        let log = std::fs::File::create(dir.join("bench-server.log"))?;
        let command_line = format!(
            "ulimit -n 65536 2>/dev/null; exec '{}' --listen 127.0.0.1:{port} --kubeconfig '{}' \
             --context admin --local-secret-file '{}' --audit-log off --max-sessions 10000 \
             --max-sessions-per-user 10000 --max-new-sessions-per-minute 1000000 \
             --idle-timeout 0 --stall-timeout 300s --apiserver-timeout 120s",
            bin.display(),
            kubeconfig.display(),
            secret_file.display()
        );
        let mut command = tokio::process::Command::new("sh");
        command.args(["-c", &command_line]);
        // The flags above are the whole configuration: settings the caller's environment
        // carries for other runs (the test cluster's OIDC settings, say) stay out.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("WEBSHELL_") {
                command.env_remove(name);
            }
        }
        let child = command
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("starting the server")?;
        let pid = child.id().context("server pid")?;
        let addr = format!("127.0.0.1:{port}");
        let server = ServerProc { child, pid, addr };
        let cookie = server.sign_in(&secret).await?;
        Ok((server, cookie))
    }

    /// Waits for the server, then visits the launch URL and returns the session cookie.
    async fn sign_in(&self, secret: &str) -> anyhow::Result<String> {
        for _ in 0..100 {
            if let Ok(mut s) = tokio::net::TcpStream::connect(&self.addr).await {
                let request = format!(
                    "GET /?secret={secret} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                    self.addr
                );
                s.write_all(request.as_bytes()).await?;
                let mut answer = String::new();
                s.read_to_string(&mut answer).await?;
                let cookie = answer
                    .lines()
                    .find_map(|l| l.strip_prefix("set-cookie: "))
                    .and_then(|c| c.split(';').next())
                    .context("no session cookie from the launch URL")?;
                return Ok(cookie.to_owned());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the server did not start; see bench-server.log")
    }

    /// Stops the server the way an orchestrator does: SIGTERM, then a bounded wait.
    pub(crate) async fn stop(mut self) {
        let _ = tokio::process::Command::new("kill")
            .arg(self.pid.to_string())
            .status()
            .await;
        let _ = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
    }

    fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// User + system CPU time, in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        let after = stat.rsplit(')').next().unwrap_or_default();
        let fields: Vec<&str> = after.split_whitespace().collect();
        // utime and stime are fields 14 and 15; after the ")" they are 12 and 13 (0-based 11, 12).
        let ticks: f64 = [11, 12]
            .iter()
            .filter_map(|i| fields.get(*i)?.parse::<f64>().ok())
            .sum();
        ticks / 100.0
    }
}

/// Sizes of a full run and of a smoke run.
struct Sizes {
    throughput: usize,
    keystrokes: usize,
    floods: usize,
    isolation_keystrokes: usize,
    idle_sessions: usize,
    echo_sessions: usize,
    echo_bytes: usize,
    stall: Duration,
}

impl Sizes {
    fn new(smoke: bool) -> Sizes {
        if smoke {
            Sizes {
                throughput: 2 << 20,
                keystrokes: 200,
                floods: 5,
                isolation_keystrokes: 100,
                idle_sessions: 20,
                echo_sessions: 20,
                echo_bytes: 256 << 10,
                stall: Duration::from_secs(2),
            }
        } else {
            Sizes {
                throughput: 256 << 20,
                keystrokes: 10_000,
                floods: 100,
                isolation_keystrokes: 40,
                idle_sessions: 1_000,
                echo_sessions: 1_000,
                echo_bytes: 1 << 20,
                stall: Duration::from_secs(10),
            }
        }
    }
}

/// The admin's pods in the demo namespace, reached through a [`Relay`] to the API server.
async fn relayed_pods() -> anyhow::Result<(Relay, kube::Api<k8s_openapi::api::core::v1::Pod>)> {
    let (mut config, _) = testcluster::kube_config("admin").await?;
    let upstream = config
        .cluster_url
        .authority()
        .context("the API server's address")?
        .as_str()
        .parse()
        .context("the API server's address (an IP and a port)")?;
    let relay = Relay::start(upstream).await?;
    // Same IP, so the API server's certificate still matches; only the port is the relay's.
    config.cluster_url = format!("https://{}", relay.addr).parse()?;
    let pods = kube::Api::namespaced(kube::Client::try_from(config)?, testcluster::DEMO);
    Ok((relay, pods))
}

/// Starts the server (its log in `dir`) and the relay, and aims every client at bash-pod.
pub(crate) async fn bench_target(
    server_bin: &Path,
    kubectl: &Path,
    dir: &Path,
) -> anyhow::Result<(ServerProc, Target, Relay)> {
    let kubeconfig = testcluster::kubeconfig_path();
    let (server, cookie) = ServerProc::start(server_bin, &kubeconfig, dir).await?;
    let (relay, relayed) = relayed_pods().await?;
    let target = Target {
        webshell: server.addr.clone(),
        cookie,
        pods: testcluster::demo_pods("admin").await?,
        relayed,
        kubectl: kubectl.display().to_string(),
        kubeconfig: kubeconfig.display().to_string(),
        pod: "bash-pod".into(),
    };
    Ok((server, target, relay))
}

/// Runs every metric that needs no browser.
pub async fn run_all(
    server_bin: &Path,
    kubectl: &Path,
    smoke: bool,
    reps: usize,
    only: &[String],
) -> anyhow::Result<Results> {
    let wanted = |id: &str| only.is_empty() || only.iter().any(|o| o == id);
    let _ = rlimit::increase_nofile_limit(65_536);
    let sizes = Sizes::new(smoke);
    let dir = std::env::temp_dir().join(format!("webshell-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (server, target, relay) = bench_target(server_bin, kubectl, &dir).await?;
    let mut metrics = Vec::new();
    if wanted("3") {
        eprintln!("bench: 3 memory per idle session");
        metrics.push(memory(&server, &target, &sizes).await?);
    }
    if wanted("1") {
        eprintln!("bench: 1 throughput");
        metrics.push(throughput(&server, &target, &sizes, reps).await?);
    }
    if wanted("2") {
        eprintln!("bench: 2 keystroke echo");
        metrics.push(keystrokes(&target, &sizes).await?);
    }
    if wanted("2b") {
        eprintln!("bench: 2b isolation");
        metrics.push(isolation(&server, &target, &sizes).await?);
    }
    if wanted("4") {
        eprintln!("bench: 4 concurrent echo");
        metrics.push(concurrent_echo(&server, &target, &sizes).await?);
    }
    if wanted("5b") {
        eprintln!("bench: 5b Ctrl-C at a browser's pace");
        metrics.push(ctrl_c_floor(&target, smoke).await?);
    }
    if wanted("5") {
        eprintln!("bench: 5 flood to a stalled client");
        metrics.push(flood(&server, &target, &sizes).await?);
    }
    server.stop().await;
    drop(relay);
    Ok(Results {
        smoke,
        machine: machine(),
        versions: versions(kubectl).await,
        metrics,
    })
}

fn machine() -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    m.insert("cpu".into(), model);
    m.insert(
        "cores".into(),
        std::thread::available_parallelism()
            .map(|n| n.to_string())
            .unwrap_or_default(),
    );
    let mem = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let total = mem
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .map(|v| v.trim().to_owned())
        .unwrap_or_default();
    m.insert("memory".into(), total);
    m.insert("os".into(), std::env::consts::OS.into());
    m
}

async fn versions(kubectl: &Path) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    let run = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    v.insert(
        "webshell".into(),
        run("git", &["rev-parse", "--short", "HEAD"]),
    );
    v.insert(
        "kubectl".into(),
        run(
            &kubectl.display().to_string(),
            &["version", "--client", "-o", "yaml"],
        )
        .lines()
        .find_map(|l| l.trim().strip_prefix("gitVersion: "))
        .unwrap_or_default()
        .to_owned(),
    );
    v.insert("kube-rs".into(), "5.0".into());
    v.insert("rustc".into(), run("rustc", &["--version"]));
    v
}

fn sha(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Deterministic incompressible bytes.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

const CLIENTS: [Via; 4] = [Via::Webshell, Via::Direct, Via::Kubectl, Via::Relayed];

/// 1: throughput both ways, TTY and not, through each client.
async fn throughput(
    server: &ServerProc,
    target: &Target,
    sizes: &Sizes,
    reps: usize,
) -> anyhow::Result<Metric> {
    let size = sizes.throughput;
    // The file to download, prepared on the pod; its sha256 as the pod computes it.
    let prepare =
        format!("head -c {size} /dev/urandom > $HOME/bench.bin && sha256sum $HOME/bench.bin");
    let ran = target
        .run(Via::Direct, &prepare, false, &[], &mut |_| {}, 1024)
        .await?;
    let file_sha: String = String::from_utf8_lossy(&ran.output)
        .chars()
        .take(64)
        .collect();
    let upload = noise(size, 7);
    let upload_sha = sha(&upload);
    let cases = [
        ("download", false, "cat $HOME/bench.bin".to_owned()),
        (
            "download",
            true,
            "stty raw -echo && cat $HOME/bench.bin".to_owned(),
        ),
        (
            "upload",
            false,
            format!("printf R && head -c {size} | sha256sum"),
        ),
        (
            "upload",
            true,
            format!("stty raw -echo && printf R && head -c {size} | sha256sum"),
        ),
    ];
    let mut samples: BTreeMap<(usize, Via), Vec<f64>> = BTreeMap::new();
    // Where the CPU goes during downloads through webshell and directly: the profile of the
    // download ratios on a machine whose two cores the whole path shares.
    let mut cpu: BTreeMap<(usize, Via, String), Vec<f64>> = BTreeMap::new();
    for rep in 0..reps {
        for (case, (direction, tty, script)) in cases.iter().enumerate() {
            for i in 0..CLIENTS.len() {
                // Interleaved: the order of the clients rotates every repetition.
                let via = CLIENTS[(i + rep + case) % CLIENTS.len()];
                let mut hasher = Sha256::new();
                let mut got = 0usize;
                let input: &[u8] = if *direction == "upload" { &upload } else { &[] };
                let clock = CpuClock::start(cluster_processes(server));
                let ran = target
                    .run(
                        via,
                        script,
                        *tty,
                        input,
                        &mut |b| {
                            got += b.len();
                            hasher.update(b);
                        },
                        256,
                    )
                    .await
                    .with_context(|| format!("{direction} tty={tty} via {}", via.label()))?;
                if *direction == "download" {
                    let got_sha = hex(&hasher.finalize());
                    if got != size || got_sha != file_sha {
                        bail!(
                            "download via {} tty={tty}: {got} bytes, sha {got_sha} != {file_sha}",
                            via.label()
                        );
                    }
                } else {
                    let text = String::from_utf8_lossy(&ran.output);
                    if !text.contains(&upload_sha) {
                        bail!(
                            "upload via {} tty={tty}: the pod computed {text:?}, not {upload_sha}",
                            via.label()
                        );
                    }
                }
                let mbps = size as f64 / ran.seconds / 1e6;
                samples.entry((case, via)).or_default().push(mbps);
                if *direction == "download" && matches!(via, Via::Webshell | Via::Direct) {
                    for (process, percent) in clock.shares() {
                        // Percent of a core at `mbps` MB/s is percent × 10 ms per MB.
                        let value = if process.ends_with("idle") {
                            percent
                        } else {
                            percent * 10.0 / mbps
                        };
                        cpu.entry((case, via, process)).or_default().push(value);
                    }
                }
            }
        }
    }
    let mut rows = Vec::new();
    let mut checks = Vec::new();
    for (case, (direction, tty, _)) in cases.iter().enumerate() {
        let tty = if *tty { "TTY" } else { "no TTY" };
        let median = |via| Summary::of(&samples[&(case, via)]).median;
        for via in CLIENTS {
            rows.push(Row {
                label: format!("{direction}, {tty}, {}", via.label()),
                unit: "MB/s".into(),
                summary: Summary::of(&samples[&(case, via)]),
            });
        }
        let (a, b, c, d) = (
            median(Via::Webshell),
            median(Via::Direct),
            median(Via::Kubectl),
            median(Via::Relayed),
        );
        checks.push(Check {
            what: format!("{direction}, {tty}: webshell / direct"),
            value: format!("{:.2} (through a TCP relay: {:.2})", a / b, d / b),
            goal: "≥ 0.95".into(),
            pass: a / b >= 0.95,
        });
        for ((_, via, process), values) in cpu.iter().filter(|((c, _, _), _)| *c == case) {
            let idle = process.ends_with("idle");
            rows.push(Row {
                label: format!("CPU, {direction}, {tty}, {}: {process}", via.label()),
                unit: if idle { "% of a core" } else { "ms per MB" }.into(),
                summary: Summary::of(values),
            });
        }
        checks.push(Check {
            what: format!("{direction}, {tty}: webshell / kubectl"),
            value: format!("{:.2}", a / c),
            goal: "≥ 1.00".into(),
            pass: a / c >= 1.0,
        });
    }
    Ok(Metric {
        id: "1".into(),
        title: "Throughput".into(),
        method: format!(
            "{} MiB of incompressible bytes per run, {reps} repetitions of every case, the four \
             clients interleaved on the same pod. The fourth is the direct client through a TCP \
             relay in front of the API server (e2e/bench/src/relay.rs), the cheapest hop there \
             is: its ratio to the direct exec, shown beside webshell's, is the floor for any \
             server between a client and the API server on this machine, whose cores the whole \
             path shares. Download: `cat` of a file of /dev/urandom \
             bytes prepared on the pod. Upload: into `head -c N | sha256sum`. With a TTY both \
             ends are raw (`stty raw -echo`; kubectl runs under `script`). Every run's bytes \
             are checked with sha256. The webshell client processes output at once, like a \
             browser that renders instantly, and acknowledges it as the browser does: every \
             64 KiB, and whenever nothing more has arrived. MB/s = 10^6 bytes per second. For \
             the downloads through webshell and directly, where the CPU went during each run: \
             each process's user + system time per MB moved, and the machine's idle time (of \
             {} cores: {}%).",
            size >> 20,
            cores(),
            cores() * 100,
        ),
        rows,
        checks,
    })
}

/// A webshell session running `script`, waiting until it printed its first byte.
async fn ready_socket(target: &Target, script: &str, tty: bool) -> anyhow::Result<WsClient> {
    let mut socket = target.open_webshell(script, tty).await?;
    loop {
        let message = socket.next().await.context("closed before ready")??;
        if let Message::Binary(b) = message
            && let ServerFrame::Stdout(out) = ServerFrame::from_bytes(&b)?
        {
            ack(&mut socket, out.len()).await?;
            return Ok(socket);
        }
    }
}

async fn ack(socket: &mut WsClient, n: usize) -> anyhow::Result<()> {
    let frame = ClientFrame::Ack(n as u32).to_bytes();
    socket.send(Message::Binary(frame.into())).await?;
    Ok(())
}

/// Echo latencies of `n` single bytes through a webshell session of a raw `cat`.
async fn echo_webshell(socket: &mut WsClient, n: usize) -> anyhow::Result<Vec<f64>> {
    let mut latencies = Vec::with_capacity(n);
    for i in 0..n {
        let byte = b'a' + (i % 26) as u8;
        let sent = Instant::now();
        socket
            .send(Message::Binary(
                ClientFrame::Stdin(vec![byte]).to_bytes().into(),
            ))
            .await?;
        loop {
            let message = socket.next().await.context("closed")??;
            let Message::Binary(b) = message else {
                continue;
            };
            if let ServerFrame::Stdout(out) = ServerFrame::from_bytes(&b)? {
                ack(socket, out.len()).await?;
                if out.contains(&byte) {
                    break;
                }
            }
        }
        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(latencies)
}

/// The same through a direct kube-rs exec.
async fn echo_direct(
    stdin: &mut (impl tokio::io::AsyncWrite + Unpin),
    stdout: &mut (impl tokio::io::AsyncRead + Unpin),
    n: usize,
) -> anyhow::Result<Vec<f64>> {
    let mut latencies = Vec::with_capacity(n);
    let mut buf = [0u8; 256];
    for i in 0..n {
        let byte = b'a' + (i % 26) as u8;
        let sent = Instant::now();
        stdin.write_all(&[byte]).await?;
        loop {
            let got = stdout.read(&mut buf).await?;
            if got == 0 {
                bail!("direct exec ended");
            }
            if buf[..got].contains(&byte) {
                break;
            }
        }
        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(latencies)
}

type DirectTty = (
    kube::api::AttachedProcess,
    Box<dyn tokio::io::AsyncWrite + Send + Unpin>,
    Box<dyn tokio::io::AsyncRead + Send + Unpin>,
);

/// A direct kube-rs exec of `script` with a 200x50 TTY: the process (keep it: dropping it ends
/// the exec), its stdin and its stdout.
async fn direct_tty(target: &Target, script: &str) -> anyhow::Result<DirectTty> {
    let params = kube::api::AttachParams::default()
        .container("main")
        .stdin(true)
        .stdout(true)
        .stderr(false)
        .tty(true);
    let mut process = target.exec_direct(script, &params).await?;
    let stdin = process.stdin().context("stdin")?;
    let stdout = process.stdout().context("stdout")?;
    Ok((process, Box::new(stdin), Box::new(stdout)))
}

/// Runs `work` while reading the webshell socket, so that its pings are answered: the server
/// ends a session whose client stays silent for two ping intervals (40 s), and the direct
/// half of a comparison can take that long on a saturated machine.
async fn answering_pings<T>(
    socket: &mut WsClient,
    work: impl std::future::Future<Output = T>,
) -> anyhow::Result<T> {
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return Ok(done),
            message = socket.next() => {
                // tungstenite queues the pong as it reads the ping and sends it with the
                // next write or flush.
                if let Message::Ping(_) = message.context("closed")?? {
                    socket.flush().await?;
                }
            }
        }
    }
}

const RAW_CAT: &str = "stty raw -echo && printf R && cat";

/// Keystroke echo through webshell (a) and a direct exec (b), `n` of each, alternating in
/// blocks of a tenth.
async fn echo_both(target: &Target, n: usize) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let mut socket = ready_socket(target, RAW_CAT, true).await?;
    let (_direct, mut d_in, mut d_out) =
        answering_pings(&mut socket, direct_tty(target, RAW_CAT)).await??;
    let mut ready = [0u8; 1];
    answering_pings(&mut socket, d_out.read_exact(&mut ready)).await??;
    let blocks = 10;
    let per_block = (n / blocks).max(1);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for block in 0..blocks {
        // Interleaved in blocks, the order alternating.
        let direct = echo_direct(&mut d_in, &mut d_out, per_block);
        if block % 2 == 0 {
            a.extend(echo_webshell(&mut socket, per_block).await?);
            b.extend(answering_pings(&mut socket, direct).await??);
        } else {
            b.extend(answering_pings(&mut socket, direct).await??);
            a.extend(echo_webshell(&mut socket, per_block).await?);
        }
    }
    Ok((a, b))
}

/// 2: keystroke echo, webshell against direct.
async fn keystrokes(target: &Target, sizes: &Sizes) -> anyhow::Result<Metric> {
    let (a, b) = echo_both(target, sizes.keystrokes).await?;
    let per_block = sizes.keystrokes / 10;
    let (sa, sb) = (Summary::of(&a), Summary::of(&b));
    let (added_p50, added_p99) = (sa.median - sb.median, sa.p99 - sb.p99);
    Ok(Metric {
        id: "2".into(),
        title: "Keystroke echo".into(),
        method: format!(
            "{} single bytes through a raw `cat` in a TTY, each sent after the previous one's \
             echo came back; webshell and a direct kube-rs exec alternate in blocks of {per_block}.",
            a.len()
        ),
        rows: vec![
            Row {
                label: "webshell".into(),
                unit: "ms".into(),
                summary: sa,
            },
            Row {
                label: "direct kube-rs".into(),
                unit: "ms".into(),
                summary: sb,
            },
        ],
        checks: vec![
            Check {
                what: "p50 added by webshell".into(),
                value: format!("{added_p50:+.3} ms"),
                goal: "≤ 0.1 ms".into(),
                pass: added_p50 <= 0.1,
            },
            Check {
                what: "p99 added by webshell".into(),
                value: format!("{added_p99:+.3} ms"),
                goal: "≤ 0.3 ms".into(),
                pass: added_p99 <= 0.3,
            },
        ],
    })
}

/// A session that reads and acknowledges a `yes` flood as fast as it can, until `stop`.
async fn flood_reader(
    target: Target,
    stop: Arc<AtomicBool>,
    moved: Arc<AtomicU64>,
) -> anyhow::Result<()> {
    let mut socket = target.open_webshell("yes", true).await?;
    let mut acks = Acks::default();
    while !stop.load(Ordering::Relaxed) {
        let Some(message) = socket.next().await else {
            break;
        };
        if let Message::Binary(b) = message?
            && let ServerFrame::Stdout(out) = ServerFrame::from_bytes(&b)?
        {
            moved.fetch_add(out.len() as u64, Ordering::Relaxed);
            acks.processed(&mut socket, out.len()).await?;
        }
    }
    let _ = socket.get_mut().close(None).await;
    Ok(())
}

/// 2b: echo in one session while others flood, through webshell and, as the floor, directly.
async fn isolation(server: &ServerProc, target: &Target, sizes: &Sizes) -> anyhow::Result<Metric> {
    let stop = Arc::new(AtomicBool::new(false));
    let moved = Arc::new(AtomicU64::new(0));
    let floods: Vec<_> = (0..sizes.floods)
        .map(|_| tokio::spawn(flood_reader(target.clone(), stop.clone(), moved.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = moved.load(Ordering::Relaxed);
    let started = Instant::now();
    let cpu = CpuClock::start(cluster_processes(server));
    // The echo client runs on a thread and runtime of its own, so that its latencies are not
    // the wait behind the flood clients' tasks in this process.
    let n = sizes.isolation_keystrokes;
    let echo_target = target.clone();
    let echo = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let mut t = echo_target;
            t.pods = testcluster::demo_pods("admin").await?;
            echo_both(&t, n).await
        })
    });
    let (a, b) = tokio::task::spawn_blocking(move || echo.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the echo thread panicked"))??;
    let flood_mbps =
        (moved.load(Ordering::Relaxed) - before) as f64 / started.elapsed().as_secs_f64() / 1e6;
    let cpu_shares = cpu.shares();
    stop.store(true, Ordering::Relaxed);
    for f in floods {
        let _ = tokio::time::timeout(Duration::from_secs(10), f).await;
    }
    let (sa, sb) = (Summary::of(&a), Summary::of(&b));
    let (p99, floor_p99) = (sa.p99, sb.p99);
    Ok(Metric {
        id: "2b".into(),
        title: "Isolation".into(),
        method: format!(
            "Keystroke echo ({} bytes each) in one webshell session and, as the floor, in one \
             direct kube-rs exec, alternating, while {} webshell sessions run `yes` and their \
             clients read and acknowledge as fast as they can (together {flood_mbps:.0} MB/s \
             meanwhile). The echo client has a thread of its own; the flood clients, the \
             server, the API server and the test node share the machine's {} cores. Where the \
             CPU went meanwhile: each process's user + system time over the echo runs, in \
             percent of one core (/proc/<pid>/stat; {} cores make {}%).",
            a.len(),
            sizes.floods,
            cores(),
            cores(),
            cores() * 100,
        ),
        rows: [
            Row {
                label: "echo during the floods, webshell".into(),
                unit: "ms".into(),
                summary: sa,
            },
            Row {
                label: "echo during the floods, direct kube-rs (the floor)".into(),
                unit: "ms".into(),
                summary: sb,
            },
        ]
        .into_iter()
        .chain(cpu_shares.into_iter().map(|(process, percent)| Row {
            label: format!("CPU during the floods: {process}"),
            unit: "% of a core".into(),
            summary: Summary::of(&[percent]),
        }))
        .collect(),
        checks: vec![Check {
            what: "echo p99 during the floods".into(),
            value: format!("{p99:.2} ms (direct: {floor_p99:.2} ms)"),
            goal: "≤ 10 ms".into(),
            pass: p99 <= 10.0,
        }],
    })
}

/// 3: server memory per idle session.
async fn memory(server: &ServerProc, target: &Target, sizes: &Sizes) -> anyhow::Result<Metric> {
    // Warm up: one session opened and closed, so lazily built state is in the baseline.
    drop(ready_socket(target, RAW_CAT, true).await?);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let baseline = server.rss_kib();
    let mut sockets = Vec::with_capacity(sizes.idle_sessions);
    for chunk in (0..sizes.idle_sessions).collect::<Vec<_>>().chunks(10) {
        let opened = futures::future::try_join_all(
            chunk.iter().map(|_| ready_socket(target, RAW_CAT, true)),
        )
        .await?;
        sockets.extend(opened);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let loaded = server.rss_kib();
    let per = (loaded.saturating_sub(baseline)) as f64 / sockets.len() as f64;
    for mut s in sockets {
        let _ = s.get_mut().close(None).await;
    }
    Ok(Metric {
        id: "3".into(),
        title: "Memory per idle session".into(),
        method: format!(
            "Server RSS with {n} idle TTY sessions (a raw `cat` each, every one past its first \
             output and acknowledged), minus the RSS before them (after one warm-up session), \
             divided by {n}. Baseline {baseline} KiB, loaded {loaded} KiB.",
            n = sizes.idle_sessions
        ),
        rows: vec![Row {
            label: format!("{} idle sessions", sizes.idle_sessions),
            unit: "KiB per session".into(),
            summary: Summary::of(&[per]),
        }],
        checks: vec![Check {
            what: "memory per idle session".into(),
            value: format!("{per:.1} KiB"),
            goal: "≤ 64 KiB".into(),
            pass: per <= 64.0,
        }],
    })
}

/// 4: many sessions each echoing known bytes through `cat` while reading.
async fn concurrent_echo(
    server: &ServerProc,
    target: &Target,
    sizes: &Sizes,
) -> anyhow::Result<Metric> {
    let cpu_before = server.cpu_seconds();
    let started = Instant::now();
    let tasks: Vec<_> = (0..sizes.echo_sessions)
        .map(|i| {
            let target = target.clone();
            let bytes = sizes.echo_bytes;
            tokio::spawn(async move {
                let input = noise(bytes, i as u64 + 1);
                let mut hasher = Sha256::new();
                let mut first = true;
                let mut digest = |b: &[u8]| {
                    // The first byte of the stream is the ready marker.
                    let b = if first { &b[1..] } else { b };
                    first = false;
                    hasher.update(b);
                };
                let run = target.run(
                    Via::Webshell,
                    "printf R && cat",
                    false,
                    &input,
                    &mut digest,
                    0,
                );
                // Input ends with EOF, so cat exits once it echoed everything.
                let outcome = tokio::time::timeout(Duration::from_secs(300), run).await;
                let outcome = match outcome {
                    Ok(Ok(_)) => Ok(true),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Ok(false),
                };
                (outcome, hex(&hasher.finalize()), sha(&input))
            })
        })
        .collect();
    let (mut ok, mut corrupt, mut wedged) = (0usize, 0usize, 0usize);
    let mut errors = Vec::new();
    for task in tasks {
        let (outcome, got_sha, want_sha) = task.await?;
        match outcome {
            Ok(false) => wedged += 1,
            Ok(true) if got_sha == want_sha => ok += 1,
            Ok(true) => corrupt += 1,
            Err(e) => errors.push(e),
        }
    }
    if let Some(e) = errors.first() {
        bail!("{} sessions failed, e.g.: {e}", errors.len());
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = server.cpu_seconds() - cpu_before;
    let mb = (sizes.echo_sessions * sizes.echo_bytes * 2) as f64 / 1e6;
    Ok(Metric {
        id: "4".into(),
        title: "Concurrent sessions".into(),
        method: format!(
            "{n} webshell sessions at once, each sending {kib} KiB of its own noise into a \
             non-TTY `cat` while reading the echo; each echo checked with sha256. Took \
             {seconds:.1} s. Server CPU = user + system time of the server process.",
            n = sizes.echo_sessions,
            kib = sizes.echo_bytes >> 10
        ),
        rows: vec![
            Row {
                label: "sessions whole".into(),
                unit: "sessions".into(),
                summary: Summary::of(&[ok as f64]),
            },
            Row {
                label: "server CPU per MB moved (both ways)".into(),
                unit: "ms/MB".into(),
                summary: Summary::of(&[cpu * 1000.0 / mb]),
            },
        ],
        checks: vec![Check {
            what: "lost, reordered or wedged sessions".into(),
            value: format!("{} ({corrupt} corrupt, {wedged} wedged)", corrupt + wedged),
            goal: "0".into(),
            pass: corrupt + wedged == 0 && ok == sizes.echo_sessions,
        }],
    })
}

/// The pace a browser's terminal took `yes` output at (Chromium, DOM renderer, measured by
/// the browser benchmark: about 6 MB/s).
const BROWSER_PACE: f64 = 6e6;
/// bash with a prompt to watch for.
const MARKED_BASH: &str = "PS1='READY> ' exec bash --norc --noprofile -i";

/// The end of a stream, watched for bash's marked prompt (it may straddle two reads).
#[derive(Default)]
struct PromptWatch {
    tail: Vec<u8>,
}

impl PromptWatch {
    /// Takes `bytes`; true once the prompt came.
    fn sees_prompt(&mut self, bytes: &[u8]) -> bool {
        self.tail
            .extend_from_slice(&bytes[bytes.len().saturating_sub(64)..]);
        if self.tail.len() > 64 {
            self.tail.drain(..self.tail.len() - 64);
        }
        String::from_utf8_lossy(&self.tail).contains("READY> ")
    }
}

/// Reads at the browser's pace: after `n` more bytes, waits until the time those bytes are
/// due. Sleeping per read instead would add the timer's millisecond granularity to each small
/// read and read far slower than the pace.
struct Pace {
    start: Instant,
    bytes: usize,
}

impl Pace {
    fn new() -> Pace {
        Pace {
            start: Instant::now(),
            bytes: 0,
        }
    }

    async fn took(&mut self, n: usize) {
        self.bytes += n;
        let due = self.start + Duration::from_secs_f64(self.bytes as f64 / BROWSER_PACE);
        tokio::time::sleep_until(due.into()).await;
    }
}

/// 5b: how long Ctrl-C takes when the client reads at a browser's pace, through webshell and
/// directly: the part of the Chromium figure that is upstream of webshell.
async fn ctrl_c_floor(target: &Target, smoke: bool) -> anyhow::Result<Metric> {
    let reps = if smoke { 1 } else { 5 };
    let (mut a_ms, mut b_ms, mut a_bytes, mut b_bytes) = (vec![], vec![], vec![], vec![]);
    for _ in 0..reps {
        let (ms, bytes) = ctrl_c_webshell(target).await?;
        a_ms.push(ms);
        a_bytes.push(bytes);
        let (ms, bytes) = ctrl_c_direct(target).await?;
        b_ms.push(ms);
        b_bytes.push(bytes);
    }
    Ok(Metric {
        id: "5b".into(),
        title: "Ctrl-C during a flood, at a browser's pace".into(),
        method: format!(
            "`yes` in bash; the client reads at {:.0} MB/s (the pace the browser benchmark saw \
             Chromium take `yes`), presses Ctrl-C after 1.5 s and keeps reading at that pace \
             until the prompt is back. Through webshell and through a direct kube-rs exec, \
             alternating. What arrives after Ctrl-C was already on its way: most of it waits \
             upstream of webshell, which holds at most its window ({} KiB) and pipes.",
            BROWSER_PACE / 1e6,
            webshell_protocol::OUTPUT_WINDOW >> 10
        ),
        rows: vec![
            Row {
                label: "webshell: prompt back after Ctrl-C".into(),
                unit: "ms".into(),
                summary: Summary::of(&a_ms),
            },
            Row {
                label: "direct kube-rs: prompt back after Ctrl-C".into(),
                unit: "ms".into(),
                summary: Summary::of(&b_ms),
            },
            Row {
                label: "webshell: output after Ctrl-C".into(),
                unit: "MB".into(),
                summary: Summary::of(&a_bytes),
            },
            Row {
                label: "direct kube-rs: output after Ctrl-C".into(),
                unit: "MB".into(),
                summary: Summary::of(&b_bytes),
            },
        ],
        checks: Vec::new(),
    })
}

async fn ctrl_c_webshell(target: &Target) -> anyhow::Result<(f64, f64)> {
    let mut socket = target.open_webshell(MARKED_BASH, true).await?;
    let mut seen = Vec::new();
    let mut acks = Acks::default();
    let mut read = async |socket: &mut WsClient, seen: &mut Vec<u8>| -> anyhow::Result<usize> {
        loop {
            let message = socket.next().await.context("closed")??;
            let Message::Binary(b) = message else {
                continue;
            };
            if let ServerFrame::Stdout(out) = ServerFrame::from_bytes(&b)? {
                acks.processed(socket, out.len()).await?;
                // The end of the frame: the prompt comes last.
                seen.extend_from_slice(&out[out.len().saturating_sub(4096)..]);
                return Ok(out.len());
            }
        }
    };
    while !String::from_utf8_lossy(&seen).contains("READY> ") {
        read(&mut socket, &mut seen).await?;
    }
    let yes = ClientFrame::Stdin(b"yes\r".to_vec()).to_bytes();
    socket.send(Message::Binary(yes.into())).await?;
    let mut pace = Pace::new();
    let flood = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < flood {
        let n = read(&mut socket, &mut Vec::new()).await?;
        pace.took(n).await;
    }
    let pressed = Instant::now();
    let ctrl_c = ClientFrame::Stdin(vec![3]).to_bytes();
    socket.send(Message::Binary(ctrl_c.into())).await?;
    let mut after = 0usize;
    let mut prompt = PromptWatch::default();
    loop {
        let mut got = Vec::new();
        let n = read(&mut socket, &mut got).await?;
        after += n;
        if prompt.sees_prompt(&got) {
            break;
        }
        pace.took(n).await;
    }
    let _ = socket.get_mut().close(None).await;
    Ok((pressed.elapsed().as_secs_f64() * 1000.0, after as f64 / 1e6))
}

async fn ctrl_c_direct(target: &Target) -> anyhow::Result<(f64, f64)> {
    let (_process, mut stdin, mut stdout) = direct_tty(target, MARKED_BASH).await?;
    let mut buf = vec![0u8; 32 * 1024];
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("READY> ") {
        let n = stdout.read(&mut buf).await?;
        anyhow::ensure!(n > 0, "ended");
        seen.extend_from_slice(&buf[..n]);
    }
    stdin.write_all(b"yes\r").await?;
    let mut pace = Pace::new();
    let flood = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < flood {
        let n = stdout.read(&mut buf).await?;
        pace.took(n).await;
    }
    let pressed = Instant::now();
    stdin.write_all(&[3]).await?;
    let mut after = 0usize;
    let mut prompt = PromptWatch::default();
    loop {
        let n = stdout.read(&mut buf).await?;
        anyhow::ensure!(n > 0, "ended");
        after += n;
        if prompt.sees_prompt(&buf[..n]) {
            break;
        }
        pace.took(n).await;
    }
    Ok((pressed.elapsed().as_secs_f64() * 1000.0, after as f64 / 1e6))
}

/// The processes a flood keeps busy, for [`CpuClock`].
fn cluster_processes(server: &ServerProc) -> Vec<(String, Vec<u32>)> {
    let node = profile::pids_named("testnode");
    let pod_processes = profile::descendants_of(&node);
    vec![
        ("API server".into(), profile::pids_named("kube-apiserver")),
        ("etcd".into(), profile::pids_named("etcd")),
        ("test node".into(), node),
        ("the pods' processes (yes, bash, cat)".into(), pod_processes),
        ("webshell".into(), vec![server.pid]),
        ("benchmark clients".into(), vec![std::process::id()]),
    ]
}

/// The legs of the exec path, by the port each one's server side listens on.
async fn path_legs(server: &ServerProc, target: &Target) -> anyhow::Result<Vec<profile::Leg>> {
    let port_of = |addr: &str| -> anyhow::Result<u16> {
        let (_, port) = addr.rsplit_once(':').context("no port")?;
        let port = port.trim_end_matches('/');
        Ok(port.parse()?)
    };
    let kubeconfig = kube::config::Kubeconfig::read_from(&target.kubeconfig)?;
    let apiserver = kubeconfig
        .clusters
        .iter()
        .find_map(|c| c.cluster.as_ref()?.server.clone())
        .context("no API server in the kubeconfig")?;
    let nodes: kube::Api<k8s_openapi::api::core::v1::Node> =
        kube::Api::all(target.pods.clone().into_client());
    let node_port = nodes
        .list(&Default::default())
        .await?
        .items
        .iter()
        .find_map(|n| {
            Some(
                n.status
                    .as_ref()?
                    .daemon_endpoints
                    .as_ref()?
                    .kubelet_endpoint
                    .as_ref()?
                    .port,
            )
        })
        .context("no node with a kubelet port")?;
    Ok(vec![
        profile::Leg {
            label: "test node → API server".into(),
            port: u16::try_from(node_port)?,
        },
        profile::Leg {
            label: "API server → webshell".into(),
            port: port_of(&apiserver)?,
        },
        profile::Leg {
            label: "webshell → client".into(),
            port: port_of(&server.addr)?,
        },
    ])
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// 5: a flood to a client that stops reading.
async fn flood(server: &ServerProc, target: &Target, sizes: &Sizes) -> anyhow::Result<Metric> {
    let mut socket = target.open_webshell("yes", true).await?;
    let mut acks = Acks::default();
    // Read and acknowledge for a second, then stop reading altogether.
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        if let Some(Ok(Message::Binary(b))) = socket.next().await
            && let ServerFrame::Stdout(out) = ServerFrame::from_bytes(&b)?
        {
            acks.processed(&mut socket, out.len()).await?;
        }
    }
    let before = server.rss_kib();
    let mut peak = before;
    let stalled = Instant::now();
    while stalled.elapsed() < sizes.stall {
        peak = peak.max(server.rss_kib());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let growth_mib = (peak.saturating_sub(before)) as f64 / 1024.0;
    // Everything upstream has filled by now: what each leg's sockets hold is what a client
    // that resumes reading (or presses Ctrl-C) still gets before anything newer.
    let queued = profile::socket_queues(&path_legs(server, target).await?)?;
    let _ = socket.get_mut().close(None).await;
    Ok(Metric {
        id: "5".into(),
        title: "Flood to a client that stops reading".into(),
        method: format!(
            "`yes` in a TTY session; the client reads and acknowledges for 1 s, then reads \
             nothing for {} s while the server's RSS is sampled every 100 ms. (Ctrl-C during a \
             flood in Chromium: see the browser figures.) At the end of the stall, the bytes \
             the kernel holds in the TCP queues of each leg of the path (/proc/net/tcp: the \
             sending side's send queue plus the receiving side's receive queue).",
            sizes.stall.as_secs()
        ),
        rows: std::iter::once(Row {
            label: "server RSS growth while the client does not read".into(),
            unit: "MiB".into(),
            summary: Summary::of(&[growth_mib]),
        })
        .chain(queued.into_iter().flat_map(|(leg, q)| {
            let mib = |bytes: u64| Summary::of(&[bytes as f64 / (1 << 20) as f64]);
            [
                Row {
                    label: format!("queued in TCP, {leg}: sender's send queues"),
                    unit: "MiB".into(),
                    summary: mib(q.at_sender),
                },
                Row {
                    label: format!("queued in TCP, {leg}: receiver's receive queues"),
                    unit: "MiB".into(),
                    summary: mib(q.at_receiver),
                },
            ]
        }))
        .collect(),
        checks: vec![Check {
            what: "RSS growth".into(),
            value: format!("{growth_mib:.2} MiB"),
            goal: "≤ 16 MiB".into(),
            pass: growth_mib <= 16.0,
        }],
    })
}
