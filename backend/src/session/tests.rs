//! The session's behaviour, specified with an in-memory browser and an in-memory pod.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use webshell_protocol::{
    ClientFrame, ErrorKind, Frame, ServerFrame, TermSize, Version, close_code,
};

use super::port::Announce;
use super::probe::ShellProbe;
use super::*;
use crate::error::AppError;
use futures::future::BoxFuture;

/// The pod side as the test sees it.
struct FakePod {
    started_with: TermSize,
    stdin: DuplexStream,
    stdout: DuplexStream,
    stderr: Option<DuplexStream>,
    resizes: mpsc::Receiver<TermSize>,
    exit: oneshot::Sender<Outcome>,
    /// Set when the session dropped the process (which ends it remotely).
    dropped: Arc<AtomicBool>,
}

struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

struct FakeLauncher {
    tty: bool,
    pods: oneshot::Sender<FakePod>,
    fail: Option<AppError>,
}

impl ProcessLauncher for FakeLauncher {
    fn launch(
        self: Box<Self>,
        size: TermSize,
    ) -> BoxFuture<'static, Result<RemoteProcess, AppError>> {
        async move {
            if let Some(e) = self.fail {
                return Err(e);
            }
            let (stdin_remote, stdin_local) = tokio::io::duplex(1 << 16);
            let (stdout_local, stdout_remote) = tokio::io::duplex(1 << 16);
            let (stderr_local, stderr_remote) = tokio::io::duplex(1 << 16);
            let (resize_tx, resizes) = mpsc::channel(8);
            let (exit, exit_rx) = oneshot::channel();
            let dropped = Arc::new(AtomicBool::new(false));
            let flag = DropFlag(dropped.clone());
            let _ = self.pods.send(FakePod {
                started_with: size,
                stdin: stdin_remote,
                stdout: stdout_remote,
                stderr: (!self.tty).then_some(stderr_remote),
                resizes,
                exit,
                dropped,
            });
            Ok(RemoteProcess {
                stdin: Some(Box::new(stdin_local) as _),
                stdout: Box::new(stdout_local),
                stderr: (!self.tty).then(|| Box::new(stderr_local) as _),
                resize: Some(Box::pin(resize_tx.sink_map_err(|_| ()))),
                outcome: async move {
                    let _flag = flag;
                    exit_rx.await.unwrap_or(Outcome::Exited {
                        code: -1,
                        reason: "dropped".into(),
                    })
                }
                .boxed(),
                command: Announce::Now(vec!["sh".into()]),
            })
        }
        .boxed()
    }
}

/// The browser side as the test sees it.
struct Browser {
    to_server: mpsc::UnboundedSender<SocketEvent>,
    from_server: mpsc::UnboundedReceiver<SocketCommand>,
}

impl Browser {
    fn send(&self, frame: ClientFrame) {
        let _ = self
            .to_server
            .unbounded_send(SocketEvent::Binary(frame.to_bytes()));
    }

    /// The next command, skipping pings.
    async fn next(&mut self) -> SocketCommand {
        loop {
            let next = tokio::time::timeout(Duration::from_secs(5), self.from_server.next()).await;
            match next.expect("the server said nothing for 5 s") {
                Some(SocketCommand::Ping) => continue,
                Some(command) => return command,
                None => panic!("the session ended without closing"),
            }
        }
    }

    async fn frame(&mut self) -> ServerFrame {
        match self.next().await {
            SocketCommand::Frame(frame) => frame,
            SocketCommand::Binary(bytes) => ServerFrame::from_bytes(&bytes).expect("a frame"),
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    async fn close(&mut self) -> (u16, String) {
        match self.next().await {
            SocketCommand::Close(code, reason) => (code, reason),
            other => panic!("expected a close, got {other:?}"),
        }
    }
}

fn quick() -> SessionConfig {
    SessionConfig {
        first_size_timeout: Duration::from_millis(300),
        ping_interval: Duration::from_secs(3600),
        status_timeout: Duration::from_secs(2),
        idle_timeout: None,
        max_duration: None,
        ..SessionConfig::default()
    }
}

type Started = (
    Browser,
    oneshot::Receiver<FakePod>,
    tokio::task::JoinHandle<crate::audit::Ending>,
);

fn start(probe: bool, tty: bool, fail: Option<AppError>) -> Started {
    start_with(probe, tty, fail, quick())
}

fn start_with(probe: bool, tty: bool, fail: Option<AppError>, config: SessionConfig) -> Started {
    start_stoppable(probe, tty, fail, config, CancellationToken::new())
}

fn start_stoppable(
    probe: bool,
    tty: bool,
    fail: Option<AppError>,
    config: SessionConfig,
    stop: CancellationToken,
) -> Started {
    let (to_server, rx) = mpsc::unbounded();
    let (tx, from_server) = mpsc::unbounded();
    let (pods, pod) = oneshot::channel();
    let session = Session {
        stop,
        ..Session::new("test", config, Version::V1)
    };
    let fake = FakeLauncher { tty, pods, fail };
    let launcher: Box<dyn ProcessLauncher> = if probe {
        Box::new(ShellProbe {
            launcher: move |_command| fake,
            namespace: "demo".into(),
            pod: "web".into(),
            container: "x".into(),
        })
    } else {
        Box::new(fake)
    };
    let task = tokio::spawn(session.run(launcher, tx, rx));
    (
        Browser {
            to_server,
            from_server,
        },
        pod,
        task,
    )
}

/// The session ends within 2 s and drops the remote process (which ends it for real).
async fn expect_ended_and_dropped(
    task: tokio::task::JoinHandle<crate::audit::Ending>,
    pod: &FakePod,
) {
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("session ended")
        .unwrap();
    assert!(
        pod.dropped.load(Ordering::SeqCst),
        "the remote process must be dropped"
    );
}

async fn read_exactly(reader: &mut DuplexStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    reader.read_exact(&mut buf).await.expect("pod stdin");
    buf
}

#[tokio::test]
async fn the_exec_starts_at_the_first_size_and_keeps_earlier_keystrokes_in_order() {
    let (browser, pod, _task) = start(false, true, None);
    browser.send(ClientFrame::Stdin(b"ec".to_vec()));
    browser.send(ClientFrame::Stdin(b"ho".to_vec()));
    browser.send(ClientFrame::Resize(TermSize {
        cols: 120,
        rows: 40,
    }));
    browser.send(ClientFrame::Stdin(b" hi\r".to_vec()));
    let mut pod = pod.await.expect("launched");
    assert_eq!(
        pod.started_with,
        TermSize {
            cols: 120,
            rows: 40
        }
    );
    assert_eq!(read_exactly(&mut pod.stdin, 8).await, b"echo hi\r");
}

#[tokio::test]
async fn output_is_forwarded_byte_for_byte_then_the_exit_code_then_a_normal_close() {
    let (mut browser, pod, task) = start(false, true, None);
    browser.send(ClientFrame::Resize(TermSize { cols: 80, rows: 24 }));
    let mut pod = pod.await.expect("launched");
    let hello = browser.frame().await;
    assert!(matches!(hello, ServerFrame::Hello { ref command, .. } if command[0] == "sh"));

    // '€' split across two writes arrives as the same bytes, never replaced.
    pod.stdout.write_all(&[0xe2, 0x82]).await.unwrap();
    assert_eq!(browser.frame().await, ServerFrame::Stdout(vec![0xe2, 0x82]));
    pod.stdout.write_all(&[0xac, b'\n']).await.unwrap();
    assert_eq!(
        browser.frame().await,
        ServerFrame::Stdout(vec![0xac, b'\n'])
    );

    drop(pod.stdout);
    let _ = pod.exit.send(Outcome::Exited {
        code: 3,
        reason: "NonZeroExitCode".into(),
    });
    assert_eq!(
        browser.frame().await,
        ServerFrame::Exit {
            code: 3,
            reason: "NonZeroExitCode".into()
        }
    );
    assert_eq!(browser.close().await.0, close_code::NORMAL);
    task.await.unwrap();
}

#[tokio::test]
async fn the_shell_probe_marker_is_stripped_and_names_the_shell_in_hello() {
    let (mut browser, pod, _task) = start(true, true, None);
    browser.send(ClientFrame::Resize(TermSize { cols: 80, rows: 24 }));
    let mut pod = pod.await.expect("launched");
    pod.stdout
        .write_all(b"\x1b]webshell-shell;ba")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    pod.stdout.write_all(b"sh\x07bash-5.2$ ").await.unwrap();
    assert!(
        matches!(browser.frame().await, ServerFrame::Hello { command, .. } if command == ["bash"])
    );
    assert_eq!(
        browser.frame().await,
        ServerFrame::Stdout(b"bash-5.2$ ".to_vec())
    );
}

#[tokio::test]
async fn resizes_after_the_first_go_to_the_resize_channel() {
    let (browser, pod, _task) = start(false, true, None);
    browser.send(ClientFrame::Resize(TermSize { cols: 80, rows: 24 }));
    let mut pod = pod.await.expect("launched");
    browser.send(ClientFrame::Resize(TermSize {
        cols: 100,
        rows: 30,
    }));
    let next = tokio::time::timeout(Duration::from_secs(2), pod.resizes.next())
        .await
        .unwrap();
    assert_eq!(
        next,
        Some(TermSize {
            cols: 100,
            rows: 30
        })
    );
}

#[tokio::test]
async fn without_a_tty_stderr_stays_apart_from_stdout() {
    let (mut browser, pod, _task) = start(false, false, None);
    browser.send(ClientFrame::Resize(TermSize { cols: 80, rows: 24 }));
    let mut pod = pod.await.expect("launched");
    let _hello = browser.frame().await;
    pod.stderr
        .as_mut()
        .unwrap()
        .write_all(b"oops")
        .await
        .unwrap();
    assert_eq!(browser.frame().await, ServerFrame::Stderr(b"oops".to_vec()));
    pod.stdout.write_all(b"fine").await.unwrap();
    assert_eq!(browser.frame().await, ServerFrame::Stdout(b"fine".to_vec()));
}

#[tokio::test]
async fn stdin_close_delivers_eof_to_the_process() {
    let (browser, pod, _task) = start(false, false, None);
    browser.send(ClientFrame::Resize(TermSize { cols: 80, rows: 24 }));
    let mut pod = pod.await.expect("launched");
    browser.send(ClientFrame::Stdin(b"x".to_vec()));
    browser.send(ClientFrame::StdinClose);
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(2), pod.stdin.read_to_end(&mut all))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(all, b"x");
}

#[tokio::test]
async fn when_the_browser_goes_away_the_process_is_dropped_and_the_session_ends() {
    let (browser, pod, task) = start(false, true, None);
    browser.send(ClientFrame::Resize(TermSize { cols: 80, rows: 24 }));
    let pod = pod.await.expect("launched");
    let _ = browser.to_server.unbounded_send(SocketEvent::Closed);
    expect_ended_and_dropped(task, &pod).await;
}

#[tokio::test]
async fn a_server_shutdown_closes_with_going_away_and_ends_the_process() {
    let stop = CancellationToken::new();
    let (mut browser, pod, task) = start_stoppable(false, true, None, quick(), stop.clone());
    browser.send(ClientFrame::Resize(TermSize { cols: 80, rows: 24 }));
    let pod = pod.await.expect("launched");
    assert!(matches!(browser.frame().await, ServerFrame::Hello { .. }));
    stop.cancel();
    let (code, reason) = browser.close().await;
    assert_eq!(code, close_code::GOING_AWAY);
    assert!(reason.contains("shutting down"), "{reason}");
    let _ = browser.to_server.unbounded_send(SocketEvent::Closed);
    expect_ended_and_dropped(task, &pod).await;
}

#[tokio::test]
async fn keepalives_are_echoed() {
    let (mut browser, pod, _task) = start(false, true, None);
    browser.send(ClientFrame::Keepalive(42));
    assert_eq!(browser.frame().await, ServerFrame::Keepalive(42));
    browser.send(ClientFrame::Resize(TermSize { cols: 80, rows: 24 }));
    let _pod = pod.await.expect("launched");
    let _hello = browser.frame().await;
    browser.send(ClientFrame::Keepalive(43));
    assert_eq!(browser.frame().await, ServerFrame::Keepalive(43));
}

#[tokio::test]
async fn a_malformed_frame_closes_with_bad_frame_and_a_reason() {
    let (mut browser, _pod, task) = start(false, true, None);
    let _ = browser
        .to_server
        .unbounded_send(SocketEvent::Binary(vec![0, 200]));
    let (code, reason) = browser.close().await;
    assert_eq!(code, close_code::BAD_FRAME);
    assert!(reason.contains("malformed"), "{reason}");
    task.await.unwrap();
}

#[tokio::test]
async fn a_text_message_closes_with_bad_frame() {
    let (mut browser, _pod, _task) = start(false, true, None);
    let _ = browser.to_server.unbounded_send(SocketEvent::Text);
    assert_eq!(browser.close().await.0, close_code::BAD_FRAME);
}

#[tokio::test]
async fn an_unknown_frame_from_a_newer_client_is_skipped() {
    let (mut browser, pod, _task) = start(false, true, None);
    let _ = browser
        .to_server
        .unbounded_send(SocketEvent::Binary(vec![9, 1, 2]));
    browser.send(ClientFrame::Resize(TermSize { cols: 80, rows: 24 }));
    let _pod = pod.await.expect("still launched");
    assert!(matches!(browser.frame().await, ServerFrame::Hello { .. }));
}

#[tokio::test]
async fn no_first_size_closes_with_timeout_and_starts_nothing() {
    let (mut browser, pod, _task) = start(false, true, None);
    assert_eq!(browser.close().await.0, close_code::TIMEOUT);
    assert!(pod.await.is_err(), "nothing may be launched");
}

#[tokio::test]
async fn a_launch_failure_is_an_error_frame_and_its_close_code() {
    let fail = AppError {
        kind: ErrorKind::NoShell,
        message: "container x has no shell".into(),
    };
    let (mut browser, _pod, _task) = start(true, true, Some(fail));
    browser.send(ClientFrame::Resize(TermSize { cols: 80, rows: 24 }));
    assert_eq!(
        browser.frame().await,
        ServerFrame::Error {
            kind: ErrorKind::NoShell,
            message: "container x has no shell".into()
        }
    );
    assert_eq!(
        browser.close().await,
        (close_code::EXEC_FAILED, "container x has no shell".into())
    );
}

fn pinging_every_50ms() -> SessionConfig {
    SessionConfig {
        ping_interval: Duration::from_millis(50),
        ..quick()
    }
}

#[tokio::test]
async fn a_browser_that_stops_answering_pings_is_gone_and_its_process_dropped() {
    let (mut browser, pod, task) = start_with(false, true, None, pinging_every_50ms());
    browser.send(ClientFrame::Resize(TermSize { cols: 80, rows: 24 }));
    let pod = pod.await.expect("launched");
    // Pings go out, nothing comes back, and the socket stays open: no close, no error.
    expect_ended_and_dropped(task, &pod).await;
    let mut pings = 0;
    while let Ok(command) = browser.from_server.try_recv() {
        pings += usize::from(command == SocketCommand::Ping);
    }
    assert!(pings >= 1, "pings sent: {pings}");
}

#[tokio::test]
async fn a_browser_that_answers_pings_stays_connected() {
    let (mut browser, pod, task) = start_with(false, true, None, pinging_every_50ms());
    browser.send(ClientFrame::Resize(TermSize { cols: 80, rows: 24 }));
    let _pod = pod.await.expect("launched");
    let mut pings = 0;
    while pings < 10 {
        let next = tokio::time::timeout(Duration::from_secs(2), browser.from_server.next()).await;
        match next.expect("the server keeps pinging") {
            Some(SocketCommand::Ping) => {
                pings += 1;
                let _ = browser.to_server.unbounded_send(SocketEvent::Pong);
            }
            Some(_) => {}
            None => panic!("the session ended although the browser answered"),
        }
    }
    assert!(!task.is_finished());
}
