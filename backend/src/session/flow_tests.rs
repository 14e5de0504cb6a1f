//! Flow control, specified with a fake process that behaves like kube-rs's exec: one loop
//! moves bytes both ways, with a 1 KiB stdin buffer and a bounded stdout buffer, so that a
//! full stdout stops stdin from draining. That coupling is what wedged the old session.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::channel::mpsc;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use webshell_protocol::{
    ClientFrame, Frame, INPUT_WINDOW, MAX_STDIN_CHUNK, OUTPUT_WINDOW, ServerFrame, TermSize,
    Version, close_code,
};

use super::port::Announce;
use super::*;
use crate::error::AppError;

/// kube-rs's default stdin buffer.
const KUBE_STDIN_BUFFER: usize = 1024;
/// A bounded stdout buffer, as kube-rs has.
const KUBE_STDOUT_BUFFER: usize = 64 * 1024;

/// What the fake process does.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Echoes stdin to stdout through one loop, like `cat` behind kube-rs.
    Echo,
    /// Writes `y\n` forever, and reports each stdin byte it sees (like `yes` in a TTY whose
    /// Ctrl-C the test watches for).
    Flood,
}

struct KubeLike {
    behaviour: Behaviour,
    /// Stdin bytes the process got, with when (Flood).
    seen: Arc<std::sync::Mutex<Vec<(u8, Instant)>>>,
}

impl ProcessLauncher for KubeLike {
    fn launch(
        self: Box<Self>,
        _size: TermSize,
    ) -> BoxFuture<'static, Result<RemoteProcess, AppError>> {
        async move {
            let (stdin_local, mut stdin_remote) = tokio::io::duplex(KUBE_STDIN_BUFFER);
            let (mut stdout_remote, stdout_local) = tokio::io::duplex(KUBE_STDOUT_BUFFER);
            let (done, exited) = oneshot::channel::<()>();
            let seen = self.seen.clone();
            let behaviour = self.behaviour;
            tokio::spawn(async move {
                let mut buf = [0u8; KUBE_STDIN_BUFFER];
                let flood = b"y\n".repeat(2048);
                match behaviour {
                    Behaviour::Echo => loop {
                        // One loop both ways: while the stdout write waits, stdin waits.
                        let n = match stdin_remote.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if stdout_remote.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    },
                    Behaviour::Flood => loop {
                        tokio::select! {
                            r = stdin_remote.read(&mut buf) => match r {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    let now = Instant::now();
                                    seen.lock().unwrap().extend(buf[..n].iter().map(|b| (*b, now)));
                                }
                            },
                            r = stdout_remote.write_all(&flood) => {
                                if r.is_err() { break; }
                            }
                        }
                    },
                }
                drop(stdout_remote);
                let _ = done.send(());
            });
            Ok(RemoteProcess {
                stdin: Some(Box::new(stdin_local) as _),
                stdout: Box::new(stdout_local),
                stderr: None,
                resize: None,
                outcome: async move {
                    let _ = exited.await;
                    Outcome::Exited {
                        code: 0,
                        reason: "Completed".into(),
                    }
                }
                .boxed(),
                command: Announce::Now(vec!["cat".into()]),
            })
        }
        .boxed()
    }
}

fn config() -> SessionConfig {
    SessionConfig {
        first_size_timeout: Duration::from_secs(5),
        ping_interval: Duration::from_secs(3600),
        status_timeout: Duration::from_secs(5),
        stall_timeout: Duration::from_secs(2),
        idle_timeout: None,
        max_duration: None,
        ..SessionConfig::default()
    }
}

struct Started {
    to_server: mpsc::UnboundedSender<SocketEvent>,
    from_server: mpsc::Receiver<SocketCommand>,
    task: tokio::task::JoinHandle<crate::audit::Ending>,
    seen: Arc<std::sync::Mutex<Vec<(u8, Instant)>>>,
}

/// A session over a socket whose sending side holds `socket_buffer` messages (a bounded
/// channel, so a client that stops reading blocks the server like a full TCP buffer does).
fn start(
    behaviour: Behaviour,
    version: Version,
    config: SessionConfig,
    socket_buffer: usize,
) -> Started {
    let (to_server, rx) = mpsc::unbounded();
    let (tx, from_server) = mpsc::channel(socket_buffer);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let session = Session::new("flow", config, version);
    let launcher = Box::new(KubeLike {
        behaviour,
        seen: seen.clone(),
    });
    let task = tokio::spawn(session.run(launcher, tx, rx));
    let _ = to_server.unbounded_send(SocketEvent::Binary(
        ClientFrame::Resize(TermSize { cols: 80, rows: 24 }).to_bytes(),
    ));
    Started {
        to_server,
        from_server,
        task,
        seen,
    }
}

fn decode(command: &SocketCommand) -> Option<ServerFrame> {
    match command {
        SocketCommand::Frame(f) => Some(f.clone()),
        SocketCommand::Binary(b) => Some(ServerFrame::from_bytes(b).expect("frame")),
        _ => None,
    }
}

/// A client that behaves like the browser: reads everything, acks output as it "renders" it
/// (v2), and sends `input` in chunks within the input window as `StdinAck`s come back.
/// Returns the output it got.
async fn browser_like(
    s: &mut Started,
    version: Version,
    input: &[u8],
    expect_output: usize,
) -> Vec<u8> {
    let mut output = Vec::with_capacity(expect_output);
    let mut sent = 0;
    let mut in_flight: u64 = 0;
    let window = u64::from(INPUT_WINDOW);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Send what the window allows (v1: everything, at once).
        while sent < input.len() && (!version.flow_control() || in_flight < window) {
            let end = (sent + MAX_STDIN_CHUNK).min(input.len());
            let frame = ClientFrame::Stdin(input[sent..end].to_vec()).to_bytes();
            let _ = s.to_server.unbounded_send(SocketEvent::Binary(frame));
            in_flight += (end - sent) as u64;
            sent = end;
        }
        if output.len() >= expect_output {
            return output;
        }
        assert!(
            Instant::now() < deadline,
            "wedged: {} of {expect_output} bytes back, {sent} sent",
            output.len()
        );
        let next = tokio::time::timeout(Duration::from_secs(10), s.from_server.next())
            .await
            .expect("the session said nothing for 10 s: wedged");
        let Some(command) = next else { return output };
        match decode(&command) {
            Some(ServerFrame::Stdout(bytes)) => {
                output.extend_from_slice(&bytes);
                if version.flow_control() {
                    let ack = ClientFrame::Ack(bytes.len() as u32).to_bytes();
                    let _ = s.to_server.unbounded_send(SocketEvent::Binary(ack));
                }
            }
            Some(ServerFrame::StdinAck(n)) => {
                assert!(version.flow_control(), "a v1 client got a StdinAck");
                in_flight -= u64::from(n);
            }
            _ => {}
        }
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

async fn echo_whole(version: Version) {
    let input = pattern(10 << 20);
    let mut s = start(Behaviour::Echo, version, config(), 16);
    let output = browser_like(&mut s, version, &input, input.len()).await;
    assert_eq!(output.len(), input.len());
    assert_eq!(
        Sha256::digest(&output),
        Sha256::digest(&input),
        "bytes lost, duplicated or reordered"
    );
}

#[tokio::test]
async fn a_10_mb_paste_into_an_echoing_process_comes_back_whole_with_flow_control() {
    echo_whole(Version::V2).await;
}

#[tokio::test]
async fn a_10_mb_paste_comes_back_whole_for_an_old_client_without_acks_too() {
    echo_whole(Version::V1).await;
}

#[tokio::test]
async fn a_v2_client_never_has_more_than_the_window_of_output_unacknowledged() {
    // A client that reads but never acks: the server stops at the window, then gives up.
    let mut s = start(Behaviour::Flood, Version::V2, config(), 1024);
    let mut got = 0usize;
    let closed = loop {
        let next = tokio::time::timeout(Duration::from_secs(10), s.from_server.next())
            .await
            .expect("ends within the stall timeout");
        match next {
            Some(SocketCommand::Close(code, reason)) => break (code, reason),
            Some(command) => {
                if let Some(ServerFrame::Stdout(b)) = decode(&command) {
                    got += b.len();
                }
            }
            None => panic!("closed without a close frame"),
        }
    };
    let read_chunk = super::bridge::READ_CHUNK;
    assert!(
        got <= OUTPUT_WINDOW as usize + read_chunk,
        "{got} bytes sent without an ack"
    );
    assert!(
        got >= OUTPUT_WINDOW as usize - read_chunk,
        "only {got} bytes sent"
    );
    assert_eq!(closed.0, close_code::TIMEOUT);
    assert!(closed.1.contains("did not take output"), "{}", closed.1);
    let ending = s.task.await.unwrap();
    assert_eq!(ending.close_code, Some(close_code::TIMEOUT));
}

/// Ctrl-C is not queued behind the flood: it arrives while the flood still runs. (How fast is
/// for the benchmark suite to measure; this only bounds it well below the stall timeout.)
#[tokio::test]
async fn ctrl_c_reaches_the_process_during_a_flood() {
    let mut s = start(Behaviour::Flood, Version::V2, config(), 16);
    let seen = s.seen.clone();
    let to_server = s.to_server.clone();
    // Read and ack like the browser for a while, then press Ctrl-C and keep reading.
    let reader = tokio::spawn(async move {
        let mut got = 0usize;
        while let Some(command) = s.from_server.next().await {
            if let Some(ServerFrame::Stdout(b)) = decode(&command) {
                got += b.len();
                let ack = ClientFrame::Ack(b.len() as u32).to_bytes();
                if s.to_server
                    .unbounded_send(SocketEvent::Binary(ack))
                    .is_err()
                {
                    break;
                }
            }
        }
        got
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pressed = Instant::now();
    let _ = to_server.unbounded_send(SocketEvent::Binary(ClientFrame::Stdin(vec![3]).to_bytes()));
    let arrived = loop {
        if let Some((_, at)) = seen.lock().unwrap().iter().find(|(b, _)| *b == 3) {
            break *at;
        }
        assert!(
            pressed.elapsed() < Duration::from_secs(2),
            "Ctrl-C never arrived"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let took = arrived.duration_since(pressed);
    assert!(took < Duration::from_secs(1), "Ctrl-C took {took:?}");
    let _ = to_server.unbounded_send(SocketEvent::Closed);
    let flooded = reader.await.unwrap();
    assert!(
        flooded > OUTPUT_WINDOW as usize,
        "the flood ran: {flooded} bytes"
    );
}

#[tokio::test]
async fn no_byte_is_lost_across_pauses_in_acknowledgement() {
    let input = pattern(2 << 20);
    let mut s = start(Behaviour::Echo, Version::V2, config(), 16);
    let paused = Arc::new(AtomicUsize::new(0));
    // The same as browser_like, with the acks held back now and then (a busy renderer).
    let mut output = Vec::new();
    let mut pending_ack = 0u32;
    let mut sent = 0;
    let mut in_flight = 0u64;
    while output.len() < input.len() {
        while sent < input.len() && in_flight < u64::from(INPUT_WINDOW) {
            let end = (sent + MAX_STDIN_CHUNK).min(input.len());
            let _ = s.to_server.unbounded_send(SocketEvent::Binary(
                ClientFrame::Stdin(input[sent..end].to_vec()).to_bytes(),
            ));
            in_flight += (end - sent) as u64;
            sent = end;
        }
        let command = tokio::time::timeout(Duration::from_secs(10), s.from_server.next())
            .await
            .expect("wedged")
            .expect("open");
        match decode(&command) {
            Some(ServerFrame::Stdout(b)) => {
                output.extend_from_slice(&b);
                pending_ack += b.len() as u32;
                if output.len() % 7 == 0 {
                    paused.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                if pending_ack >= 100_000
                    || output.len() == input.len()
                    || pending_ack > 0 && output.len() % 3 == 0
                {
                    let _ = s.to_server.unbounded_send(SocketEvent::Binary(
                        ClientFrame::Ack(pending_ack).to_bytes(),
                    ));
                    pending_ack = 0;
                }
            }
            Some(ServerFrame::StdinAck(n)) => in_flight -= u64::from(n),
            _ => {}
        }
        if pending_ack > 0 && s.from_server.size_hint().0 == 0 {
            // Nothing more is coming until we ack: ack what we rendered.
            let _ = s.to_server.unbounded_send(SocketEvent::Binary(
                ClientFrame::Ack(pending_ack).to_bytes(),
            ));
            pending_ack = 0;
        }
    }
    assert_eq!(Sha256::digest(&output), Sha256::digest(&input));
}

#[tokio::test]
async fn too_much_input_before_the_first_size_ends_the_session_with_its_reason() {
    let (to_server, rx) = mpsc::unbounded();
    let (tx, mut from_server) = mpsc::channel(16);
    let session = Session::new("early", config(), Version::V2);
    let launcher = Box::new(KubeLike {
        behaviour: Behaviour::Echo,
        seen: Arc::default(),
    });
    let task = tokio::spawn(session.run(launcher, tx, rx));
    for _ in 0..3 {
        let _ = to_server.unbounded_send(SocketEvent::Binary(
            ClientFrame::Stdin(vec![b'x'; 30_000]).to_bytes(),
        ));
    }
    let close = loop {
        if let SocketCommand::Close(code, reason) = from_server.next().await.expect("a close") {
            break (code, reason);
        }
    };
    assert_eq!(close.0, close_code::BAD_FRAME);
    assert!(close.1.contains("before the terminal size"), "{}", close.1);
    task.await.unwrap();
}

#[tokio::test]
async fn a_client_that_stops_reading_is_given_the_stall_timeout_then_the_session_ends() {
    // v1: no acks, so only the blocked socket tells; nobody reads `from_server`.
    let s = start(Behaviour::Flood, Version::V1, config(), 4);
    let started = Instant::now();
    let ending = tokio::time::timeout(Duration::from_secs(10), s.task)
        .await
        .expect("the session ends")
        .unwrap();
    assert!(started.elapsed() >= config().stall_timeout);
    assert!(
        ending.close_reason.contains("did not take output"),
        "{ending:?}"
    );
    drop(s.from_server);
}

#[tokio::test]
async fn an_old_client_gets_no_stdin_acks_and_the_server_waits_for_no_acks() {
    let mut s = start(Behaviour::Echo, Version::V1, config(), 64);
    let input = pattern(OUTPUT_WINDOW as usize * 3);
    let output = browser_like(&mut s, Version::V1, &input, input.len()).await;
    assert_eq!(
        output, input,
        "more than a window came back without a single ack"
    );
}
