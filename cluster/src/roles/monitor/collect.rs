//! Collecting: one link per msg_server subscribed to `/sysctrl/monitor` (the link
//! reconnects by itself, so a msg_server that is down is retried), the latest beat of each
//! and the rates between beats; the other roles' `ROLE_STATUS`, asked periodically; and
//! the views the HTTP side and the metrics are made from.
//!
//! A msg_server is up while its link is connected and its beats keep coming: three beat
//! periods without one and it is down, as the gateway judges it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::history::Sample;
use crate::link::{LinkEvent, LinkHandle};
use crate::protocol::events::{now_ms, MonitorBeat};

/// One watched msg_server.
pub struct Watched {
    pub addr: String,
    pub link: LinkHandle,
    state: Mutex<ServerState>,
}

#[derive(Debug, Default)]
struct ServerState {
    link_up: bool,
    last_beat: Option<Instant>,
    beat: Option<MonitorBeat>,
    beats: u64,
    in_rate: f64,
    out_rate: f64,
    /// Whether it was up when last looked at, and since when (Unix ms).
    was_up: bool,
    since_ms: Option<u64>,
    down_reason: Option<String>,
}

/// A msg_server as the API shows it. Live figures are `null` while it is down; the
/// counters keep their last known values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerView {
    pub addr: String,
    pub up: bool,
    /// Unix ms of the last change between up and down; `null` before the first.
    pub since_ms: Option<u64>,
    pub last_beat_ms_ago: Option<u64>,
    /// Why it is down, where the link knows.
    pub down_reason: Option<String>,
    pub sessions: Option<u64>,
    pub clients: Option<u64>,
    pub topics: Option<u64>,
    pub pending_acks: Option<u64>,
    pub msg_in_per_sec: Option<f64>,
    pub msg_out_per_sec: Option<f64>,
    pub uptime_secs: Option<u64>,
    pub msg_in: Option<u64>,
    pub msg_out: Option<u64>,
    pub acks: Option<u64>,
    pub slow_drops: Option<u64>,
    /// Frames from original-level clients dropped instead of answered `ERROR`.
    pub original_drops: Option<u64>,
    /// The store's offline queue as this server last reported it.
    pub offline_depth: Option<u64>,
    pub beats: u64,
}

impl Watched {
    pub fn new(addr: String, link: LinkHandle) -> Watched {
        Watched {
            addr,
            link,
            state: Mutex::new(ServerState::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ServerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes in one event of this server's link.
    pub fn on_event(&self, ev: LinkEvent) {
        let mut s = self.state();
        match ev {
            LinkEvent::Up => {
                s.link_up = true;
                s.down_reason = None;
            }
            LinkEvent::Down { reason } => {
                s.link_up = false;
                s.down_reason = Some(reason);
                s.in_rate = 0.0;
                s.out_rate = 0.0;
            }
            LinkEvent::Beat(m) => match serde_json::from_value::<MonitorBeat>(m.into()) {
                Ok(beat) => {
                    let now = Instant::now();
                    if let (Some(prev), Some(at)) = (s.beat.take(), s.last_beat) {
                        let dt_ms = match beat.time_ms.checked_sub(prev.time_ms) {
                            // The server's own clock, where it sends one.
                            Some(d) if beat.time_ms > 0 && prev.time_ms > 0 => d,
                            _ => now.duration_since(at).as_millis() as u64,
                        };
                        let restarted = beat.uptime_secs < prev.uptime_secs;
                        s.in_rate = rate(prev.msg_in, beat.msg_in, dt_ms, restarted, s.in_rate);
                        s.out_rate = rate(prev.msg_out, beat.msg_out, dt_ms, restarted, s.out_rate);
                    }
                    s.beat = Some(beat);
                    s.last_beat = Some(now);
                    s.beats += 1;
                }
                Err(e) => {
                    tracing::warn!(server = %self.addr, error = %e, "ignoring a beat that does not parse")
                }
            },
            LinkEvent::Command(_) => {}
        }
    }

    pub fn view(&self, stale_after: Duration) -> ServerView {
        let mut s = self.state();
        let up = up(&s, stale_after);
        if up != s.was_up || s.since_ms.is_none() && s.beats > 0 {
            s.was_up = up;
            s.since_ms = Some(now_ms());
        }
        let live = |v: u64| up.then_some(v);
        let b = s.beat.clone();
        ServerView {
            addr: self.addr.clone(),
            up,
            since_ms: s.since_ms,
            last_beat_ms_ago: s.last_beat.map(|t| t.elapsed().as_millis() as u64),
            down_reason: if up {
                None
            } else {
                s.down_reason.clone().or_else(|| {
                    Some(match (s.link_up, s.last_beat) {
                        (true, Some(_)) => "no beat for three beat periods".to_string(),
                        (true, None) => "linked; waiting for the first beat".to_string(),
                        (false, _) => "connecting".to_string(),
                    })
                })
            },
            sessions: b.as_ref().and_then(|b| live(b.session_num)),
            clients: b.as_ref().and_then(|b| live(b.client_num)),
            topics: b.as_ref().and_then(|b| live(b.topic_num)),
            pending_acks: b.as_ref().and_then(|b| live(b.pending_acks)),
            msg_in_per_sec: up.then_some(round2(s.in_rate)),
            msg_out_per_sec: up.then_some(round2(s.out_rate)),
            uptime_secs: b.as_ref().and_then(|b| live(b.uptime_secs)),
            msg_in: b.as_ref().map(|b| b.msg_in),
            msg_out: b.as_ref().map(|b| b.msg_out),
            acks: b.as_ref().map(|b| b.acks),
            slow_drops: b.as_ref().map(|b| b.slow_drops),
            original_drops: b.as_ref().map(|b| b.original_drops),
            offline_depth: b.as_ref().and_then(|b| b.offline_depth),
            beats: s.beats,
        }
    }
}

fn up(s: &ServerState, stale_after: Duration) -> bool {
    s.link_up && s.last_beat.is_some_and(|t| t.elapsed() < stale_after)
}

/// Events per second between two readings of a counter `dt_ms` apart. A counter that went
/// back (the server restarted) counts from zero. No time between them: the last rate.
pub fn rate(before: u64, after: u64, dt_ms: u64, restarted: bool, last: f64) -> f64 {
    if dt_ms == 0 {
        return last;
    }
    let delta = if restarted || after < before {
        after
    } else {
        after - before
    };
    delta as f64 * 1000.0 / dt_ms as f64
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The cluster's totals, over the msg_servers that are up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub msg_servers: usize,
    pub up: usize,
    pub sessions: u64,
    pub clients: u64,
    pub topics: u64,
    pub pending_acks: u64,
    /// The store's offline queue (the freshest report of any msg_server that is up).
    pub offline_depth: Option<u64>,
    pub msg_in_per_sec: f64,
    pub msg_out_per_sec: f64,
    pub msg_in: u64,
    pub msg_out: u64,
    pub acks: u64,
    pub slow_drops: u64,
    pub original_drops: u64,
}

pub fn totals(views: &[ServerView]) -> Totals {
    let upv = || views.iter().filter(|v| v.up);
    let sum = |f: fn(&ServerView) -> Option<u64>| upv().filter_map(f).sum::<u64>();
    let freshest = upv()
        .filter(|v| v.offline_depth.is_some())
        .min_by_key(|v| v.last_beat_ms_ago.unwrap_or(u64::MAX))
        .and_then(|v| v.offline_depth);
    Totals {
        msg_servers: views.len(),
        up: upv().count(),
        sessions: sum(|v| v.sessions),
        clients: sum(|v| v.clients),
        topics: sum(|v| v.topics),
        pending_acks: sum(|v| v.pending_acks),
        offline_depth: freshest,
        msg_in_per_sec: round2(upv().filter_map(|v| v.msg_in_per_sec).sum()),
        msg_out_per_sec: round2(upv().filter_map(|v| v.msg_out_per_sec).sum()),
        // Counters of servers that are down still count: they happened.
        msg_in: views.iter().filter_map(|v| v.msg_in).sum(),
        msg_out: views.iter().filter_map(|v| v.msg_out).sum(),
        acks: views.iter().filter_map(|v| v.acks).sum(),
        slow_drops: views.iter().filter_map(|v| v.slow_drops).sum(),
        original_drops: views.iter().filter_map(|v| v.original_drops).sum(),
    }
}

/// One history sample from the current views.
pub fn sample(views: &[ServerView]) -> Sample {
    let t = totals(views);
    Sample {
        t: now_ms(),
        up: t.up,
        sessions: t.sessions,
        msg_in: t.msg_in_per_sec,
        msg_out: t.msg_out_per_sec,
        servers: views
            .iter()
            .map(|v| {
                v.up.then(|| {
                    [
                        v.sessions.unwrap_or(0) as f64,
                        v.msg_in_per_sec.unwrap_or(0.0),
                        v.msg_out_per_sec.unwrap_or(0.0),
                    ]
                })
            })
            .collect(),
    }
}

/// Another role, as its last `ROLE_STATUS` showed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleView {
    pub role: String,
    pub addr: String,
    pub up: bool,
    /// Unix ms of the last answer or failure; `null` before the first ask.
    pub checked_ms: Option<u64>,
    pub error: Option<String>,
    /// What it answered (`ROLE_STATUS_OK` data).
    pub status: Value,
}

impl RoleView {
    pub fn new(role: &str, addr: &str) -> RoleView {
        RoleView {
            role: role.to_string(),
            addr: addr.to_string(),
            up: false,
            checked_ms: None,
            error: None,
            status: Value::Null,
        }
    }
}

/// Asks one role for `ROLE_STATUS`, within `limit`.
pub(crate) async fn ask_role(role: &mut RoleView, limit: Duration) {
    let answer = tokio::time::timeout(limit, crate::client::role_status(&role.addr)).await;
    role.checked_ms = Some(now_ms());
    match answer {
        Ok(Ok(data)) => {
            role.up = true;
            role.error = None;
            role.status = data;
        }
        Ok(Err(e)) => {
            role.up = false;
            role.error = Some(e.to_string());
        }
        Err(_) => {
            role.up = false;
            role.error = Some(format!("no answer within {limit:?}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn watched() -> Watched {
        let (link, _rx) = crate::link::spawn(
            "127.0.0.1:9",
            vec![],
            crate::config::LinkConfig::new(Default::default(), "t"),
            {
                let t = tokio_util::sync::CancellationToken::new();
                t.cancel();
                t
            },
        );
        Watched::new("127.0.0.1:9".into(), link)
    }

    fn beat(v: Value) -> LinkEvent {
        LinkEvent::Beat(v.as_object().unwrap().clone())
    }

    #[test]
    fn rates_count_from_zero_after_a_restart() {
        assert_eq!(rate(10, 30, 2000, false, 0.0), 10.0);
        assert_eq!(rate(30, 6, 2000, false, 0.0), 3.0);
        assert_eq!(rate(3, 6, 1000, true, 0.0), 6.0);
        assert_eq!(rate(3, 6, 0, false, 1.5), 1.5);
    }

    #[tokio::test]
    async fn beats_make_a_server_up_with_rates_and_stale_beats_make_it_down() {
        let w = watched();
        let stale = Duration::from_millis(300);
        assert!(!w.view(stale).up);
        w.on_event(LinkEvent::Up);
        assert_eq!(
            w.view(stale).down_reason.as_deref(),
            Some("linked; waiting for the first beat")
        );
        w.on_event(beat(json!({"SessionNum": 3, "ClientNum": 2, "MsgIn": 10, "MsgOut": 4, "TimeMs": 1000, "UptimeSecs": 5, "PendingAcks": 1, "OfflineDepth": 7})));
        w.on_event(beat(json!({"SessionNum": 4, "ClientNum": 3, "MsgIn": 30, "MsgOut": 8, "TimeMs": 3000, "UptimeSecs": 7, "PendingAcks": 2, "OfflineDepth": 6})));
        let v = w.view(stale);
        assert!(v.up);
        assert_eq!(v.sessions, Some(4));
        assert_eq!(v.clients, Some(3));
        assert_eq!(v.msg_in_per_sec, Some(10.0));
        assert_eq!(v.msg_out_per_sec, Some(2.0));
        assert_eq!(v.pending_acks, Some(2));
        assert_eq!(v.offline_depth, Some(6));
        assert_eq!(v.beats, 2);
        assert!(v.since_ms.is_some());

        // An original msg_server's beat: only SessionNum. Still up, no rates from it.
        w.on_event(beat(json!({"SessionNum": 1})));
        assert_eq!(w.view(stale).sessions, Some(1));

        tokio::time::sleep(stale).await;
        let v = w.view(stale);
        assert!(!v.up);
        assert_eq!(
            v.sessions, None,
            "no live figures for a server that is down"
        );
        assert_eq!(v.msg_in, Some(0), "counters keep their last values");
        assert_eq!(
            v.down_reason.as_deref(),
            Some("no beat for three beat periods")
        );

        w.on_event(LinkEvent::Down {
            reason: "cannot connect: refused".into(),
        });
        assert_eq!(
            w.view(stale).down_reason.as_deref(),
            Some("cannot connect: refused")
        );
    }

    #[test]
    fn totals_add_up_the_servers_that_are_up() {
        let v = |addr: &str, up: bool, sessions: u64, depth: Option<u64>, ago: u64| ServerView {
            addr: addr.into(),
            up,
            since_ms: None,
            last_beat_ms_ago: Some(ago),
            down_reason: None,
            sessions: up.then_some(sessions),
            clients: up.then_some(sessions),
            topics: up.then_some(1),
            pending_acks: up.then_some(2),
            msg_in_per_sec: up.then_some(1.25),
            msg_out_per_sec: up.then_some(0.5),
            uptime_secs: up.then_some(9),
            msg_in: Some(10),
            msg_out: Some(5),
            acks: Some(1),
            slow_drops: Some(0),
            original_drops: Some(0),
            offline_depth: depth,
            beats: 1,
        };
        let views = [
            v("a", true, 3, Some(5), 100),
            v("b", true, 2, Some(4), 50),
            v("c", false, 9, Some(1), 10),
        ];
        let t = totals(&views);
        assert_eq!((t.msg_servers, t.up), (3, 2));
        assert_eq!(t.sessions, 5);
        assert_eq!(t.pending_acks, 4);
        assert_eq!(
            t.offline_depth,
            Some(4),
            "the freshest report of a server that is up"
        );
        assert_eq!(t.msg_in_per_sec, 2.5);
        assert_eq!(t.msg_in, 30, "counters of a down server still count");
        let s = sample(&views);
        assert_eq!(s.sessions, 5);
        assert_eq!(
            s.servers,
            vec![Some([3.0, 1.25, 0.5]), Some([2.0, 1.25, 0.5]), None]
        );
    }
}
