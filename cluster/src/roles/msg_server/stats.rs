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
}

impl Stats {
    pub fn new(topics_here: u64) -> Self {
        Self {
            msg_in: AtomicU64::new(0),
            msg_out: AtomicU64::new(0),
            acks: AtomicU64::new(0),
            slow_drops: AtomicU64::new(0),
            topics_here: AtomicU64::new(topics_here),
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
        uptime_secs: s.uptime_secs,
        time_ms: now_ms(),
    };
    bare_frame(&serde_json::to_value(beat).unwrap_or_default())
}

/// Publishes a beat every `MonitorBeatTime`.
pub(crate) async fn beat_loop(server: Arc<Server>, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(server.cfg.monitor_beat);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        if server.channels.has(Channel::Monitor) {
            server
                .channels
                .publish(&server, Channel::Monitor, beat_frame(&server));
        }
    }
}
