//! One stream of exec frames split into a stdout reader and a stderr reader, read on demand by
//! whoever reads output (the session's output pump), with no task in between.
//!
//! Why not a task that copies each frame into pipes, as before: every frame then cost a copy
//! and the wakeup of a second task, often on the other worker thread. A TTY download arrives in
//! 4 KiB frames, and context switches were the largest item in webshell's profile of one. In
//! three interleaved runs each, webshell's CPU per MB of TTY download went from 3.91 to 3.69 ms
//! (medians) with this; the runs spread by more than that, so the gain is small, not proven.
//!
//! Each reader holds at most one unread frame. A reader that falls behind therefore stops the
//! stream, which is backpressure all the way to the container, never a growing buffer; and a
//! frame is handed over as the `Bytes` it arrived in, not copied.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes};
use futures::Stream;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::oneshot;

/// One frame of a remote command, by what it carries.
#[derive(Debug)]
pub enum Piece {
    /// Output on stdout.
    Stdout(Bytes),
    /// Output on stderr; read as stdout when there is no stderr reader (a TTY).
    Stderr(Bytes),
    /// The final status, as sent (JSON); the last one wins.
    Status(Bytes),
    /// Anything else (pings, unknown channels): skipped.
    Other,
    /// The stream failed: output ends here, as at the stream's end.
    End,
}

const OUT: usize = 0;
const ERR: usize = 1;

/// Splits `frames` into a stdout reader and, with `with_stderr`, a stderr reader. The receiver
/// gets the last status once the stream has ended (nothing if the readers are dropped first).
pub fn split<S>(
    frames: S,
    with_stderr: bool,
) -> (
    OutputReader<S>,
    Option<OutputReader<S>>,
    oneshot::Receiver<Option<Bytes>>,
)
where
    S: Stream<Item = Piece> + Unpin,
{
    let (status_tx, status_rx) = oneshot::channel();
    let shared = Arc::new(Mutex::new(Shared {
        frames,
        with_stderr,
        unread: [Bytes::new(), Bytes::new()],
        waiting: [None, None],
        gone: [false, !with_stderr],
        status: None,
        status_tx: Some(status_tx),
        ended: false,
    }));
    let stderr = with_stderr.then(|| OutputReader {
        shared: shared.clone(),
        me: ERR,
    });
    (OutputReader { shared, me: OUT }, stderr, status_rx)
}

struct Shared<S> {
    frames: S,
    with_stderr: bool,
    /// What arrived for each reader and has not been read: one frame at most.
    unread: [Bytes; 2],
    /// A reader waiting for the other to take its frame, or for the stream.
    waiting: [Option<Waker>; 2],
    /// A reader that was dropped (or never existed): what arrives for it is discarded, so it
    /// cannot hold up the other.
    gone: [bool; 2],
    status: Option<Bytes>,
    status_tx: Option<oneshot::Sender<Option<Bytes>>>,
    ended: bool,
}

impl<S> Shared<S> {
    fn wake(&mut self, reader: usize) {
        if let Some(waker) = self.waiting[reader].take() {
            waker.wake();
        }
    }

    /// Keeps `bytes` for `reader` and wakes it if it is the other one.
    fn deliver(&mut self, reader: usize, bytes: Bytes, me: usize) {
        if bytes.is_empty() || self.gone[reader] {
            return;
        }
        self.unread[reader] = bytes;
        if reader != me {
            self.wake(reader);
        }
    }
}

/// Reads one output channel of a [`split`] stream.
pub struct OutputReader<S> {
    shared: Arc<Mutex<Shared<S>>>,
    me: usize,
}

impl<S: Stream<Item = Piece> + Unpin> AsyncRead for OutputReader<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.me;
        let other = 1 - me;
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        let shared = &mut *shared;
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            let unread = &mut shared.unread[me];
            if !unread.is_empty() {
                let n = unread.len().min(buf.remaining());
                buf.put_slice(&unread[..n]);
                unread.advance(n);
                if unread.is_empty() {
                    // The other reader may be waiting for room to read on.
                    shared.wake(other);
                }
                return Poll::Ready(Ok(()));
            }
            if shared.ended {
                return Poll::Ready(Ok(()));
            }
            if !shared.unread[other].is_empty() {
                // Reading on would need room for a second frame; the other reader takes its
                // frame first and then wakes this one.
                shared.waiting[me] = Some(cx.waker().clone());
                return Poll::Pending;
            }
            let piece = match Pin::new(&mut shared.frames).poll_next(cx) {
                Poll::Pending => {
                    // The stream wakes whichever reader polled it last; that one routes what
                    // arrives and wakes its owner.
                    shared.waiting[me] = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Poll::Ready(piece) => piece,
            };
            match piece {
                Some(Piece::Stdout(bytes)) => shared.deliver(OUT, bytes, me),
                Some(Piece::Stderr(bytes)) => {
                    let to = if shared.with_stderr { ERR } else { OUT };
                    shared.deliver(to, bytes, me);
                }
                Some(Piece::Status(json)) => shared.status = Some(json),
                Some(Piece::Other) => {}
                Some(Piece::End) | None => {
                    shared.ended = true;
                    if let Some(tx) = shared.status_tx.take() {
                        let _ = tx.send(shared.status.take());
                    }
                    shared.wake(other);
                }
            }
        }
    }
}

impl<S> Drop for OutputReader<S> {
    fn drop(&mut self) {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.gone[self.me] = true;
        shared.unread[self.me] = Bytes::new();
        shared.wake(1 - self.me);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::mpsc;
    use futures::{FutureExt, SinkExt};
    use tokio::io::AsyncReadExt;

    fn out(s: &str) -> Piece {
        Piece::Stdout(Bytes::copy_from_slice(s.as_bytes()))
    }
    fn err(s: &str) -> Piece {
        Piece::Stderr(Bytes::copy_from_slice(s.as_bytes()))
    }

    async fn read_all(mut reader: impl AsyncRead + Unpin) -> String {
        let mut text = String::new();
        reader.read_to_string(&mut text).await.unwrap();
        text
    }

    #[tokio::test]
    async fn each_channel_reads_its_own_bytes_in_order_and_the_status_follows_the_end() {
        let (mut tx, rx) = mpsc::channel(16);
        let (stdout, stderr, status) = split(rx, true);
        let feeder = tokio::spawn(async move {
            for piece in [out("one "), err("e1 "), Piece::Other, out("two"), err("e2")] {
                tx.send(piece).await.unwrap();
            }
            tx.send(Piece::Status(Bytes::from_static(b"{}")))
                .await
                .unwrap();
        });
        let (o, e) = tokio::join!(read_all(stdout), read_all(stderr.unwrap()));
        feeder.await.unwrap();
        assert_eq!((o.as_str(), e.as_str()), ("one two", "e1 e2"));
        assert_eq!(status.await.unwrap().as_deref(), Some(&b"{}"[..]));
    }

    #[tokio::test]
    async fn without_a_stderr_reader_stderr_is_read_as_stdout() {
        let (mut tx, rx) = mpsc::channel(16);
        let (stdout, stderr, _status) = split(rx, false);
        assert!(stderr.is_none());
        for piece in [out("a"), err("b"), out("c")] {
            tx.send(piece).await.unwrap();
        }
        drop(tx);
        assert_eq!(read_all(stdout).await, "abc");
    }

    #[tokio::test]
    async fn a_frame_larger_than_the_read_is_handed_over_in_parts() {
        let (mut tx, rx) = mpsc::channel(4);
        let (mut stdout, _stderr, _status) = split(rx, false);
        tx.send(out("abcdef")).await.unwrap();
        let mut part = [0u8; 4];
        assert_eq!(stdout.read(&mut part).await.unwrap(), 4);
        assert_eq!(&part, b"abcd");
        assert_eq!(stdout.read(&mut part).await.unwrap(), 2);
        assert_eq!(&part[..2], b"ef");
    }

    #[tokio::test]
    async fn an_unread_stderr_frame_stops_the_stream_until_it_is_read() {
        let (mut tx, rx) = mpsc::channel(4);
        let (mut stdout, stderr, _status) = split(rx, true);
        let mut stderr = stderr.unwrap();
        tx.send(err("held")).await.unwrap();
        tx.send(out("after")).await.unwrap();
        let mut buf = [0u8; 16];
        // stdout cannot read past the stderr frame nobody has taken: one frame per reader.
        assert!(stdout.read(&mut buf).now_or_never().is_none());
        let n = stderr.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"held");
        let n = stdout.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"after");
    }

    #[tokio::test]
    async fn a_dropped_stderr_reader_does_not_hold_up_stdout() {
        let (mut tx, rx) = mpsc::channel(4);
        let (stdout, stderr, _status) = split(rx, true);
        drop(stderr);
        for piece in [err("lost"), out("kept")] {
            tx.send(piece).await.unwrap();
        }
        drop(tx);
        assert_eq!(read_all(stdout).await, "kept");
    }

    #[tokio::test]
    async fn readers_dropped_before_the_end_send_no_status() {
        let (_tx, rx) = mpsc::channel::<Piece>(4);
        let (stdout, stderr, status) = split(rx, true);
        drop((stdout, stderr));
        assert!(status.await.is_err());
    }
}
