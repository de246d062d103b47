//! The local table of logged-in connections, and login / logout.
//!
//! One id may hold several connections (devices), here and on other msg_servers. The table
//! is sharded (DashMap): no global lock on the message path.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use dashmap::DashMap;

use super::connection::Conn;
use super::{Reject, Server};
use crate::outbox::{Outbox, SendError};
use crate::protocol::events::{now_ms, SessionEvent};
use crate::protocol::{Channel, Command, ErrorCode};
use crate::store::SessionLoc;

/// How many recent message uuids a connection remembers, so a message that reaches it
/// twice (live and from the inbox at login) is written once.
const SEEN_CAPACITY: usize = 1024;

/// How many p2p messages written to one connection and not yet acked it keeps count of, for
/// the monitor's `PendingAcks`. A client that holds more unacked counts as this many: the
/// bound keeps a client that never acks from growing the set without end (the messages
/// themselves are safe in its inbox either way).
const UNACKED_CAPACITY: usize = 16 * 1024;

/// One logged-in connection.
pub(crate) struct LocalConn {
    pub id: String,
    pub conn: u64,
    pub outbox: Outbox,
    /// The client's address, and when it logged in (Unix ms): for `INSPECT [sessions]`.
    pub peer: std::net::SocketAddr,
    pub since_ms: u64,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    set: HashSet<u128>,
    order: VecDeque<u128>,
    /// p2p messages written here and not acked here yet.
    unacked: HashSet<u128>,
    /// Logged out: its unacked share has been taken off the server's count, so a message
    /// that still reaches it (a sender looked it up just before) must not be counted.
    closed: bool,
}

impl LocalConn {
    /// Writes a message frame unless this connection was given the same message already.
    /// Returns whether it was written. A p2p message (`expects_ack`) counts as pending until
    /// this connection acks it or closes.
    pub fn deliver(&self, server: &Server, key: u128, frame: Bytes, expects_ack: bool) -> bool {
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if !seen.set.insert(key) {
                return false;
            }
            seen.order.push_back(key);
            if seen.order.len() > SEEN_CAPACITY {
                if let Some(old) = seen.order.pop_front() {
                    seen.set.remove(&old);
                }
            }
            // Counted before the write so that an ack can never overtake it; a write that
            // fails cuts the connection, and its logout takes the count back.
            if expects_ack
                && !seen.closed
                && seen.unacked.len() < UNACKED_CAPACITY
                && seen.unacked.insert(key)
            {
                server.stats.pending_acks.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.send(server, frame)
    }

    /// This connection acked the message `key`; whether it was counted as pending here.
    pub fn acked(&self, server: &Server, key: u128) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let was = seen.unacked.remove(&key);
        if was {
            server.stats.pending_acks.fetch_sub(1, Ordering::Relaxed);
        }
        was
    }

    /// The connection is gone: its unacked messages no longer wait on it (they wait in the
    /// inbox for the next login, as the offline queue).
    fn close(&self, server: &Server) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.closed = true;
        let n = seen.unacked.len() as u64;
        seen.unacked.clear();
        server.stats.pending_acks.fetch_sub(n, Ordering::Relaxed);
    }

    /// Writes any frame; a connection that is not reading is cut.
    pub fn send(&self, server: &Server, frame: Bytes) -> bool {
        match self.outbox.send(frame) {
            Ok(()) => true,
            Err(SendError::Full) => {
                server.stats.slow_drops.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(server = %server.addr, client = %self.id, conn = self.conn, "cutting off a client that is not reading");
                false
            }
            Err(SendError::Closed) => false,
        }
    }

    pub fn loc(&self, server: &Server) -> SessionLoc {
        SessionLoc {
            server: server.addr.clone(),
            conn: self.conn,
        }
    }
}

/// A message uuid as a dedup key. Our uuids parse; another server's strings are hashed.
pub(crate) fn message_key(uuid: &str) -> u128 {
    match uuid::Uuid::parse_str(uuid) {
        Ok(u) => u.as_u128(),
        Err(_) => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            uuid.hash(&mut h);
            h.finish() as u128
        }
    }
}

#[derive(Default)]
pub(crate) struct LocalSessions {
    by_id: DashMap<String, Vec<Arc<LocalConn>>>,
    conns: AtomicU64,
}

impl LocalSessions {
    fn add(&self, c: Arc<LocalConn>) {
        self.by_id.entry(c.id.clone()).or_default().push(c);
        self.conns.fetch_add(1, Ordering::Relaxed);
    }

    fn remove(&self, c: &LocalConn) {
        let mut removed = false;
        self.by_id.remove_if_mut(&c.id, |_, v| {
            let before = v.len();
            v.retain(|x| x.conn != c.conn);
            removed = v.len() < before;
            v.is_empty()
        });
        if removed {
            self.conns.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The connections of `id` on this server.
    pub fn get(&self, id: &str) -> Vec<Arc<LocalConn>> {
        self.by_id.get(id).map(|v| v.clone()).unwrap_or_default()
    }

    /// Every logged-in connection, ordered by id then connection.
    pub fn all(&self) -> Vec<Arc<LocalConn>> {
        let mut all: Vec<Arc<LocalConn>> =
            self.by_id.iter().flat_map(|e| e.value().clone()).collect();
        all.sort_by(|a, b| (&a.id, a.conn).cmp(&(&b.id, b.conn)));
        all
    }

    /// Logged-in connections.
    pub fn connections(&self) -> u64 {
        self.conns.load(Ordering::Relaxed)
    }

    /// Distinct logged-in ids.
    pub fn ids(&self) -> u64 {
        self.by_id.len() as u64
    }
}

/// `SEND_CLIENT_ID [id]`: registers the connection here and in the store, publishes the
/// session events, then replays the id's inbox (messages not yet acked), oldest first.
///
/// The order matters: a message pushed to the inbox before the replay reads it is
/// replayed; one pushed after finds this session (locally, or through the store from
/// another msg_server) and is delivered live. A message both replayed and delivered live
/// is written once (see [`LocalConn::deliver`]).
pub(crate) async fn login(server: &Arc<Server>, conn: &mut Conn, id: String) -> Result<(), Reject> {
    if let Some(me) = &conn.client {
        if me.id == id {
            // Logged in already: replay again what waits (a replay that failed before, an
            // original client asking twice). Nothing already written here is written twice.
            let me = me.clone();
            return replay(server, &me).await;
        }
        return Err(Reject::new(
            ErrorCode::Forbidden,
            format!("this connection is logged in as {:?} already", me.id),
        ));
    }
    let local = Arc::new(LocalConn {
        id: id.clone(),
        conn: conn.id,
        outbox: conn.outbox.clone(),
        peer: conn.peer,
        since_ms: now_ms(),
        seen: Mutex::new(Seen::default()),
    });
    server.sessions.add(local.clone());
    if let Err(e) = server.store.add_session(&id, &local.loc(server)).await {
        server.sessions.remove(&local);
        return Err(e.into());
    }
    conn.client = Some(local.clone());
    tracing::debug!(server = %server.addr, client = %id, conn = conn.id, peer = %conn.peer, "logged in");
    publish_session(server, conn, &id, true);
    replay(server, &local).await
}

/// Writes the inbox of `local`'s id to it, oldest first, at the pace the client reads.
async fn replay(server: &Arc<Server>, local: &Arc<LocalConn>) -> Result<(), Reject> {
    let id = &local.id;
    let pending = match server.store.pending(id).await {
        Ok(p) => p,
        Err(e) => {
            // Logged in, but the inbox cannot be read now: say so; it is replayed next time.
            tracing::warn!(server = %server.addr, client = %id, error = %e, "inbox unavailable at login");
            return Err(Reject::new(
                ErrorCode::Unavailable,
                format!("logged in, but offline messages cannot be read now: {e}"),
            ));
        }
    };
    // Leave half the queue for live traffic; a client that takes nothing for the dead-session
    // time is cut, and gets the rest at its next login.
    let room = (local.outbox.limit() / 2).max(1);
    let stall = server.cfg.scan_dead_session_timeout * 2;
    for m in pending {
        if local.outbox.queued() >= room && !local.outbox.wait_room(room, stall).await {
            tracing::info!(server = %server.addr, client = %id, "client stopped reading its offline messages");
            local.outbox.cut();
            return Ok(());
        }
        let frame = Command::RespMessageP2p {
            msg: m.msg,
            from: m.from,
            uuid: m.uuid.clone(),
            sent_at_ms: Some(m.sent_at_ms),
            offline: true,
        }
        .to_frame();
        if local.deliver(server, message_key(&m.uuid), frame, true) {
            server.stats.msg_out.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// The connection closed: forget it here and in the store, and say so on
/// `/store/client-info`.
pub(crate) async fn logout(server: &Arc<Server>, conn: &Conn, me: Arc<LocalConn>) {
    server.sessions.remove(&me);
    me.close(server);
    if let Err(e) = server.store.remove_session(&me.id, &me.loc(server)).await {
        tracing::warn!(server = %server.addr, client = %me.id, error = %e, "could not remove session from the store");
    }
    publish_session(server, conn, &me.id, false);
    tracing::debug!(server = %server.addr, client = %me.id, conn = conn.id, "logged out");
}

fn publish_session(server: &Server, conn: &Conn, id: &str, alive: bool) {
    let event = SessionEvent {
        client_id: id.to_string(),
        client_addr: conn.peer.to_string(),
        msg_server_addr: server.addr.clone(),
        id: conn.id.to_string(),
        max_age: None,
        alive,
    };
    if alive && server.channels.has(Channel::ClientStatus) {
        let cache = SessionEvent {
            max_age: Some(server.cfg.expire.as_secs()),
            ..event.clone()
        };
        server.channels.publish(
            server,
            Channel::ClientStatus,
            Command::CacheSession {
                id: id.to_string(),
                data: serde_json::to_value(cache).unwrap_or_default(),
            }
            .to_frame(),
        );
    }
    if server.channels.has(Channel::StoreClientInfo) {
        let mut data = serde_json::to_value(&event).unwrap_or_default();
        data["Time"] = now_ms().into();
        server.channels.publish(
            server,
            Channel::StoreClientInfo,
            Command::StoreSession {
                id: id.to_string(),
                data,
            }
            .to_frame(),
        );
    }
}
