//! manager: keeps what the msg_servers announce in the store.
//!
//! It links to every msg_server, subscribed to the session and topic channels, and writes
//! each client's record (where it last logged in, whether it is online) and each topic
//! with its members. The msg_servers write what they need to work themselves (sessions,
//! inboxes, membership); the manager keeps the record the operators read, and puts back a
//! topic the store lacks (a msg_server that announced it before the store had it).

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::fleet::{self, OnLinkEvent};
use crate::config::ManagerConfig;
use crate::link::{LinkEvent, LinkHandle};
use crate::protocol::events::{now_ms, SessionEvent, TopicEvent};
use crate::protocol::{Channel, Command};
use crate::store::{ClientRecord, Store, StoreError, TopicRecord};

struct Manager {
    links: Vec<LinkHandle>,
    store: Arc<dyn Store>,
    sessions: AtomicU64,
    topics: AtomicU64,
    errors: AtomicU64,
}

impl Manager {
    async fn handle(&self, origin: &str, c: Command) {
        let result = match c {
            Command::StoreSession { id, data } => self.store_session(&id, data).await,
            Command::StoreTopic { topic, data } => self.store_topic(&topic, data).await,
            // CACHE_* carry the same facts with a MaxAge for a cache; the session store is
            // written by the msg_servers themselves, so there is nothing more to keep.
            Command::CacheSession { .. } | Command::CacheTopic { .. } => Ok(()),
            other => {
                tracing::debug!(server = origin, cmd = other.name(), "ignoring event");
                Ok(())
            }
        };
        if let Err(e) = result {
            self.errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(server = origin, error = %e, "could not keep an event in the store");
        }
    }

    async fn store_session(&self, id: &str, data: serde_json::Value) -> Result<(), StoreError> {
        let ev: SessionEvent = serde_json::from_value(data)
            .map_err(|e| StoreError::Corrupt(format!("STORE_SESSION for {id:?}: {e}")))?;
        let last_seen_ms = now_ms();
        self.store
            .put_client(&ClientRecord {
                id: id.to_string(),
                client_addr: ev.client_addr,
                msg_server: ev.msg_server_addr,
                alive: ev.alive,
                last_seen_ms,
            })
            .await?;
        self.sessions.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn store_topic(&self, topic: &str, data: serde_json::Value) -> Result<(), StoreError> {
        let ev: TopicEvent = serde_json::from_value(data)
            .map_err(|e| StoreError::Corrupt(format!("STORE_TOPIC for {topic:?}: {e}")))?;
        // The msg_servers keep topics and members in the store themselves; the manager
        // writes only a topic its store lacks (a store of its own). Adding the members of a
        // topic that exists could bring back one kicked or gone since the event was made.
        if self.store.topic(topic).await?.is_none() {
            self.store
                .create_topic(&TopicRecord {
                    name: topic.to_string(),
                    creator: ev.creater_id.clone(),
                    home: ev.msg_server_addr.clone(),
                    created_at_ms: now_ms(),
                    invite_only: false,
                })
                .await?;
            for m in ev.member_list {
                self.store.add_member(topic, &m.id).await?;
            }
        }
        self.topics.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn status(&self) -> serde_json::Value {
        json!({
            "session_events": self.sessions.load(Ordering::Relaxed),
            "topic_events": self.topics.load(Ordering::Relaxed),
            "store_errors": self.errors.load(Ordering::Relaxed),
            "store": self.store.backend(),
            "msg_servers": self.links.iter().map(|l| json!({"addr": l.addr(), "up": l.is_up()})).collect::<Vec<_>>(),
        })
    }
}

impl OnLinkEvent for Manager {
    async fn on_event(&self, _server: usize, addr: &str, event: LinkEvent) {
        if let LinkEvent::Command(c) = event {
            self.handle(addr, c).await;
        }
    }
}

/// Runs the manager until `shutdown`; `listener` answers `ROLE_STATUS`.
pub async fn run(
    listener: TcpListener,
    cfg: ManagerConfig,
    store: Arc<dyn Store>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    let fleet = fleet::link_every(
        &cfg.msg_servers,
        &[
            Channel::ClientStatus,
            Channel::StoreClientInfo,
            Channel::TopicStatus,
            Channel::StoreTopicInfo,
        ],
        &cfg.link,
        &shutdown,
    );
    let manager = Arc::new(Manager {
        links: fleet.handles().to_vec(),
        store,
        sessions: AtomicU64::new(0),
        topics: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    });
    let tracker = TaskTracker::new();
    fleet.drain_into(manager.clone(), &tracker);
    tracing::info!(%addr, msg_servers = ?cfg.msg_servers, "manager running");
    let m = manager.clone();
    super::status::serve_then_drain(
        listener,
        "manager",
        cfg.link.common.max_frame,
        Arc::new(move || m.status()),
        tracker,
        shutdown,
    )
    .await;
    Ok(())
}
