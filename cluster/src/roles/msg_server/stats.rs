//! What a msg_server says of itself: its `ROLE_STATUS` answer, and the beat it publishes on
//! `/sysctrl/monitor`. The counters they are made of are the server's
//! ([`super::server::Stats`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::server::Server;
use crate::protocol::envelope::bare_frame;
use crate::protocol::events::{now_ms, MonitorBeat};
use crate::protocol::{Channel, LevelFrames};

/// What `ROLE_STATUS` answers: the counters ([`super::server::Stats`]) and the tables' sizes.
pub(crate) fn snapshot(server: &Server) -> StatsSnapshot {
    let stats = &server.stats;
    StatsSnapshot {
        server: server.addr.clone(),
        connections: server.sessions.connections(),
        clients: server.sessions.ids(),
        topics_here: stats.topics_here.load(Ordering::Relaxed),
        msg_in: stats.msg_in.load(Ordering::Relaxed),
        msg_out: stats.msg_out.load(Ordering::Relaxed),
        acks: stats.acks.load(Ordering::Relaxed),
        slow_drops: stats.slow_drops.load(Ordering::Relaxed),
        original_drops: stats.original_drops.load(Ordering::Relaxed),
        pending_acks: stats.pending_acks.load(Ordering::Relaxed),
        offline_depth: stats.offline_depth(),
        subscribers: Channel::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), server.channels.subscribers(*c)))
            .filter(|(_, n)| *n > 0)
            .collect(),
        uptime_secs: server.started.elapsed().as_secs(),
        store: server.store.backend().to_string(),
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
    /// Frames from original-level connections dropped instead of answered `ERROR`.
    #[serde(default)]
    pub original_drops: u64,
    pub pending_acks: u64,
    /// Messages in every inbox of the store; `None` where the store cannot count them.
    pub offline_depth: Option<u64>,
    pub subscribers: std::collections::BTreeMap<String, usize>,
    pub uptime_secs: u64,
    pub store: String,
}

pub(crate) fn beat_frame(server: &Server) -> Bytes {
    let s = snapshot(server);
    let beat = MonitorBeat {
        session_num: s.connections,
        server: s.server,
        client_num: s.clients,
        topic_num: s.topics_here,
        msg_in: s.msg_in,
        msg_out: s.msg_out,
        acks: s.acks,
        slow_drops: s.slow_drops,
        original_drops: s.original_drops,
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
        Ok(Ok(depth)) => depth,
        Ok(Err(e)) => {
            tracing::debug!(server = %server.addr, error = %e, "offline queue depth unavailable");
            None
        }
        Err(_) => None,
    };
    server.stats.set_offline_depth(depth);
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
            server.publish(Channel::Monitor, LevelFrames::same(beat_frame(&server)));
        }
    }
}
