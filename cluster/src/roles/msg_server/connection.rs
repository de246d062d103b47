//! One connection's read loop: read frames, hand what arrived together to [`dispatch`], and
//! end the connection (logout, unsubscribe) when the peer goes, goes silent or misbehaves.
//!
//! Commands on one connection are acted on one after another, so a client's messages keep
//! their order and `SYNC` is a true barrier. Nothing a client sends can end anything but
//! its own connection. The frames a client sent at once are taken together: consecutive
//! p2p sends and acks among them make one trip to the store, then take effect in order.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;

use super::peer::{ConnId, Peer, Reject};
use super::refuse::{close_original, refuse, report_left};
use super::server::Server;
use super::{dispatch, login};
use crate::outbox::Outbox;
use crate::protocol::{ErrorCode, FrameCodec, FrameError, Level};

/// The most frames acted on as one batch: what a client sent at once, up to this, and up
/// to a quarter of a client's queue, so that one batch of messages to one receiver never
/// fills the receiver's queue by itself (a full queue cuts it off as not reading).
const PIPELINE: usize = 256;

/// A connection's first read buffer: enough for a login and a ping.
const MIN_READ: usize = 512;
/// The most a connection reads at once.
const MAX_READ: usize = 64 * 1024;

/// A connection's incoming frames.
///
/// Memory is what bounds how many idle connections a server holds, so the read buffer
/// starts small and is kept small while the client sends little. A read that fills the
/// buffer doubles the next one (up to [`MAX_READ`]), so a busy client is read many frames
/// at a time; its bigger buffer is let go once every frame in it has been acted on.
struct Frames {
    rd: OwnedReadHalf,
    buf: BytesMut,
    codec: FrameCodec,
    /// How much the next read asks for.
    chunk: usize,
}

impl Frames {
    fn new(rd: OwnedReadHalf, codec: FrameCodec) -> Frames {
        Frames {
            rd,
            buf: BytesMut::new(),
            codec,
            chunk: MIN_READ,
        }
    }

    /// The next frame, reading as needed; `None` once the peer has closed.
    async fn next(&mut self) -> Option<Result<Bytes, FrameError>> {
        loop {
            if let Some(frame) = self.buffered() {
                return Some(frame);
            }
            if self.buf.capacity() - self.buf.len() < MIN_READ / 2 {
                self.buf.reserve(self.chunk);
            }
            let room = self.buf.capacity() - self.buf.len();
            match self.rd.read_buf(&mut self.buf).await {
                // A frame cut short by the close is dropped with the connection.
                Ok(0) => return None,
                Ok(n) if n == room => self.chunk = (self.chunk * 2).min(MAX_READ),
                Ok(_) => {}
                Err(e) => return Some(Err(e.into())),
            }
        }
    }

    /// A whole frame that has been read already, if there is one.
    fn buffered(&mut self) -> Option<Result<Bytes, FrameError>> {
        self.codec.decode(&mut self.buf).transpose()
    }

    /// Lets go of a grown read buffer once nothing is left in it.
    fn release(&mut self) {
        if self.buf.is_empty() && self.buf.capacity() > MIN_READ {
            self.buf = BytesMut::new();
        }
    }
}

/// Serves one accepted connection, `conn_id`, from `addr`, until it ends or `cut` is
/// cancelled.
pub(crate) async fn serve(
    server: Arc<Server>,
    stream: TcpStream,
    addr: SocketAddr,
    conn_id: ConnId,
    cut: CancellationToken,
) {
    let (rd, wr) = stream.into_split();
    let outbox = Outbox::spawn(wr, server.cfg.client_queue, cut.clone());
    outbox.set_byte_limit(server.cfg.client_queue_bytes);
    let mut frames = Frames::new(rd, FrameCodec::new(server.cfg.common.max_frame));
    let mut peer = Peer::new(conn_id, addr, outbox);
    let idle = server.cfg.scan_dead_session_timeout * 2;
    let pipeline = PIPELINE.min(server.cfg.client_queue / 4).max(1);
    loop {
        let next = tokio::select! {
            _ = cut.cancelled() => {
                if peer.outbox.queued() > 0 || peer.session.is_some() {
                    tracing::debug!(conn = conn_id, peer = %addr, "connection cut");
                }
                break;
            }
            n = tokio::time::timeout(idle, frames.next()) => n,
        };
        let Ok(first) = next else {
            tracing::info!(conn = conn_id, peer = %addr, client = ?peer.session.as_ref().map(|s| &s.id), "dropping silent session");
            break;
        };
        // Every whole frame already here is taken with the first, so that a run of p2p
        // messages or acks shares one trip to the store (see [`dispatch`]).
        let mut bodies = Vec::new();
        let mut end = None;
        let mut next = Some(first);
        while let Some(n) = next.take() {
            match n {
                Some(Ok(body)) => bodies.push(body),
                other => {
                    end = Some(other);
                    break;
                }
            }
            if bodies.len() < pipeline {
                next = frames.buffered().map(Some);
            }
        }
        // Boxed: what acting on a batch needs is held only while it runs, not for as long
        // as the connection is open.
        Box::pin(dispatch::batch(&server, &mut peer, bodies)).await;
        frames.release();
        // A client that pipelines requests gets their answers at the pace it reads them:
        // the next batch waits for room rather than overflow the queue (which cuts a client
        // as not reading). One that takes nothing for the dead-session time is cut.
        let half = (peer.outbox.limit() / 2).max(1);
        if end.is_none() && peer.outbox.queued() >= half && !peer.outbox.wait_room(half, idle).await
        {
            tracing::info!(conn = conn_id, peer = %addr, "client stopped reading its answers");
            peer.outbox.cut();
            break;
        }
        match end {
            None | Some(Some(Ok(_))) => {}
            Some(None) => break,
            Some(Some(Err(FrameError::TooLong { len, max }))) => {
                let key = format!("too-long:{}", crate::auth::source_key(addr.ip()));
                if let Some(n) = server.client_errors.failed(&key, std::time::Instant::now()) {
                    tracing::warn!(conn = conn_id, peer = %addr, len, max, closed = n, "closing connection: frame too long");
                }
                let reject = Reject::new(
                    ErrorCode::FrameTooLong,
                    format!("frame of {len} bytes is over the maximum of {max}; closing"),
                );
                if peer.level == Level::Original {
                    close_original(&server, &peer, None, reject);
                } else {
                    refuse(&server, &peer, None, reject);
                    peer.outbox.close();
                }
                break;
            }
            Some(Some(Err(FrameError::Io(e)))) => {
                tracing::debug!(conn = conn_id, peer = %addr, error = %e, "read failed");
                break;
            }
        }
    }
    report_left(&server, &peer);
    server.channels.remove(peer.conn_id, &peer.subscribed);
    if let Some(session) = peer.session.take() {
        login::logout(&server, &peer, session).await;
    }
    // Let queued frames (an ERROR before a close) go out, but not forever.
    peer.outbox.finish(crate::roles::status::FINISH_GRACE).await;
}
