//! One connection's outgoing side: a writer task fed by an [`Outbox`].
//!
//! Every role reads in its own task and writes through an outbox, so a reader never waits
//! on a socket write. The outbox is bounded by a frame count: a peer that stops reading
//! fills it, and the next send cuts the connection instead of growing memory or blocking
//! whoever is sending (a slow client never stalls anyone else).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
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
pub struct Outbox {
    tx: mpsc::UnboundedSender<Out>,
    queued: Arc<AtomicUsize>,
    limit: Arc<AtomicUsize>,
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
        tokio::spawn(write_loop(writer, rx, queued.clone(), cut.clone()));
        Outbox {
            tx,
            queued,
            limit: Arc::new(AtomicUsize::new(limit)),
            cut,
        }
    }

    /// Queues one frame (already encoded, header included).
    pub fn send(&self, frame: Bytes) -> Result<(), SendError> {
        if self.cut.is_cancelled() {
            return Err(SendError::Closed);
        }
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.limit.load(Ordering::Relaxed) {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            self.cut.cancel();
            return Err(SendError::Full);
        }
        self.tx.send(Out::Frame(frame)).map_err(|_| {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            SendError::Closed
        })
    }

    /// Writes what is queued, then closes the connection.
    pub fn close(&self) {
        let _ = self.tx.send(Out::Close);
    }

    /// Cuts the connection now, dropping what is queued.
    pub fn cut(&self) {
        self.cut.cancel();
    }

    /// Raises or lowers how many frames may wait (internal links get more room).
    pub fn set_limit(&self, limit: usize) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// Frames waiting to be written.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    pub fn is_closed(&self) -> bool {
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

async fn write_loop<W>(
    writer: W,
    mut rx: mpsc::UnboundedReceiver<Out>,
    queued: Arc<AtomicUsize>,
    cut: CancellationToken,
) where
    W: AsyncWrite + Unpin + Send,
{
    let mut w = BufWriter::with_capacity(16 * 1024, writer);
    let result: std::io::Result<()> = async {
        loop {
            let first = tokio::select! {
                _ = cut.cancelled() => return Ok(()),
                m = rx.recv() => m,
            };
            let Some(mut next) = first else {
                return w.shutdown().await;
            };
            // Write everything that is ready, then flush once.
            loop {
                match next {
                    Out::Frame(frame) => {
                        queued.fetch_sub(1, Ordering::AcqRel);
                        tokio::select! {
                            _ = cut.cancelled() => return Ok(()),
                            r = w.write_all(&frame) => r?,
                        }
                    }
                    Out::Close => {
                        tokio::select! {
                            _ = cut.cancelled() => {}
                            r = async { w.flush().await?; w.shutdown().await } => r?,
                        }
                        return Ok(());
                    }
                }
                match rx.try_recv() {
                    Ok(m) => next = m,
                    Err(_) => break,
                }
            }
            tokio::select! {
                _ = cut.cancelled() => return Ok(()),
                r = w.flush() => r?,
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
}
