//! gateway: answers `REQ_MSG_SERVER` with a msg_server that is up, the least loaded first,
//! then closes the connection as the original does.
//!
//! It keeps a link to every configured msg_server, subscribed to `/sysctrl/monitor`: a
//! server is up while its link is connected and its beats keep coming (three missed beats
//! and it is down). Load is the beat's `SessionNum` plus the clients sent there since.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::accept::accept_loop;
use super::fleet::{self, OnLinkEvent};
use super::status::{answer_loop, wrong_role, Listener, Reply};
use crate::config::GatewayConfig;
use crate::link::{LinkEvent, LinkHandle};
use crate::protocol::events::MonitorBeat;
use crate::protocol::{Channel, Command, ErrorCode};

struct Backend {
    link: LinkHandle,
    /// Sessions in the last beat.
    sessions: AtomicU64,
    /// Clients sent there since the last beat.
    assigned: AtomicU64,
    last_beat: Mutex<Option<Instant>>,
}

struct Gateway {
    backends: Vec<Backend>,
    stale_after: Duration,
    handed_out: AtomicU64,
    listener: Listener,
}

impl Gateway {
    fn is_up(&self, b: &Backend) -> bool {
        b.link.is_up()
            && b.last_beat
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some_and(|t| t.elapsed() < self.stale_after)
    }

    /// The least loaded msg_server that is up.
    fn pick(&self) -> Option<&Backend> {
        let b = self
            .backends
            .iter()
            .filter(|b| self.is_up(b))
            .min_by_key(|b| {
                b.sessions.load(Ordering::Relaxed) + b.assigned.load(Ordering::Relaxed)
            })?;
        b.assigned.fetch_add(1, Ordering::Relaxed);
        self.handed_out.fetch_add(1, Ordering::Relaxed);
        Some(b)
    }

    fn status(&self) -> serde_json::Value {
        json!({
            "handed_out": self.handed_out.load(Ordering::Relaxed),
            "msg_servers": self.backends.iter().map(|b| json!({
                "addr": b.link.addr(),
                "up": self.is_up(b),
                "sessions": b.sessions.load(Ordering::Relaxed),
            })).collect::<Vec<_>>(),
        })
    }

    fn answer(&self, c: Command) -> Reply {
        match c {
            Command::ReqMsgServer => match self.pick() {
                Some(b) => Reply::SendAndClose(Command::SelectMsgServerForClient {
                    addr: b.link.addr().to_string(),
                }),
                None => Reply::SendAndClose(Command::error(
                    ErrorCode::Unavailable,
                    "no msg_server is up; try again shortly",
                )),
            },
            Command::RoleStatus => Reply::Send(self.listener.role_status(self.status())),
            other => wrong_role("gateway", &other),
        }
    }
}

impl OnLinkEvent for Gateway {
    async fn on_event(&self, server: usize, _addr: &str, event: LinkEvent) {
        let b = &self.backends[server];
        match event {
            LinkEvent::Up => {
                *b.last_beat.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now())
            }
            LinkEvent::Down { .. } => *b.last_beat.lock().unwrap_or_else(|p| p.into_inner()) = None,
            LinkEvent::Beat(m) => {
                if let Ok(beat) = serde_json::from_value::<MonitorBeat>(m.into()) {
                    b.sessions.store(beat.session_num, Ordering::Relaxed);
                    b.assigned.store(0, Ordering::Relaxed);
                }
                *b.last_beat.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
            }
            LinkEvent::Command(_) => {}
        }
    }
}

/// Serves the gateway on `listener` until `shutdown` is cancelled.
pub async fn run(
    listener: TcpListener,
    cfg: GatewayConfig,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    let tracker = TaskTracker::new();
    let fleet = fleet::link_every(&cfg.msg_servers, &[Channel::Monitor], &cfg.link, &shutdown);
    let backends = fleet
        .handles()
        .iter()
        .map(|link| Backend {
            link: link.clone(),
            sessions: AtomicU64::new(0),
            assigned: AtomicU64::new(0),
            last_beat: Mutex::new(None),
        })
        .collect();
    let gw = Arc::new(Gateway {
        backends,
        stale_after: cfg.monitor_beat * 3,
        handed_out: AtomicU64::new(0),
        listener: Listener::new("gateway", cfg.link.common.max_frame),
    });
    fleet.drain_into(gw.clone(), &tracker);
    tracing::info!(%addr, msg_servers = ?cfg.msg_servers, "gateway listening");
    accept_loop(listener, "gateway", &shutdown, &tracker, |stream, _| {
        let gw = gw.clone();
        let cut = shutdown.child_token();
        async move {
            let shared = gw.listener.clone();
            answer_loop(stream, &shared, cut, move |c| gw.answer(c)).await
        }
    })
    .await;
    super::drain(&tracker).await;
    tracing::info!(%addr, "gateway stopped");
    Ok(())
}
