//! The internal channels: `SUBSCRIBE_CHANNEL` and publishing to subscribers.
//!
//! Each channel has its own subscriber list behind its own lock, held only to copy frames
//! into outboxes (never across an await). A subscriber that stops reading is cut like any
//! other connection, with more room first (see `MsgServerConfig::internal_queue`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::RwLock;

use bytes::Bytes;

use super::connection::Conn;
use super::{Reject, Server};
use crate::outbox::{Outbox, SendError};
use crate::protocol::{Channel, ErrorCode};

struct Sub {
    conn: u64,
    outbox: Outbox,
}

#[derive(Default)]
pub(crate) struct Channels {
    subs: [RwLock<Vec<Sub>>; 7],
    counts: [AtomicUsize; 7],
}

impl Channels {
    /// Whether anyone listens on `ch`; lets publishers skip building events nobody reads.
    pub fn has(&self, ch: Channel) -> bool {
        self.counts[ch.index()].load(Ordering::Relaxed) > 0
    }

    pub fn subscribers(&self, ch: Channel) -> usize {
        self.counts[ch.index()].load(Ordering::Relaxed)
    }

    /// `SUBSCRIBE_CHANNEL [channel, subscriber_id, secret?]`.
    pub fn subscribe(
        &self,
        server: &Server,
        conn: &mut Conn,
        channel: &str,
        subscriber: &str,
        secret: Option<String>,
    ) -> Result<(), Reject> {
        check_secret(
            server,
            conn,
            secret.as_deref(),
            "SUBSCRIBE_CHANNEL [channel, subscriber_id, secret]",
        )?;
        let ch: Channel =
            channel
                .parse()
                .map_err(|e: crate::protocol::channel::UnknownChannel| {
                    Reject::new(ErrorCode::BadArgs, e.to_string())
                })?;
        make_internal(server, conn);
        if conn.subscribed.contains(&ch) {
            return Ok(());
        }
        conn.subscribed.push(ch);
        self.subs[ch.index()]
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(Sub {
                conn: conn.id,
                outbox: conn.outbox.clone(),
            });
        self.counts[ch.index()].fetch_add(1, Ordering::Relaxed);
        tracing::debug!(server = %server.addr, peer = %conn.peer, subscriber, channel = %ch, "subscribed");
        if ch == Channel::Monitor {
            // A new watcher gets a beat at once rather than after a whole period.
            let _ = conn.outbox.send(super::stats::beat_frame(server));
        }
        Ok(())
    }

    pub fn unsubscribe_all(&self, conn: &Conn) {
        for ch in &conn.subscribed {
            let mut subs = self.subs[ch.index()]
                .write()
                .unwrap_or_else(|p| p.into_inner());
            let before = subs.len();
            subs.retain(|s| s.conn != conn.id);
            self.counts[ch.index()].fetch_sub(before - subs.len(), Ordering::Relaxed);
        }
    }

    /// Queues `frame` for every subscriber of `ch`.
    pub fn publish(&self, server: &Server, ch: Channel, frame: Bytes) {
        if !self.has(ch) {
            return;
        }
        let subs = self.subs[ch.index()]
            .read()
            .unwrap_or_else(|p| p.into_inner());
        for s in subs.iter() {
            if let Err(SendError::Full) = s.outbox.send(frame.clone()) {
                server.stats.slow_drops.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(server = %server.addr, channel = %ch, conn = s.conn, "cutting off a subscriber that is not reading");
            }
        }
    }
}

/// Checks a presented cluster secret: where the cluster has one, a missing (`usage` says
/// how to give it) or wrong secret is `FORBIDDEN`. Shared by `SUBSCRIBE_CHANNEL` and `AUTH`.
pub(crate) fn check_secret(
    server: &Server,
    conn: &Conn,
    secret: Option<&str>,
    usage: &str,
) -> Result<(), Reject> {
    let Some(want) = &server.cfg.common.secret else {
        return Ok(());
    };
    match secret {
        None => Err(Reject::new(
            ErrorCode::Forbidden,
            format!("this cluster needs its secret: {usage}"),
        )),
        Some(s) if !constant_time_eq(s.as_bytes(), want.as_bytes()) => {
            tracing::warn!(server = %server.addr, peer = %conn.peer, "refused: wrong cluster secret");
            Err(Reject::new(ErrorCode::Forbidden, "wrong cluster secret"))
        }
        Some(_) => Ok(()),
    }
}

/// The connection presented the secret: it may send internal commands, and gets the larger
/// queue internal links need.
pub(crate) fn make_internal(server: &Server, conn: &mut Conn) {
    if !conn.internal {
        conn.internal = true;
        conn.outbox.set_limit(server.cfg.internal_queue);
    }
}

/// Compares secrets without leaking through timing how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
