//! router: forwards messages between msg_servers.
//!
//! It keeps a link to every msg_server subscribed to `/sysctrl/send` and
//! `/sysctrl/topic-sync`. A p2p message (or an ack's `P2P_DELIVERED`, or an `END_SESSIONS`) goes to each other
//! msg_server where its receiver is connected, looked up in the session store, as
//! `ROUTE_MESSAGE_P2P` with its uuid unchanged; a topic message goes to every other
//! msg_server as `ROUTE_MESSAGE_TOPIC`, and each writes it to the members it holds.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::fleet::{self, OnLinkEvent};
use crate::config::RouterConfig;
use crate::link::{LinkEvent, LinkHandle};
use crate::protocol::events::now_ms;
use crate::protocol::{Channel, Command};
use crate::store::Store;

struct Router {
    links: HashMap<String, LinkHandle>,
    store: Arc<dyn Store>,
    p2p: AtomicU64,
    topic: AtomicU64,
    receipts: AtomicU64,
    unroutable: AtomicU64,
}

impl Router {
    /// Sends `frame` to the msg_servers other than `origin` where `id` is connected.
    async fn to_sessions_of(&self, origin: &str, id: &str, frame: bytes::Bytes) -> u64 {
        let locs = match self.store.sessions(id).await {
            Ok(l) => l,
            Err(e) => {
                // Not lost: the message stays in the inbox until acked.
                tracing::warn!(client = %id, error = %e, "session lookup failed; not routed");
                self.unroutable.fetch_add(1, Ordering::Relaxed);
                return 0;
            }
        };
        let servers: BTreeSet<&str> = locs
            .iter()
            .map(|l| l.server.as_str())
            .filter(|s| *s != origin)
            .collect();
        let mut sent = 0;
        for s in servers {
            match self.links.get(s) {
                Some(link) if link.send(frame.clone()) => sent += 1,
                Some(_) => {
                    self.unroutable.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(server = s, "link down; message waits in the inbox")
                }
                None => {
                    self.unroutable.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(server = s, client = %id, "session on a msg_server this router does not know")
                }
            }
        }
        sent
    }

    async fn handle(&self, origin: &str, c: Command) {
        match c {
            Command::SendMessageP2p {
                to,
                msg,
                from: Some(from),
                uuid: Some(uuid),
                sent_at_ms,
            } => {
                let frame = Command::RouteMessageP2p {
                    to: to.clone(),
                    msg,
                    from,
                    uuid,
                    sent_at_ms,
                }
                .to_frame();
                if self.to_sessions_of(origin, &to, frame).await > 0 {
                    self.p2p.fetch_add(1, Ordering::Relaxed);
                }
            }
            Command::P2pDelivered {
                uuid,
                to,
                from: Some(from),
            } => {
                let frame = Command::P2pDelivered {
                    uuid,
                    to,
                    from: Some(from.clone()),
                }
                .to_frame();
                if self.to_sessions_of(origin, &from, frame).await > 0 {
                    self.receipts.fetch_add(1, Ordering::Relaxed);
                }
            }
            Command::SendMessageTopic {
                topic,
                msg,
                from: Some(from),
                uuid: Some(uuid),
            } => {
                let frame = Command::RouteMessageTopic {
                    topic,
                    msg,
                    from,
                    uuid,
                    sent_at_ms: now_ms(),
                }
                .to_frame();
                for (addr, link) in &self.links {
                    if addr != origin {
                        link.send(frame.clone());
                    }
                }
                self.topic.fetch_add(1, Ordering::Relaxed);
            }
            // An id's sessions end (a revoked device, a kick): passed on to the msg_servers
            // where it is connected.
            Command::EndSessions { id, which, why } => {
                let frame = Command::EndSessions {
                    id: id.clone(),
                    which,
                    why,
                }
                .to_frame();
                self.to_sessions_of(origin, &id, frame).await;
            }
            other => tracing::debug!(server = origin, cmd = other.name(), "ignoring event"),
        }
    }

    fn status(&self) -> serde_json::Value {
        json!({
            "routed_p2p": self.p2p.load(Ordering::Relaxed),
            "routed_topic": self.topic.load(Ordering::Relaxed),
            "routed_receipts": self.receipts.load(Ordering::Relaxed),
            "unroutable": self.unroutable.load(Ordering::Relaxed),
            "msg_servers": self.links.values().map(|l| json!({"addr": l.addr(), "up": l.is_up()})).collect::<Vec<_>>(),
        })
    }
}

impl OnLinkEvent for Router {
    async fn on_event(&self, _server: usize, addr: &str, event: LinkEvent) {
        if let LinkEvent::Command(c) = event {
            self.handle(addr, c).await;
        }
    }
}

/// Runs the router until `shutdown`; `listener` answers `ROLE_STATUS`.
pub async fn run(
    listener: TcpListener,
    cfg: RouterConfig,
    store: Arc<dyn Store>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    let fleet = fleet::link_every(
        &cfg.msg_servers,
        &[Channel::Send, Channel::TopicSync],
        &cfg.link,
        &shutdown,
    );
    let links = fleet
        .handles()
        .iter()
        .map(|link| (link.addr().to_string(), link.clone()))
        .collect();
    let router = Arc::new(Router {
        links,
        store,
        p2p: AtomicU64::new(0),
        topic: AtomicU64::new(0),
        receipts: AtomicU64::new(0),
        unroutable: AtomicU64::new(0),
    });
    let tracker = TaskTracker::new();
    fleet.drain_into(router.clone(), &tracker);
    tracing::info!(%addr, msg_servers = ?cfg.msg_servers, "router running");
    let r = router.clone();
    super::status::serve_then_drain(
        listener,
        "router",
        cfg.link.common.max_frame,
        Arc::new(move || r.status()),
        tracker,
        shutdown,
    )
    .await;
    Ok(())
}
