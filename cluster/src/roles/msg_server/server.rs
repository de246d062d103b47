//! The state every connection of one msg_server shares: the table of logged-in sessions, the
//! internal channels' subscribers, the counters and the store, and how a frame is written to
//! a session or published on a channel.
//!
//! The bottom of the msg_server with [`super::peer`], whose sessions it holds: every handler
//! takes a [`Server`]; this module imports none of them.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use bytes::Bytes;
use dashmap::DashMap;

use super::peer::{ConnId, MessageKey, Session};
use crate::config::MsgServerConfig;
use crate::outbox::{Outbox, SendError};
use crate::protocol::{Channel, Level, LevelFrames};
use crate::roles::budget::Budget;
use crate::store::{SessionLoc, Store};

/// How many dropped-frame reports (a log line and a `FRAME_DROPPED` each) one msg_server
/// makes a second, at most, whatever the number of connections: the rest wait, counted.
const DROP_REPORTS_PER_SEC: u32 = 20;

/// State shared by every connection of one msg_server.
pub(crate) struct Server {
    pub cfg: MsgServerConfig,
    /// The advertised address: this server's name in the session store.
    pub addr: String,
    pub store: Arc<dyn Store>,
    pub sessions: Sessions,
    pub channels: Channels,
    pub stats: Stats,
    /// Reports of frames dropped at the original level, for the whole server (see
    /// [`super::refuse`]).
    pub drop_reports: Budget,
    /// Password hashing and the limits on failed sign-ins.
    pub sign_ins: crate::auth::SignIns,
    /// Client errors worth a warning (a wrong cluster secret, a frame too long), counted by
    /// kind and source address so that each is logged at most once a minute, with how many
    /// there were (only [`crate::auth::Limiter::failed`]'s count is used: nothing is barred).
    pub client_errors: crate::auth::Limiter,
    next_conn_id: AtomicU64,
    pub started: Instant,
}

impl Server {
    /// `topics_here`: how many topics have this server as their home already.
    pub fn new(
        cfg: MsgServerConfig,
        addr: String,
        store: Arc<dyn Store>,
        topics_here: u64,
    ) -> Server {
        Server {
            cfg,
            addr,
            store,
            sessions: Sessions::default(),
            channels: Channels::default(),
            stats: Stats::new(topics_here),
            drop_reports: Budget::new(DROP_REPORTS_PER_SEC),
            sign_ins: crate::auth::SignIns::default(),
            client_errors: crate::auth::Limiter::new(crate::auth::limiter::Policy::PER_ADDR),
            next_conn_id: AtomicU64::new(1),
            started: Instant::now(),
        }
    }

    /// A connection id this server has not given before.
    pub(crate) fn next_conn_id(&self) -> ConnId {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Writes a message to `to`, as its level has it, unless it was given the same message
    /// already (see [`Session::first_sight`]); whether it was written.
    pub fn deliver(
        &self,
        to: &Session,
        key: MessageKey,
        frames: &mut LevelFrames,
        expects_ack: bool,
    ) -> bool {
        let Some(frame) = frames.get(to.level) else {
            return false;
        };
        to.first_sight(key, expects_ack, &self.stats.pending_acks) && self.write(to, frame)
    }

    /// Writes any frame to `to`, as its level has it (nothing, where it has none); a
    /// connection that is not reading is cut.
    pub fn send(&self, to: &Session, frames: &mut LevelFrames) -> bool {
        match frames.get(to.level) {
            Some(frame) => self.write(to, frame),
            None => false,
        }
    }

    fn write(&self, to: &Session, frame: Bytes) -> bool {
        match to.outbox.send(frame) {
            Ok(()) => true,
            Err(SendError::Full) => {
                self.stats.slow_drops.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(server = %self.addr, client = %to.id, conn = to.conn_id, "cutting off a client that is not reading");
                false
            }
            Err(SendError::Closed) => false,
        }
    }

    /// Where `session` is, as the session store knows it.
    pub fn loc(&self, session: &Session) -> SessionLoc {
        SessionLoc {
            server: self.addr.clone(),
            conn: session.conn_id,
        }
    }

    /// Queues `frames` for every subscriber of `ch`, as each one's level has it; a
    /// subscriber that is not reading is cut like any other connection, with more room
    /// first (see `MsgServerConfig::internal_queue`).
    pub(crate) fn publish(&self, ch: Channel, mut frames: LevelFrames) {
        if !self.channels.has(ch) {
            return;
        }
        let subs = self.channels.subs[ch.index()]
            .read()
            .unwrap_or_else(|p| p.into_inner());
        for s in subs.iter() {
            let Some(frame) = frames.get(s.level) else {
                continue;
            };
            if let Err(SendError::Full) = s.outbox.send(frame) {
                self.stats.slow_drops.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(server = %self.addr, channel = %ch, conn = s.conn_id, "cutting off a subscriber that is not reading");
            }
        }
    }
}

/// The logged-in sessions here, by id.
///
/// One id may hold several sessions (devices), here and on other msg_servers. The table is
/// sharded (DashMap): no global lock on the message path.
#[derive(Default)]
pub(crate) struct Sessions {
    by_id: DashMap<String, Vec<Arc<Session>>>,
    count: AtomicU64,
}

impl Sessions {
    pub fn add(&self, s: Arc<Session>) {
        self.by_id.entry(s.id.clone()).or_default().push(s);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn remove(&self, s: &Session) {
        let mut removed = false;
        self.by_id.remove_if_mut(&s.id, |_, v| {
            let before = v.len();
            v.retain(|x| x.conn_id != s.conn_id);
            removed = v.len() < before;
            v.is_empty()
        });
        if removed {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The sessions of `id` on this server.
    pub fn get(&self, id: &str) -> Vec<Arc<Session>> {
        self.by_id.get(id).map(|v| v.clone()).unwrap_or_default()
    }

    /// Every session, ordered by id then connection.
    pub fn all(&self) -> Vec<Arc<Session>> {
        let mut all: Vec<Arc<Session>> =
            self.by_id.iter().flat_map(|e| e.value().clone()).collect();
        all.sort_by(|a, b| (&a.id, a.conn_id).cmp(&(&b.id, b.conn_id)));
        all
    }

    /// Logged-in connections.
    pub fn connections(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Distinct logged-in ids.
    pub fn ids(&self) -> u64 {
        self.by_id.len() as u64
    }
}

/// Who listens on each internal channel.
///
/// Each channel has its own subscriber list behind its own lock, held only to copy frames
/// into outboxes (never across an await).
#[derive(Default)]
pub(crate) struct Channels {
    subs: [RwLock<Vec<Subscriber>>; 7],
    counts: [AtomicUsize; 7],
}

struct Subscriber {
    conn_id: ConnId,
    outbox: Outbox,
    level: Level,
}

impl Channels {
    /// Whether anyone listens on `ch`; lets publishers skip building events nobody reads.
    pub fn has(&self, ch: Channel) -> bool {
        self.counts[ch.index()].load(Ordering::Relaxed) > 0
    }

    pub fn subscribers(&self, ch: Channel) -> usize {
        self.counts[ch.index()].load(Ordering::Relaxed)
    }

    /// Adds connection `conn_id`, at `level`, written through `outbox`, to the subscribers
    /// of `ch`.
    pub fn add(&self, ch: Channel, conn_id: ConnId, outbox: Outbox, level: Level) {
        self.subs[ch.index()]
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(Subscriber {
                conn_id,
                outbox,
                level,
            });
        self.counts[ch.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Takes connection `conn_id` off each of `channels`.
    pub fn remove(&self, conn_id: ConnId, channels: &[Channel]) {
        for ch in channels {
            let mut subs = self.subs[ch.index()]
                .write()
                .unwrap_or_else(|p| p.into_inner());
            let before = subs.len();
            subs.retain(|s| s.conn_id != conn_id);
            self.counts[ch.index()].fetch_sub(before - subs.len(), Ordering::Relaxed);
        }
    }
}

/// Counters of one msg_server; [`super::stats`] makes `ROLE_STATUS` answers and monitor
/// beats of them.
pub(crate) struct Stats {
    pub msg_in: AtomicU64,
    pub msg_out: AtomicU64,
    pub acks: AtomicU64,
    pub slow_drops: AtomicU64,
    /// Frames from original-level connections refused without a word (see
    /// [`super::refuse`]).
    pub original_drops: AtomicU64,
    pub topics_here: AtomicU64,
    /// p2p messages written to connections here and not acked by them yet; see
    /// [`Session::first_sight`].
    pub pending_acks: AtomicU64,
    /// The store's `pending_total` at the last beat; [`UNKNOWN`] where it cannot say.
    offline_depth: AtomicU64,
}

/// `offline_depth` not known (the store cannot count, or did not answer).
const UNKNOWN: u64 = u64::MAX;

impl Stats {
    pub fn new(topics_here: u64) -> Self {
        Self {
            msg_in: AtomicU64::new(0),
            msg_out: AtomicU64::new(0),
            acks: AtomicU64::new(0),
            slow_drops: AtomicU64::new(0),
            original_drops: AtomicU64::new(0),
            topics_here: AtomicU64::new(topics_here),
            pending_acks: AtomicU64::new(0),
            offline_depth: AtomicU64::new(UNKNOWN),
        }
    }

    /// The store's `pending_total` at the last beat, where known.
    pub fn offline_depth(&self) -> Option<u64> {
        Some(self.offline_depth.load(Ordering::Relaxed)).filter(|n| *n != UNKNOWN)
    }

    pub(crate) fn set_offline_depth(&self, depth: Option<u64>) {
        let stored = depth.map_or(UNKNOWN, |n| n.min(UNKNOWN - 1));
        self.offline_depth.store(stored, Ordering::Relaxed);
    }
}
