//! The bridge between one browser socket and one remote process: independent pumps, so that
//! neither direction ever waits for the other.
//!
//! ```text
//!  socket rx ──► input pump ──► stdin queue (bytes-bounded) ──► stdin writer ──► process stdin
//!                   │  Ack ──► output window                            │ StdinAck (v2)
//!                   │  Resize ──► latest size ──► resize forwarder       ▼
//!  socket tx ◄── writer ◄── control queue (keepalives, acks)  ◄──────────┘
//!                   ▲
//!                   └──── data queue ◄── output pump ◄── process stdout/stderr
//!                                         (reads only while the window has room, v2)
//! ```
//!
//! Every buffer is bounded: the stdin queue by bytes (a v2 client never sends more than the
//! input window ahead; a v1 client meets the socket's backpressure), the data queue by frames,
//! the output window by unacknowledged bytes. A browser that stops taking output is given
//! [`super::SessionConfig::stall_timeout`], then the session ends and the process with it.
//! All pumps run in the session's task, polled independently; none awaits inside another.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{BufMut, Bytes};
use futures::{Sink, SinkExt, Stream};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::{debug, warn};
use webshell_protocol::{
    ClientFrame, MAX_OUTPUT_HEADER, MAX_STDIN_CHUNK, OUTPUT_WINDOW, Output, ServerFrame, TermSize,
    Version, output_frame_header,
};

use super::port::{Announce, Outcome, RemoteProcess, ResizeSink};
use super::{Incoming, SessionConfig, SessionError, SocketCommand, SocketEvent, next_frame};
use crate::metrics::ByteCounters;

/// Read size for process output; one frame carries at most this much.
pub const READ_CHUNK: usize = 32 * 1024;
/// Bytes of stdin the server holds for the process, at most: the input window and one chunk.
pub const STDIN_BUFFER: usize = webshell_protocol::INPUT_WINDOW as usize + MAX_STDIN_CHUNK;
/// Each queued stdin chunk is counted as at least this many bytes, so that a flood of tiny
/// frames is bounded in memory too.
const MIN_CHUNK_COST: usize = 64;
/// Frames between the output pump and the writer.
const DATA_QUEUE: usize = 4;
/// Control frames (keepalive echoes, stdin acks) waiting for the writer.
const CONTROL_QUEUE: usize = 64;
/// Below this, output is copied into a buffer of its own size instead of keeping a whole
/// read buffer alive while it waits in the window.
const COPY_BELOW: usize = 4 * 1024;

/// What the pumps share; all counters are in payload bytes.
pub struct Flow {
    started: Instant,
    /// Output sent and not yet acknowledged (v2).
    unacked: AtomicU64,
    /// Woken by each `Ack`.
    room: Notify,
    /// Milliseconds since `started` of the last input or output.
    last_active: AtomicU64,
    /// Milliseconds since `started` of the last thing heard from the browser.
    last_heard: AtomicU64,
    /// Stdin payload received.
    pub bytes_in: AtomicU64,
    /// Output payload sent.
    pub bytes_out: AtomicU64,
    /// The server-wide byte counters (metrics).
    counters: ByteCounters,
}

impl Flow {
    /// A fresh flow, starting now, also counting into `counters`.
    pub fn new(counters: ByteCounters) -> Arc<Flow> {
        Arc::new(Flow {
            started: Instant::now(),
            unacked: AtomicU64::new(0),
            room: Notify::new(),
            last_active: AtomicU64::new(0),
            last_heard: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            counters,
        })
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn active(&self) {
        self.last_active.store(self.now_ms(), Ordering::Relaxed);
    }

    fn heard(&self) {
        self.last_heard.store(self.now_ms(), Ordering::Relaxed);
    }

    fn since(&self, stamp: &AtomicU64) -> Duration {
        Duration::from_millis(self.now_ms().saturating_sub(stamp.load(Ordering::Relaxed)))
    }

    fn acked(&self, n: u32) {
        let n = u64::from(n);
        // Saturating: a client that acks more than it got gains nothing.
        let _ = self
            .unacked
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(n))
            });
        self.room.notify_one();
    }
}

/// One stdin operation, in order.
enum StdinOp {
    Data(Vec<u8>, OwnedSemaphorePermit),
    Close,
}

/// What the session hands the bridge.
pub struct Bridge<'a, Tx, Rx> {
    /// The socket's sending half.
    pub tx: &'a mut Tx,
    /// The socket's receiving half.
    pub rx: &'a mut Rx,
    /// Timing and limits.
    pub config: &'a SessionConfig,
    /// The negotiated version.
    pub version: Version,
    /// Shared counters.
    pub flow: Arc<Flow>,
    /// Makes the `Hello` frame: first thing, unless the shell probe names the shell later.
    pub hello: Hello,
}

/// What `Hello` says besides the command.
#[derive(Debug, Clone)]
pub struct Hello {
    /// The session's id.
    pub session_id: String,
    /// The negotiated version.
    pub version: Version,
}

impl Hello {
    fn frame(&self, command: Vec<String>) -> ServerFrame {
        ServerFrame::Hello {
            version: self.version.number(),
            session_id: self.session_id.clone(),
            command,
        }
    }
}

impl<Tx, Rx> Bridge<'_, Tx, Rx>
where
    Tx: Sink<SocketCommand> + Unpin + Send,
    Rx: Stream<Item = SocketEvent> + Unpin + Send,
{
    /// Runs the process to its end: `Ok(outcome)` once its output is complete (everything
    /// queued has been sent), or why the session ended first.
    pub async fn run(
        self,
        process: RemoteProcess,
        early_stdin: Vec<u8>,
    ) -> Result<Outcome, SessionError> {
        let RemoteProcess {
            stdin,
            stdout,
            stderr,
            resize,
            outcome,
            command,
        } = process;
        let flow = self.flow.clone();
        flow.active();
        flow.heard();
        let (control_tx, control_rx) = mpsc::channel(CONTROL_QUEUE);
        let (data_tx, data_rx) = mpsc::channel(DATA_QUEUE);
        let (stdin_tx, stdin_rx) = mpsc::unbounded_channel();
        let budget = Arc::new(Semaphore::new(STDIN_BUFFER));
        let (size_tx, size_rx) = watch::channel(None::<TermSize>);

        let later = match command {
            Announce::Now(command) => {
                let _ = data_tx
                    .send(SocketCommand::Frame(self.hello.frame(command)))
                    .await;
                None
            }
            Announce::Later(announced) => Some(announced),
        };
        let input = InputPump {
            flow: &flow,
            version: self.version,
            stdin: &stdin_tx,
            budget: &budget,
            size: &size_tx,
            control: &control_tx,
        };
        if !early_stdin.is_empty() {
            input.stdin(early_stdin).await;
        }
        let output = OutputPump {
            flow: &flow,
            version: self.version,
            data: &data_tx,
            stall: self.config.stall_timeout,
            hello: &self.hello,
            later: std::sync::Mutex::new(later),
        };
        let writer = Writer {
            tx: self.tx,
            control: control_rx,
            data: data_rx,
            flow: &flow,
            stall: self.config.stall_timeout,
            ping: self.config.ping_interval,
        };

        let ended = tokio::select! {
            e = input.run(self.rx) => Err(e),
            e = writer.run() => e,
            e = output.run(stdout, stderr) => Err(e),
            e = watchdog(&flow, self.config.idle_timeout) => Err(e),
            () = forever(stdin_writer(stdin, stdin_rx, &control_tx, self.version)) => unreachable!(),
            () = forever(forward_resizes(resize, size_rx)) => unreachable!(),
        };
        ended?;
        // Output is complete and sent; the exit status follows it on the exec's status channel.
        Ok(
            match tokio::time::timeout(self.config.status_timeout, outcome).await {
                Ok(outcome) => outcome,
                Err(_) => Outcome::Failed(crate::error::AppError::new(
                    webshell_protocol::ErrorKind::ExecFailed,
                    "the exec stream ended without an exit status",
                )),
            },
        )
    }
}

/// Runs `f`, then never finishes: for pumps whose end does not end the session.
async fn forever(f: impl std::future::Future<Output = ()>) {
    f.await;
    std::future::pending::<()>().await;
}

/// Reads the browser's frames and dispatches them; never waits on output.
struct InputPump<'a> {
    flow: &'a Flow,
    version: Version,
    stdin: &'a mpsc::UnboundedSender<StdinOp>,
    budget: &'a Arc<Semaphore>,
    size: &'a watch::Sender<Option<TermSize>>,
    control: &'a mpsc::Sender<SocketCommand>,
}

impl InputPump<'_> {
    async fn run<Rx: Stream<Item = SocketEvent> + Unpin>(&self, rx: &mut Rx) -> SessionError {
        loop {
            let event = next_frame(rx).await;
            self.flow.heard();
            match event {
                Incoming::Frame(ClientFrame::Stdin(bytes)) => self.stdin(bytes).await,
                Incoming::Frame(ClientFrame::Resize(size)) => {
                    // Latest wins: a burst of resizes while the exec is slow sends the last.
                    self.size.send_replace(Some(size));
                }
                Incoming::Frame(ClientFrame::Ack(n)) => {
                    if self.version.flow_control() {
                        self.flow.acked(n);
                    }
                }
                Incoming::Frame(ClientFrame::Keepalive(nonce)) => {
                    // Best effort: a client flooding keepalives while the socket is stuck does
                    // not get to grow a queue.
                    let echo = SocketCommand::Frame(ServerFrame::Keepalive(nonce));
                    let _ = self.control.try_send(echo);
                }
                Incoming::Frame(ClientFrame::StdinClose) => {
                    let _ = self.stdin.send(StdinOp::Close);
                }
                Incoming::Skip => {}
                Incoming::End(e) => return e,
            }
        }
    }

    /// Queues stdin in chunks, waiting only when the stdin buffer is full (a v1 client, or a
    /// v2 client ignoring its window): that stops reading the socket, which is backpressure.
    async fn stdin(&self, bytes: Vec<u8>) {
        self.flow.active();
        self.flow
            .bytes_in
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.flow.counters.to_process.inc_by(bytes.len() as u64);
        let pieces: Vec<Vec<u8>> = if bytes.len() <= MAX_STDIN_CHUNK {
            vec![bytes]
        } else {
            bytes.chunks(MAX_STDIN_CHUNK).map(<[u8]>::to_vec).collect()
        };
        for piece in pieces {
            let cost = piece.len().max(MIN_CHUNK_COST) as u32;
            let Ok(permit) = self.budget.clone().acquire_many_owned(cost).await else {
                return;
            };
            let _ = self.stdin.send(StdinOp::Data(piece, permit));
        }
    }
}

/// Writes queued stdin to the process; acknowledges each chunk (v2) once written.
async fn stdin_writer(
    mut stdin: Option<Box<dyn AsyncWrite + Send + Unpin>>,
    mut queue: mpsc::UnboundedReceiver<StdinOp>,
    control: &mpsc::Sender<SocketCommand>,
    version: Version,
) {
    while let Some(op) = queue.recv().await {
        match op {
            StdinOp::Data(bytes, permit) => {
                if let Some(w) = stdin.as_mut()
                    && w.write_all(&bytes).await.is_err()
                {
                    debug!("stdin closed by the remote side; dropping further input");
                    stdin = None;
                }
                drop(permit);
                if version.flow_control() {
                    let ack = ServerFrame::StdinAck(bytes.len() as u32);
                    if control.send(SocketCommand::Frame(ack)).await.is_err() {
                        return;
                    }
                }
            }
            StdinOp::Close => {
                if let Some(mut w) = stdin.take() {
                    let _ = w.shutdown().await;
                }
            }
        }
    }
}

/// Sends the latest size to the TTY.
async fn forward_resizes(resize: Option<ResizeSink>, mut sizes: watch::Receiver<Option<TermSize>>) {
    let Some(mut sink) = resize else { return };
    while sizes.changed().await.is_ok() {
        let size = *sizes.borrow_and_update();
        if let Some(size) = size
            && sink.send(size).await.is_err()
        {
            return;
        }
    }
}

/// Reads the process's output into frames, within the window.
struct OutputPump<'a> {
    flow: &'a Flow,
    version: Version,
    data: &'a mpsc::Sender<SocketCommand>,
    stall: Duration,
    hello: &'a Hello,
    /// A `Hello` still to send before the first output (the shell probe's).
    later: std::sync::Mutex<Option<oneshot::Receiver<Vec<String>>>>,
}

impl OutputPump<'_> {
    /// Runs until output is complete (then it queues [`SocketCommand::Flush`] and returns
    /// nothing, waiting for the writer to finish), or fails.
    async fn run(
        &self,
        mut stdout: Box<dyn AsyncRead + Send + Unpin>,
        mut stderr: Option<Box<dyn AsyncRead + Send + Unpin>>,
    ) -> SessionError {
        let (mut out_open, mut err_open) = (true, stderr.is_some());
        // Fresh buffers per read, never kept beyond it.
        let (mut out_buf, mut err_buf) = (Vec::new(), Vec::new());
        let (mut out_size, mut err_size) = (ReadSize::new(), ReadSize::new());
        while out_open || err_open {
            if let Err(e) = self.wait_for_room().await {
                return e;
            }
            let (which, read) = tokio::select! {
                r = read_chunk(&mut stdout, &mut out_buf, &mut out_size), if out_open => {
                    (Output::Stdout, r)
                }
                r = async {
                    match stderr.as_mut() {
                        Some(reader) => read_chunk(reader, &mut err_buf, &mut err_size).await,
                        None => std::future::pending().await,
                    }
                }, if err_open => (Output::Stderr, r),
            };
            let n = match read {
                Ok(0) | Err(_) => {
                    if let Err(e) = read {
                        warn!(error = %e, "reading process output failed");
                    }
                    match which {
                        Output::Stdout => out_open = false,
                        Output::Stderr => err_open = false,
                    }
                    continue;
                }
                Ok(n) => n,
            };
            // Gathered here, after the select and not inside `read_chunk`: the select drops
            // the read that loses the race, and one dropped halfway through gathering would
            // take the bytes it had already read with it.
            let (reader, buf, size): (&mut (dyn AsyncRead + Send + Unpin), _, _) = match which {
                Output::Stdout => (&mut *stdout, &mut out_buf, &mut out_size),
                Output::Stderr => match stderr.as_mut() {
                    Some(reader) => (&mut **reader, &mut err_buf, &mut err_size),
                    // Not reached: stderr is only read while it is there.
                    None => continue,
                },
            };
            let n = if n >= GATHER_FROM {
                gather(reader, buf, size.0, n).await
            } else {
                n
            };
            size.update(n);
            if self.send_read(which, buf, n).await.is_err() {
                return SessionError::BrowserGone("socket closed");
            }
            if n >= COPY_BELOW {
                // A flood yields after each large frame, so that a keystroke's echo in another
                // session does not wait behind it on the same worker thread.
                tokio::task::yield_now().await;
            }
        }
        if self.data.send(SocketCommand::Flush).await.is_err() {
            return SessionError::BrowserGone("socket closed");
        }
        std::future::pending().await
    }

    /// v2: waits while the browser has a full window of output it has not acknowledged. No
    /// acknowledgement for the stall timeout ends the session.
    async fn wait_for_room(&self) -> Result<(), SessionError> {
        if !self.version.flow_control() {
            return Ok(());
        }
        while self.flow.unacked.load(Ordering::Acquire) >= u64::from(OUTPUT_WINDOW) {
            if tokio::time::timeout(self.stall, self.flow.room.notified())
                .await
                .is_err()
            {
                return Err(SessionError::ClientStalled(self.stall));
            }
        }
        Ok(())
    }

    /// Sends the announced `Hello` if one is still due: it must precede the first output.
    async fn hello_first(&self) -> Result<(), ()> {
        let due = self.later.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(announced) = due {
            let command = announced.await.unwrap_or_else(|_| vec!["sh".into()]);
            return self.send_frame(self.hello.frame(command)).await;
        }
        Ok(())
    }

    /// Frames `n` bytes read into `buf` (after its header room) without copying them, unless
    /// they are few.
    async fn send_read(&self, which: Output, buf: &mut Vec<u8>, n: usize) -> Result<(), ()> {
        self.hello_first().await?;
        if n < COPY_BELOW {
            let payload = buf[MAX_OUTPUT_HEADER..MAX_OUTPUT_HEADER + n].to_vec();
            *buf = Vec::new();
            return self.send_output(which, &payload).await;
        }
        let mut header = [0u8; MAX_OUTPUT_HEADER];
        let h = output_frame_header(which, n, &mut header);
        let start = MAX_OUTPUT_HEADER - h;
        buf[start..MAX_OUTPUT_HEADER].copy_from_slice(&header[..h]);
        let whole = Bytes::from(std::mem::take(buf));
        self.account(n);
        self.data
            .send(SocketCommand::Binary(
                whole.slice(start..MAX_OUTPUT_HEADER + n),
            ))
            .await
            .map_err(drop)
    }

    async fn send_output(&self, which: Output, payload: &[u8]) -> Result<(), ()> {
        if payload.is_empty() {
            return Ok(());
        }
        let mut header = [0u8; MAX_OUTPUT_HEADER];
        let h = output_frame_header(which, payload.len(), &mut header);
        let mut frame = Vec::with_capacity(h + payload.len());
        frame.extend_from_slice(&header[..h]);
        frame.extend_from_slice(payload);
        self.account(payload.len());
        self.data
            .send(SocketCommand::Binary(frame.into()))
            .await
            .map_err(drop)
    }

    async fn send_frame(&self, frame: ServerFrame) -> Result<(), ()> {
        self.data
            .send(SocketCommand::Frame(frame))
            .await
            .map_err(drop)
    }

    fn account(&self, n: usize) {
        self.flow.active();
        self.flow.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
        self.flow.counters.to_browser.inc_by(n as u64);
        if self.version.flow_control() {
            self.flow.unacked.fetch_add(n as u64, Ordering::AcqRel);
        }
    }
}

/// The smallest read: what an idle session's pending read holds.
const MIN_READ: usize = 1024;

/// A read buffer that grows while reads fill it (a flood gets [`READ_CHUNK`] frames) and
/// shrinks back when they do not (an idle shell's pending read holds about 1 KiB).
struct ReadSize(usize);

impl ReadSize {
    fn new() -> Self {
        ReadSize(MIN_READ)
    }

    fn update(&mut self, n: usize) {
        if n >= self.0 {
            self.0 = (self.0 * 2).min(READ_CHUNK);
        } else if n < self.0 / 4 {
            self.0 = (self.0 / 2).max(MIN_READ);
        }
    }
}

/// Reads up to `size` bytes into `buf` after [`MAX_OUTPUT_HEADER`] bytes of room, into
/// capacity that is not zeroed first.
async fn read_chunk(
    reader: &mut (dyn AsyncRead + Send + Unpin),
    buf: &mut Vec<u8>,
    size: &mut ReadSize,
) -> std::io::Result<usize> {
    buf.clear();
    buf.reserve_exact(MAX_OUTPUT_HEADER + size.0);
    buf.resize(MAX_OUTPUT_HEADER, 0);
    let mut limited = (&mut *buf).limit(size.0);
    reader.read_buf(&mut limited).await
}

/// A read at least this large is taken for a flood, and what follows it is gathered into the
/// same frame. Below it (keystroke echo, a prompt) output goes out at once.
const GATHER_FROM: usize = 2 * 1024;
/// The longest a flood's frame waits for more output before it goes out.
const GATHER_FOR: Duration = Duration::from_millis(1);

/// After a flood-sized read of `n` bytes, reads on into `buf` until `room` bytes are there or
/// [`GATHER_FOR`] has passed, and returns how many bytes `buf` holds after its header room.
///
/// Why: a PTY hands over its output 4 KiB at a time, and each piece arrives from the API
/// server as a frame of its own. Sent on one by one, every 4 KiB costs webshell, the browser's
/// socket and xterm.js a wakeup each; and whether the pump happened to fall behind (and so
/// read several pieces at once) made a TTY download through webshell swing between 0.7 and
/// 1.1 times the direct exec's rate from one run to the next. At 50 MB/s or more, the 32 KiB
/// a read takes come in well under the 1 ms this may wait; only a burst's last frame waits
/// out the whole of it.
async fn gather(
    reader: &mut (dyn AsyncRead + Send + Unpin),
    buf: &mut Vec<u8>,
    room: usize,
    mut n: usize,
) -> usize {
    let deadline = tokio::time::sleep(GATHER_FOR);
    tokio::pin!(deadline);
    while n < room {
        let mut limited = (&mut *buf).limit(room - n);
        tokio::select! {
            biased;
            read = reader.read_buf(&mut limited) => match read {
                Ok(m) if m > 0 => n += m,
                // The end or an error: what was gathered goes out, and the next read sees it.
                _ => break,
            },
            () = &mut deadline => break,
        }
    }
    n
}

/// Owns the socket's sending half: control frames first, then data, and pings.
struct Writer<'a, Tx> {
    tx: &'a mut Tx,
    control: mpsc::Receiver<SocketCommand>,
    data: mpsc::Receiver<SocketCommand>,
    flow: &'a Flow,
    stall: Duration,
    ping: Duration,
}

impl<Tx: Sink<SocketCommand> + Unpin> Writer<'_, Tx> {
    /// Sends until the output pump's [`SocketCommand::Flush`] (`Ok`), or the socket fails.
    async fn run(mut self) -> Result<(), SessionError> {
        let mut ping = tokio::time::interval(self.ping);
        ping.reset();
        loop {
            let command = tokio::select! {
                biased;
                Some(c) = self.control.recv() => c,
                Some(d) = self.data.recv() => d,
                _ = ping.tick() => {
                    // Browsers answer pings by themselves; silence for two intervals means the
                    // browser is gone (a laptop lid, a dropped network) before TCP notices.
                    if self.flow.since(&self.flow.last_heard) > self.ping * 2 {
                        return Err(SessionError::BrowserGone("no answer to pings"));
                    }
                    SocketCommand::Ping
                }
            };
            if matches!(command, SocketCommand::Flush) {
                return match tokio::time::timeout(self.stall, self.tx.flush()).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(_)) => Err(SessionError::BrowserGone("socket closed")),
                    Err(_) => Err(SessionError::ClientStalled(self.stall)),
                };
            }
            self.send(command).await?;
        }
    }

    async fn send(&mut self, command: SocketCommand) -> Result<(), SessionError> {
        match tokio::time::timeout(self.stall, self.tx.send(command)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(SessionError::BrowserGone("socket closed")),
            Err(_) => Err(SessionError::ClientStalled(self.stall)),
        }
    }
}

/// Ends an idle session.
async fn watchdog(flow: &Flow, idle: Option<Duration>) -> SessionError {
    let Some(idle) = idle else {
        return std::future::pending().await;
    };
    loop {
        let quiet = flow.since(&flow.last_active);
        if quiet >= idle {
            return SessionError::Idle(idle);
        }
        tokio::time::sleep(idle - quiet).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn the_read_size_grows_under_a_flood_and_shrinks_when_idle() {
        let mut size = ReadSize::new();
        for _ in 0..10 {
            let full = size.0;
            size.update(full);
        }
        assert_eq!(size.0, READ_CHUNK);
        for _ in 0..10 {
            size.update(2); // a prompt, a keystroke echo
        }
        assert_eq!(size.0, MIN_READ);
    }

    /// A PTY's 4095-byte pieces, as the API server forwards them one by one.
    const PIECE: usize = 4095;

    /// What `read_chunk` left: the header room, then `n` bytes already read.
    fn read_so_far(n: usize) -> Vec<u8> {
        let mut buf = Vec::with_capacity(MAX_OUTPUT_HEADER + READ_CHUNK);
        buf.resize(MAX_OUTPUT_HEADER + n, 0);
        buf
    }

    #[tokio::test(start_paused = true)]
    async fn a_floods_pieces_that_follow_within_the_gather_time_go_out_as_one_frame() {
        let (mut pty, mut output) = tokio::io::duplex(1 << 16);
        let writer = tokio::spawn(async move {
            for piece in 1..=3u8 {
                tokio::task::yield_now().await;
                pty.write_all(&[piece; PIECE]).await.unwrap();
            }
            pty // kept open: no end of output cuts the gathering short
        });
        let mut buf = read_so_far(PIECE);
        let n = gather(&mut output, &mut buf, READ_CHUNK, PIECE).await;
        assert_eq!(n, 4 * PIECE);
        let gathered = &buf[MAX_OUTPUT_HEADER + PIECE..MAX_OUTPUT_HEADER + n];
        let expected: Vec<u8> = (1..=3u8).flat_map(|p| [p; PIECE]).collect();
        assert_eq!(gathered, &expected[..], "in order, nothing lost or doubled");
        drop(writer.await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn gathering_stops_when_the_frame_is_full_or_the_output_pauses_or_ends() {
        // Full: nothing more is read than the frame has room for.
        let (mut pty, mut output) = tokio::io::duplex(1 << 16);
        pty.write_all(&[7; 3 * PIECE]).await.unwrap();
        let mut buf = read_so_far(PIECE);
        assert_eq!(
            gather(&mut output, &mut buf, 2 * PIECE, PIECE).await,
            2 * PIECE
        );

        // A pause: the frame goes out after GATHER_FOR with what it has.
        let mut buf = read_so_far(PIECE);
        let started = tokio::time::Instant::now();
        let n = gather(&mut output, &mut buf, READ_CHUNK, PIECE).await;
        assert_eq!(
            n,
            3 * PIECE,
            "the two pieces the full frame had no room for"
        );
        assert_eq!(started.elapsed(), GATHER_FOR);

        // The end: what was gathered goes out at once.
        pty.write_all(&[8; PIECE]).await.unwrap();
        drop(pty);
        let mut buf = read_so_far(PIECE);
        let started = tokio::time::Instant::now();
        assert_eq!(
            gather(&mut output, &mut buf, READ_CHUNK, PIECE).await,
            2 * PIECE
        );
        assert!(started.elapsed() < GATHER_FOR);
    }
}
