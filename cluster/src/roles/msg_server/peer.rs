//! One connection's state. [`Peer`] is what its reader task owns; [`Session`] is what every
//! other connection reaches it by once it has logged in (the server's table of sessions holds
//! it), with the uuids of the messages it was given, so that none is written to it twice.
//! [`Reject`] is why a command of a peer's is refused (its `ERROR`, at the fishchat level;
//! see [`super::refuse`]).
//!
//! The bottom of the msg_server with [`super::server`], which holds the sessions: this
//! module imports none of the others.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::outbox::Outbox;
use crate::protocol::events::now_ms;
use crate::protocol::{Channel, Command, ErrorCode, Level};
use crate::store::StoreError;

/// A connection's number on its msg_server, unique for the server's lifetime (the `conn` of
/// a [`crate::store::SessionLoc`]).
pub(crate) type ConnId = u64;

/// An `ERROR` to answer with.
#[derive(Debug)]
pub(crate) struct Reject {
    pub code: ErrorCode,
    pub detail: String,
}

impl Reject {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }

    pub(crate) fn to_command(&self) -> Command {
        Command::error(self.code, self.detail.clone())
    }
}

impl From<StoreError> for Reject {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchTopic(t) => {
                Reject::new(ErrorCode::NoSuchTopic, format!("no topic named {t:?}"))
            }
            StoreError::IdTaken(uuid) => Reject::new(
                ErrorCode::BadArgs,
                format!("message id {uuid} is another sender's; choose a new uuid"),
            ),
            other => Reject::new(ErrorCode::Unavailable, other.to_string()),
        }
    }
}

/// One connection, as its reader task knows it.
pub(crate) struct Peer {
    pub conn_id: ConnId,
    /// Where it connects from.
    pub addr: SocketAddr,
    pub outbox: Outbox,
    /// Set once logged in.
    pub session: Option<Arc<Session>>,
    /// Presented the cluster secret (or none is configured): may send internal commands.
    pub internal: bool,
    pub subscribed: Vec<Channel>,
    /// The protocol level, settled by the first frame (`HELLO` or not).
    pub level: Level,
    /// Frames taken so far: `HELLO` is only the first.
    pub frames: u64,
    /// What the client called itself in `HELLO`.
    pub client_name: Option<String>,
    /// Refusals at the original level not reported yet (see [`super::refuse`]).
    pub dropped: Mutex<Dropped>,
    /// Disconnected as an original client that cannot be served: nothing more it sent is
    /// acted on.
    pub ended: AtomicBool,
}

/// A connection's dropped frames at the original level, reported at most once a second.
#[derive(Default)]
pub(crate) struct Dropped {
    pub unreported: u64,
    /// The code of the last one.
    pub last_code: Option<ErrorCode>,
    pub last_report: Option<Instant>,
}

impl Peer {
    pub fn new(conn_id: ConnId, addr: SocketAddr, outbox: Outbox) -> Peer {
        Peer {
            conn_id,
            addr,
            outbox,
            session: None,
            internal: false,
            subscribed: Vec::new(),
            level: Level::Original,
            frames: 0,
            client_name: None,
            dropped: Mutex::new(Dropped::default()),
            ended: AtomicBool::new(false),
        }
    }

    /// Sends `cmd` as this connection's level has it; nothing where the level has no such
    /// frame (the original level is sent nothing of ours).
    pub fn send(&self, cmd: &Command) {
        if let Some(frame) = cmd.to_frame_at(self.level) {
            let _ = self.outbox.send(frame);
        }
    }

    /// The session this connection logged in as; `NOT_LOGGED_IN` before it has.
    pub fn session(&self) -> Result<&Arc<Session>, Reject> {
        self.session
            .as_ref()
            .ok_or_else(|| {
                Reject::new(
                    ErrorCode::NotLoggedIn,
                    "log in first: LOGIN [id, password], or SEND_CLIENT_ID [id] for an id without an account",
                )
            })
    }

    pub(crate) fn require_internal(&self, cmd: &str) -> Result<(), Reject> {
        if self.internal {
            Ok(())
        } else {
            Err(Reject::new(
                ErrorCode::Forbidden,
                format!("{cmd} is for cluster roles; subscribe with the cluster secret first"),
            ))
        }
    }
}

/// How a message is known to the connections it is written to: by its sender and its uuid
/// together (`seen`: two senders' messages never share it, whatever uuids they carry, so no
/// message is ever taken for another's copy), and by its uuid alone (`uuid`: what an ack
/// names). Made by [`super::checks::message_key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MessageKey {
    pub seen: u128,
    pub uuid: u128,
}

/// How many recent message uuids a connection remembers, so a message that reaches it
/// twice (live and from the inbox at login) is written once.
const SEEN_CAPACITY: usize = 1024;

/// How many p2p messages written to one connection and not yet acked it keeps count of, for
/// the monitor's `PendingAcks`. A client that holds more unacked counts as this many: the
/// bound keeps a client that never acks from growing the set without end (the messages
/// themselves are safe in its inbox either way).
const UNACKED_CAPACITY: usize = 16 * 1024;

/// One logged-in connection, as every connection of the server reaches it.
pub(crate) struct Session {
    pub id: String,
    pub conn_id: ConnId,
    pub outbox: Outbox,
    /// The client's address, and when it logged in (Unix ms): for `INSPECT [sessions]`.
    pub addr: SocketAddr,
    pub since_ms: u64,
    /// The connection's protocol level: what it may be sent.
    pub level: Level,
    /// What the client called itself in `HELLO`, for `INSPECT [sessions]`.
    pub client_name: Option<String>,
    /// The device it signed in with (`LOGIN`); `None` for a login by `SEND_CLIENT_ID`.
    pub device: Option<String>,
    /// Its right to the id was taken away (a revoked device, a claimed id, a kick): nothing
    /// more it sends is acted on, while its connection closes.
    pub ended: AtomicBool,
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

impl Session {
    /// `peer` logging in as `id`, now, signed in with `device` where it said `LOGIN`.
    pub fn new(id: String, peer: &Peer, device: Option<String>) -> Session {
        Session {
            id,
            conn_id: peer.conn_id,
            outbox: peer.outbox.clone(),
            addr: peer.addr,
            since_ms: now_ms(),
            level: peer.level,
            client_name: peer.client_name.clone(),
            device,
            ended: AtomicBool::new(false),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Notes that the message `key` is being written here; `false`, and nothing noted, where
    /// it was already. A p2p message (`expects_ack`) counts in `pending_acks` (the server's
    /// count) until this connection acks it or closes.
    pub(crate) fn first_sight(
        &self,
        key: MessageKey,
        expects_ack: bool,
        pending_acks: &AtomicU64,
    ) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if !seen.set.insert(key.seen) {
            return false;
        }
        seen.order.push_back(key.seen);
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
            && seen.unacked.insert(key.uuid)
        {
            pending_acks.fetch_add(1, Ordering::Relaxed);
        }
        true
    }

    /// This connection acked the message whose uuid's key is `uuid_key`; whether it was
    /// counted in `pending_acks`.
    pub fn acked(&self, uuid_key: u128, pending_acks: &AtomicU64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let was = seen.unacked.remove(&uuid_key);
        if was {
            pending_acks.fetch_sub(1, Ordering::Relaxed);
        }
        was
    }

    /// The connection is gone: its unacked messages no longer wait on it (they wait in the
    /// inbox for the next login, as the offline queue), and leave `pending_acks`.
    pub fn close(&self, pending_acks: &AtomicU64) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.closed = true;
        let n = seen.unacked.len() as u64;
        seen.unacked.clear();
        pending_acks.fetch_sub(n, Ordering::Relaxed);
    }
}
