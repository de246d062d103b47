//! monitor: watches every msg_server and serves a live web dashboard, a JSON API and
//! Prometheus metrics (the seed's "web-based cluster monitoring on port 30000").
//!
//! - [`collect`]: links to the msg_servers (`/sysctrl/monitor` beats), up/down, rates; the
//!   other roles' `ROLE_STATUS`.
//! - [`history`]: the ring of samples behind the charts (15 minutes by default).
//! - [`http`]: the web listener: dashboard, `/api/cluster`, `/api/servers`, `/healthz`,
//!   `/metrics`, `/login`.
//! - [`metrics`]: the Prometheus text format.
//! - [`auth`]: loopback-only without a login; a hashed-password login otherwise.
//!
//! The monitor has two listeners: its role port (21000 in the seed), which answers
//! `ROLE_STATUS` like the router's and manager's, and the web port (30000).

pub mod auth;
pub mod collect;
pub mod history;
pub mod http;
pub mod metrics;

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::fleet::{self, OnLinkEvent};
use crate::config::MonitorConfig;
use crate::link::LinkEvent;
use crate::protocol::events::now_ms;
use crate::protocol::Channel;
use collect::{RoleView, ServerView, Totals, Watched};
use history::{History, Sample};

/// A msg_server whose beats stop for this many beat periods is down.
const MISSED_BEATS: u32 = 3;

/// Everything the monitor knows; shared by the collectors and the web side.
pub struct Monitor {
    servers: Vec<Watched>,
    roles: Vec<Mutex<RoleView>>,
    history: Mutex<History>,
    stale_after: Duration,
    beat: Duration,
    history_window: Duration,
    started: Instant,
    addr: String,
    web: String,
    login: bool,
}

/// `/api/cluster`: the whole picture, with the history newer than the `since` asked for.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterView {
    pub now_ms: u64,
    pub monitor: MonitorInfo,
    pub totals: Totals,
    pub servers: Vec<ServerView>,
    pub roles: Vec<RoleView>,
    pub history: Vec<Sample>,
}

/// The monitor itself.
#[derive(Debug, Clone, Serialize)]
pub struct MonitorInfo {
    pub addr: String,
    pub web: String,
    pub uptime_secs: u64,
    pub beat_ms: u64,
    /// msg_servers are down after this long without a beat.
    pub stale_after_ms: u64,
    pub history_every_ms: u64,
    pub history_window_secs: u64,
    pub login: bool,
}

impl Monitor {
    pub fn servers(&self) -> Vec<ServerView> {
        self.servers
            .iter()
            .map(|w| w.view(self.stale_after))
            .collect()
    }

    pub fn roles(&self) -> Vec<RoleView> {
        self.roles
            .iter()
            .map(|r| r.lock().unwrap_or_else(|p| p.into_inner()).clone())
            .collect()
    }

    pub fn cluster(&self, since: u64) -> ClusterView {
        let servers = self.servers();
        let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        ClusterView {
            now_ms: now_ms(),
            monitor: MonitorInfo {
                addr: self.addr.clone(),
                web: self.web.clone(),
                uptime_secs: self.started.elapsed().as_secs(),
                beat_ms: self.beat.as_millis() as u64,
                stale_after_ms: self.stale_after.as_millis() as u64,
                history_every_ms: history.every().as_millis() as u64,
                history_window_secs: self.history_window.as_secs(),
                login: self.login,
            },
            totals: collect::totals(&servers),
            history: history.since(since),
            roles: self.roles(),
            servers,
        }
    }

    pub fn metrics(&self) -> String {
        let servers = self.servers();
        metrics::render(&servers, &collect::totals(&servers), &self.roles())
    }

    /// The `ROLE_STATUS` answer on the role port.
    fn status(&self) -> serde_json::Value {
        let servers = self.servers();
        let t = collect::totals(&servers);
        json!({
            "web": self.web,
            "sessions": t.sessions,
            "msg_servers": servers.iter().map(|v| json!({"addr": v.addr, "up": v.up})).collect::<Vec<_>>(),
            "roles": self.roles().iter().map(|r| json!({"role": r.role, "addr": r.addr, "up": r.up})).collect::<Vec<_>>(),
        })
    }
}

impl OnLinkEvent for Monitor {
    async fn on_event(&self, server: usize, _addr: &str, event: LinkEvent) {
        self.servers[server].on_event(event);
    }
}

/// Runs the monitor until `shutdown`: `role_listener` answers `ROLE_STATUS`,
/// `web_listener` serves the dashboard.
///
/// Fails at once, saying what to configure, where the web listener is not on a loopback
/// address and no login is configured, or the login's hash is unusable.
pub async fn run(
    role_listener: TcpListener,
    web_listener: TcpListener,
    cfg: MonitorConfig,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let addr = role_listener.local_addr()?;
    let web = web_listener.local_addr()?;
    let access = auth::Access::for_listener(web, cfg.login.as_ref())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;

    let tracker = TaskTracker::new();
    let fleet = fleet::link_every(&cfg.msg_servers, &[Channel::Monitor], &cfg.link, &shutdown);
    let servers = cfg
        .msg_servers
        .iter()
        .zip(fleet.handles())
        .map(|(server, link)| Watched::new(server.clone(), link.clone()))
        .collect();
    let monitor = Arc::new(Monitor {
        servers,
        roles: cfg
            .roles
            .iter()
            .map(|r| Mutex::new(RoleView::new(&r.role, &r.addr)))
            .collect(),
        history: Mutex::new(History::new(cfg.history, cfg.monitor_beat)),
        stale_after: cfg.monitor_beat * MISSED_BEATS,
        beat: cfg.monitor_beat,
        history_window: cfg.history,
        started: Instant::now(),
        addr: addr.to_string(),
        web: web.to_string(),
        login: matches!(access, auth::Access::Login(_)),
    });
    fleet.drain_into(monitor.clone(), &tracker);
    tracker.spawn(sample_loop(monitor.clone(), shutdown.clone()));
    if !cfg.roles.is_empty() {
        tracker.spawn(role_loop(monitor.clone(), cfg.role_poll, shutdown.clone()));
    }
    tracker.spawn(http::serve(
        web_listener,
        monitor.clone(),
        Arc::new(access),
        shutdown.clone(),
    ));
    tracing::info!(%addr, %web, msg_servers = ?cfg.msg_servers, "monitor running; dashboard at http://{web}/");
    let m = monitor.clone();
    super::status::serve_then_drain(
        role_listener,
        "monitor",
        cfg.link.common.max_frame,
        Arc::new(move || m.status()),
        tracker,
        shutdown,
    )
    .await;
    Ok(())
}

/// Takes a history sample every sampling period.
async fn sample_loop(m: Arc<Monitor>, shutdown: CancellationToken) {
    let every = m.history.lock().unwrap_or_else(|p| p.into_inner()).every();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let s = collect::sample(&m.servers());
        m.history.lock().unwrap_or_else(|p| p.into_inner()).push(s);
    }
}

/// Asks every other role for `ROLE_STATUS` every `every`, all at once.
async fn role_loop(m: Arc<Monitor>, every: Duration, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let limit = every.max(Duration::from_secs(1)) * 2;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let asks = m.roles.iter().map(|slot| {
            let mut view = slot.lock().unwrap_or_else(|p| p.into_inner()).clone();
            async move {
                collect::ask_role(&mut view, limit).await;
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = view;
            }
        });
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = futures::future::join_all(asks) => {}
        }
    }
}
