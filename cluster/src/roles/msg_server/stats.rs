//! Counters of one msg_server and the beat it publishes on `/sysctrl/monitor`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::Server;
use crate::protocol::envelope::bare_frame;
use crate::protocol::events::{now_ms, MonitorBeat};
use crate::protocol::Channel;

pub(crate) struct Stats {
    pub msg_in: AtomicU64,
    pub msg_out: AtomicU64,
    pub acks: AtomicU64,
    pub slow_drops: AtomicU64,
    pub topics_here: AtomicU64,
    /// p2p messages written to connections here and not acked by them yet; see
    /// `LocalConn::deliver`.
    pub pending_acks: AtomicU64,
    /// The store's `pending_total` at the last beat; [`UNKNOWN`] where it cannot say.
    pub offline_depth: AtomicU64,
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
            topics_here: AtomicU64::new(topics_here),
            pending_acks: AtomicU64::new(0),
            offline_depth: AtomicU64::new(UNKNOWN),
        }
    }

    pub fn snapshot(&self, server: &Server) -> StatsSnapshot {
        StatsSnapshot {
            server: server.addr.clone(),
            connections: server.sessions.connections(),
            clients: server.sessions.ids(),
            topics_here: self.topics_here.load(Ordering::Relaxed),
            msg_in: self.msg_in.load(Ordering::Relaxed),
            msg_out: self.msg_out.load(Ordering::Relaxed),
            acks: self.acks.load(Ordering::Relaxed),
            slow_drops: self.slow_drops.load(Ordering::Relaxed),
            pending_acks: self.pending_acks.load(Ordering::Relaxed),
            offline_depth: Some(self.offline_depth.load(Ordering::Relaxed))
                .filter(|n| *n != UNKNOWN),
            subscribers: Channel::ALL
                .iter()
                .map(|c| (c.as_str().to_string(), server.channels.subscribers(*c)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            uptime_secs: server.started.elapsed().as_secs(),
            store: server.store.backend().to_string(),
        }
    }
}

/// A msg_server's state, answered to `ROLE_STATUS`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct StatsSnapshot {
    pub server: String,
    pub connections: u64,
    pub clients: u64,
    pub topics_here: u64,
    pub msg_in: u64,
    pub msg_out: u64,
    pub acks: u64,
    pub slow_drops: u64,
    pub pending_acks: u64,
    /// Messages in every inbox of the store; `None` where the store cannot count them.
    pub offline_depth: Option<u64>,
    pub subscribers: std::collections::BTreeMap<String, usize>,
    pub uptime_secs: u64,
    pub store: String,
}

pub(crate) fn beat_frame(server: &Server) -> Bytes {
    let s = server.stats.snapshot(server);
    let beat = MonitorBeat {
        session_num: s.connections,
        server: s.server,
        client_num: s.clients,
        topic_num: s.topics_here,
        msg_in: s.msg_in,
        msg_out: s.msg_out,
        acks: s.acks,
        slow_drops: s.slow_drops,
        pending_acks: s.pending_acks,
        offline_depth: s.offline_depth,
        uptime_secs: s.uptime_secs,
        time_ms: now_ms(),
    };
    bare_frame(&serde_json::to_value(beat).unwrap_or_default())
}

/// Asks the store how deep the offline queue is, for the next beats. Bounded by one beat
/// period: a slow store makes the figure unknown rather than the beat late.
async fn refresh_offline_depth(server: &Server) {
    let asked = tokio::time::timeout(server.cfg.monitor_beat, server.store.pending_total()).await;
    let depth = match asked {
        Ok(Ok(Some(n))) => n.min(UNKNOWN - 1),
        Ok(Ok(None)) => UNKNOWN,
        Ok(Err(e)) => {
            tracing::debug!(server = %server.addr, error = %e, "offline queue depth unavailable");
            UNKNOWN
        }
        Err(_) => UNKNOWN,
    };
    server.stats.offline_depth.store(depth, Ordering::Relaxed);
}

/// Publishes a beat every `MonitorBeatTime`.
pub(crate) async fn beat_loop(server: Arc<Server>, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(server.cfg.monitor_beat);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    refresh_offline_depth(&server).await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        if server.channels.has(Channel::Monitor) {
            refresh_offline_depth(&server).await;
            server
                .channels
                .publish(&server, Channel::Monitor, beat_frame(&server));
        }
    }
}
