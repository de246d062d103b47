//! One connection's outgoing side: a writer task fed by an [`Outbox`].
//!
//! Every role reads in its own task and writes through an outbox, so a reader never waits
//! on a socket write. The outbox is bounded by a frame count and by the bytes those frames
//! hold: a peer that stops reading fills it, and the next send cuts the connection instead
//! of growing memory or blocking whoever is sending (a slow client never stalls anyone
//! else).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use std::io::IoSlice;

use bytes::{Buf, Bytes};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SendError {
    /// The peer is not reading; the connection has been cut.
    #[error("peer is not reading; connection cut")]
    Full,
    /// The connection is closed already.
    #[error("connection closed")]
    Closed,
}

enum Out {
    Frame(Bytes),
    /// Write what is queued, then close the socket.
    Close,
}

/// The sending side of a connection. Cheap to clone; every clone feeds the same socket.
#[derive(Clone)]
pub(crate) struct Outbox {
    tx: mpsc::UnboundedSender<Out>,
    queued: Arc<AtomicUsize>,
    limit: Arc<AtomicUsize>,
    /// The bytes of the frames waiting, and how many may wait (no bound unless set).
    bytes: Arc<AtomicUsize>,
    byte_limit: Arc<AtomicUsize>,
    cut: CancellationToken,
}

impl Outbox {
    /// Starts the writer task for `writer`. `limit` frames may wait in the queue; `cut` is
    /// cancelled when the connection must end at once (a full queue, shutdown).
    pub fn spawn<W>(writer: W, limit: usize, cut: CancellationToken) -> Outbox
    where
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let bytes = Arc::new(AtomicUsize::new(0));
        tokio::spawn(write_loop(
            writer,
            rx,
            queued.clone(),
            bytes.clone(),
            cut.clone(),
        ));
        Outbox {
            tx,
            queued,
            limit: Arc::new(AtomicUsize::new(limit)),
            bytes,
            byte_limit: Arc::new(AtomicUsize::new(usize::MAX)),
            cut,
        }
    }

    /// Queues one frame (already encoded, header included).
    pub fn send(&self, frame: Bytes) -> Result<(), SendError> {
        if self.cut.is_cancelled() {
            return Err(SendError::Closed);
        }
        let len = frame.len();
        let frames_before = self.queued.fetch_add(1, Ordering::AcqRel);
        let bytes_before = self.bytes.fetch_add(len, Ordering::AcqRel);
        // A frame bigger than the byte bound still goes where nothing waits before it.
        let over_bytes = bytes_before > 0
            && bytes_before.saturating_add(len) > self.byte_limit.load(Ordering::Relaxed);
        if frames_before >= self.limit.load(Ordering::Relaxed) || over_bytes {
            self.unqueue(len);
            self.cut.cancel();
            return Err(SendError::Full);
        }
        self.tx.send(Out::Frame(frame)).map_err(|_| {
            self.unqueue(len);
            SendError::Closed
        })
    }

    fn unqueue(&self, len: usize) {
        self.queued.fetch_sub(1, Ordering::AcqRel);
        self.bytes.fetch_sub(len, Ordering::AcqRel);
    }

    /// Writes what is queued, then closes the connection.
    pub fn close(&self) {
        let _ = self.tx.send(Out::Close);
    }
}

/// What only the roles use: cutting, draining, flow control.
#[cfg(feature = "server")]
impl Outbox {
    /// Cuts the connection now, dropping what is queued.
    pub fn cut(&self) {
        self.cut.cancel();
    }

    /// Ends the connection: writes what is queued, giving a peer that does not read at
    /// most `grace` to take it, then cuts. A writer stuck on a full socket never keeps a
    /// finished connection (its socket and its queue) alive.
    pub async fn finish(&self, grace: std::time::Duration) {
        self.close();
        let _ = tokio::time::timeout(grace, self.closed()).await;
        self.cut();
    }

    /// Raises or lowers how many frames may wait (internal links get more room).
    pub(crate) fn set_limit(&self, limit: usize) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// How many frames may wait before the connection is cut.
    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Raises or lowers how many bytes of frames may wait before the connection is cut.
    pub(crate) fn set_byte_limit(&self, bytes: usize) {
        self.byte_limit.store(bytes, Ordering::Relaxed);
    }

    /// Bytes of the frames waiting to be written.
    pub fn queued_bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Waits until fewer than `below` frames wait, and under half the byte bound, so a
    /// sender of many frames (an inbox replayed at login, answers to pipelined requests)
    /// goes at the pace of the reader instead of overflowing the queue. `false` where the
    /// connection closed, or nothing left the queue for `stall`.
    pub(crate) async fn wait_room(&self, below: usize, stall: std::time::Duration) -> bool {
        let half_bytes = self.byte_limit.load(Ordering::Relaxed) / 2;
        let mut last = (self.queued(), self.queued_bytes());
        let mut since = tokio::time::Instant::now();
        loop {
            let now = (self.queued(), self.queued_bytes());
            if now.0 < below && now.1 <= half_bytes {
                return true;
            }
            if self.is_closed() {
                return false;
            }
            if now.0 < last.0 || now.1 < last.1 {
                last = now;
                since = tokio::time::Instant::now();
            } else if since.elapsed() > stall {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }

    /// Frames waiting to be written.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.cut.is_cancelled() || self.tx.is_closed()
    }

    /// Resolves when the connection has been cut or the writer has stopped.
    pub async fn closed(&self) {
        tokio::select! {
            _ = self.cut.cancelled() => {}
            _ = self.tx.closed() => {}
        }
    }
}

/// The most queued frames handed to the socket in one vectored write.
const WRITE_BATCH: usize = 64;

async fn write_loop<W>(
    mut writer: W,
    mut rx: mpsc::UnboundedReceiver<Out>,
    queued: Arc<AtomicUsize>,
    queued_bytes: Arc<AtomicUsize>,
    cut: CancellationToken,
) where
    W: AsyncWrite + Unpin + Send,
{
    // No write buffer is kept: the frames are written straight from the queue, many in one
    // vectored write, so an idle connection holds no buffer at all and a frame shared by
    // many connections (a topic message) is never copied.
    let result: std::io::Result<()> = async {
        loop {
            let first = tokio::select! {
                _ = cut.cancelled() => return Ok(()),
                m = rx.recv() => m,
            };
            let Some(mut next) = first else {
                return writer.shutdown().await;
            };
            // Take everything that is ready (up to a batch), then write it at once.
            let mut frames: Vec<Bytes> = Vec::new();
            let mut close = false;
            loop {
                match next {
                    Out::Frame(frame) => {
                        queued.fetch_sub(1, Ordering::AcqRel);
                        queued_bytes.fetch_sub(frame.len(), Ordering::AcqRel);
                        frames.push(frame);
                    }
                    Out::Close => {
                        close = true;
                        break;
                    }
                }
                if frames.len() >= WRITE_BATCH {
                    break;
                }
                match rx.try_recv() {
                    Ok(m) => next = m,
                    Err(_) => break,
                }
            }
            tokio::select! {
                _ = cut.cancelled() => return Ok(()),
                r = write_frames(&mut writer, &mut frames) => r?,
            }
            if close {
                tokio::select! {
                    _ = cut.cancelled() => {}
                    r = writer.shutdown() => r?,
                }
                return Ok(());
            }
        }
    }
    .await;
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection write failed");
    }
    // The reader side watches this token: the connection is over either way.
    cut.cancel();
}

/// Writes every frame, in order, with as few (vectored) writes as the socket allows.
async fn write_frames<W: AsyncWrite + Unpin>(
    writer: &mut W,
    frames: &mut [Bytes],
) -> std::io::Result<()> {
    let mut done = 0; // frames written whole
    loop {
        while done < frames.len() && frames[done].is_empty() {
            done += 1;
        }
        if done == frames.len() {
            return Ok(());
        }
        let n = if frames.len() - done == 1 {
            writer.write(&frames[done]).await?
        } else {
            // On the heap, not in this future: an idle connection's writer stays small.
            let slices: Vec<IoSlice<'_>> = frames[done..].iter().map(|f| IoSlice::new(f)).collect();
            writer.write_vectored(&slices).await?
        };
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        let mut left = n;
        while left > 0 {
            let len = frames[done].len();
            if left >= len {
                left -= len;
                done += 1;
            } else {
                frames[done].advance(left);
                left = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn writes_in_order_and_closes_after_flushing() {
        let (a, mut b) = tokio::io::duplex(64);
        let out = Outbox::spawn(a, 100, CancellationToken::new());
        for i in 0..50u8 {
            out.send(Bytes::from(vec![i])).unwrap();
        }
        out.close();
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, (0..50u8).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_peer_that_does_not_read_is_cut() {
        let (a, _b) = tokio::io::duplex(8);
        let cut = CancellationToken::new();
        let out = Outbox::spawn(a, 4, cut.clone());
        let mut result = Ok(());
        for _ in 0..100 {
            result = out.send(Bytes::from_static(b"0123456789"));
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(SendError::Full));
        assert!(cut.is_cancelled());
        assert_eq!(out.send(Bytes::from_static(b"x")), Err(SendError::Closed));
    }

    #[cfg(feature = "server")]
    #[tokio::test]
    async fn a_few_big_frames_fill_the_byte_bound() {
        let (a, _b) = tokio::io::duplex(8);
        let cut = CancellationToken::new();
        let out = Outbox::spawn(a, 1000, cut.clone());
        out.set_byte_limit(1000);
        // One frame bigger than the bound goes where nothing waits before it.
        out.send(Bytes::from(vec![0u8; 1500])).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let mut result = Ok(());
        let mut sent = 0;
        for _ in 0..100 {
            result = out.send(Bytes::from(vec![1u8; 300]));
            if result.is_err() {
                break;
            }
            sent += 1;
        }
        assert_eq!(result, Err(SendError::Full));
        assert!(
            sent <= 4,
            "{sent} frames of 300 bytes queued under a bound of 1000"
        );
        assert!(cut.is_cancelled());
    }
}
