//! Person-to-person messages.
//!
//! A message is first pushed to the receiver's inbox in the store, then written to each of
//! the receiver's connections here, and published on `/sysctrl/send` for the router when
//! the receiver is also connected elsewhere. It stays in the inbox until one of the
//! receiver's connections acks it, so a receiver that is offline, or whose connection just
//! dropped, gets it at its next login, with the same uuid.
//!
//! Sends and acks a connection sent together are acted on as a run ([`Run`]): their store
//! writes go together, then each takes effect in order.

use std::sync::atomic::Ordering;

use super::checks::{check_body, check_sender, client_uuid, message_key, uuid_key};
use super::peer::{Peer, Reject, Session};
use super::refuse::refuse;
use super::server::Server;
use crate::protocol::events::now_ms;
use crate::protocol::P2pMessage;
use crate::protocol::{Channel, Command, ErrorCode, LevelFrames};
use crate::store::{InboxOp, StoreError, StoredMessage};

const SEND: &str = "SEND_MESSAGE_P2P";
const ACK: &str = "P2P_ACK";

/// A connection's p2p sends and acks, checked, with their store writes still to do: they go
/// to the store together when the run is flushed ([`Run::flush`]).
#[derive(Default)]
pub(crate) struct Run {
    /// The store writes, in the order their commands came.
    ops: Vec<InboxOp>,
    /// Commands refused before they reached the store, each answered in its turn: after the
    /// first `.0` of `ops` have taken effect.
    refused: Vec<(usize, &'static str, Reject)>,
}

impl Run {
    /// `SEND_MESSAGE_P2P [to, msg, from?, uuid?]`: checked now, pushed at the flush.
    pub(crate) fn send(
        &mut self,
        server: &Server,
        peer: &Peer,
        to: String,
        msg: String,
        from: Option<String>,
        uuid: Option<String>,
    ) {
        let push = peer
            .session()
            .and_then(|me| prepare_send(server, me, to, msg, from, uuid));
        self.take(SEND, push.map(InboxOp::Push));
    }

    /// `P2P_ACK [my_id, uuid]`: checked now, taken out of the inbox at the flush.
    pub(crate) fn ack(&mut self, server: &Server, peer: &Peer, id: String, uuid: String) {
        let ack = peer
            .session()
            .and_then(|me| prepare_ack(server, me, id, uuid));
        self.take(ACK, ack);
    }

    fn take(&mut self, cmd: &'static str, op: Result<InboxOp, Reject>) {
        match op {
            Ok(op) => self.ops.push(op),
            Err(reject) => self.refused.push((self.ops.len(), cmd, reject)),
        }
    }

    /// Acts on the run as if on each command one after another: every store write of the
    /// run first, in order and in one trip ([`crate::store::InboxStore::apply_batch`]: for
    /// the embedded store, one commit), then what each does, in order (a message is delivered
    /// only once its push has been accepted). So a client that keeps many messages in flight
    /// costs the store one trip per run rather than one per message, and its receivers get
    /// them in one write. Leaves the run empty.
    pub(crate) async fn flush(&mut self, server: &Server, peer: &Peer) {
        if self.ops.is_empty() && self.refused.is_empty() {
            return;
        }
        let ops = std::mem::take(&mut self.ops);
        let mut refused = std::mem::take(&mut self.refused).into_iter().peekable();
        let mut results = if ops.is_empty() {
            Vec::new()
        } else {
            server.store.apply_batch(&ops).await
        }
        .into_iter();
        let mut away = Elsewhere::default();
        for (i, op) in ops.into_iter().enumerate() {
            while let Some((_, cmd, reject)) = refused.next_if(|(at, _, _)| *at <= i) {
                refuse(server, peer, Some(cmd), reject);
            }
            let result = results
                .next()
                .unwrap_or_else(|| Err(StoreError::Unavailable("the store gave no answer".into())));
            match (op, result) {
                (op, Err(e)) => {
                    let cmd = if matches!(op, InboxOp::Push(_)) {
                        SEND
                    } else {
                        ACK
                    };
                    refuse(server, peer, Some(cmd), Reject::from(e))
                }
                (InboxOp::Push(m), Ok(_)) => deliver(server, m, &mut away).await,
                // None: another device of ours acked it first, or it was never ours.
                (InboxOp::Ack { .. }, Ok(None)) => {}
                (InboxOp::Ack { uuid, .. }, Ok(Some(m))) => {
                    receipt(server, &uuid, m, &mut away).await
                }
            }
        }
        for (_, cmd, reject) in refused {
            refuse(server, peer, Some(cmd), reject);
        }
    }
}

/// `SEND_MESSAGE_P2P [to, msg, from?, uuid?]` from a logged-in client: the message to push.
fn prepare_send(
    server: &Server,
    me: &Session,
    to: String,
    msg: String,
    from: Option<String>,
    uuid: Option<String>,
) -> Result<StoredMessage, Reject> {
    check_sender(me, from.as_deref())?;
    check_body(server, &msg, &[&to, &me.id])?;
    let claims_uuid = uuid.is_some();
    let uuid = client_uuid(uuid)?;
    server.stats.msg_in.fetch_add(1, Ordering::Relaxed);
    Ok(StoredMessage {
        uuid,
        from: me.id.clone(),
        to,
        msg,
        sent_at_ms: now_ms(),
        claims_uuid,
    })
}

/// `P2P_ACK [my_id, uuid]`: the message is delivered; its sender hears `P2P_DELIVERED`.
fn prepare_ack(server: &Server, me: &Session, id: String, uuid: String) -> Result<InboxOp, Reject> {
    if id != me.id {
        return Err(Reject::new(
            ErrorCode::Forbidden,
            format!("you are logged in as {:?} and cannot ack for {id:?}", me.id),
        ));
    }
    server.stats.acks.fetch_add(1, Ordering::Relaxed);
    me.acked(uuid_key(&uuid), &server.stats.pending_acks);
    // Stored uuids are lower-case and hyphenated; an ack spelled otherwise means the same.
    let uuid = uuid::Uuid::parse_str(&uuid)
        .map(|u| u.hyphenated().to_string())
        .unwrap_or(uuid);
    Ok(InboxOp::Ack { id, uuid })
}

/// Whether ids are connected to other msg_servers, asked once per id in a run.
///
/// One answer serves every message of the run: all of them were pushed before it was asked.
/// A session that starts elsewhere after the question replays its inbox after it starts
/// (see [`super::login::login`]), so it finds every message pushed before the question;
/// the same holds for each message as it did when each one asked for itself.
#[derive(Default)]
struct Elsewhere {
    known: Vec<(String, bool)>,
}

impl Elsewhere {
    async fn check(&mut self, server: &Server, id: &str) -> bool {
        if let Some((_, away)) = self.known.iter().find(|(k, _)| k == id) {
            return *away;
        }
        let away = elsewhere(server, id).await;
        // A run names few ids (a client writes to a few peers at a time); keep it small.
        if self.known.len() < 64 {
            self.known.push((id.to_string(), away));
        }
        away
    }
}

/// A pushed message: written to the receiver's connections here, and published on
/// `/sysctrl/send` when the receiver is connected elsewhere too.
async fn deliver(server: &Server, m: StoredMessage, away: &mut Elsewhere) {
    let key = message_key(&m.from, &m.uuid);
    let mut frames = LevelFrames::of(Command::RespMessageP2p(P2pMessage {
        msg: m.msg.clone(),
        from: m.from.clone(),
        uuid: m.uuid.clone(),
        sent_at_ms: Some(m.sent_at_ms),
        offline: false,
    }));
    for s in server.sessions.get(&m.to) {
        if server.deliver(&s, key, &mut frames, true) {
            server.stats.msg_out.fetch_add(1, Ordering::Relaxed);
        }
    }
    if away.check(server, &m.to).await {
        server.publish(
            Channel::Send,
            LevelFrames::of(Command::SendMessageP2p {
                to: m.to,
                msg: m.msg,
                from: Some(m.from),
                uuid: Some(m.uuid),
                sent_at_ms: Some(m.sent_at_ms),
            }),
        );
    }
}

/// An acked message: its sender hears `P2P_DELIVERED`, here and where else it is connected.
async fn receipt(server: &Server, uuid: &str, m: StoredMessage, away: &mut Elsewhere) {
    delivered_routed(server, uuid, &m.to, &m.from);
    if away.check(server, &m.from).await {
        server.publish(
            Channel::Send,
            LevelFrames::of(Command::P2pDelivered {
                uuid: m.uuid,
                to: m.to,
                from: Some(m.from),
            }),
        );
    }
}

/// `ROUTE_MESSAGE_P2P` from the router: the message is in the receiver's inbox already
/// (the sender's msg_server put it there); write it to the receiver's connections here.
/// `sent_at_ms` is the sender's msg_server's time, where the router passed it on (a router
/// of an earlier version does not): the time of arrival otherwise.
pub(crate) fn routed(
    server: &Server,
    to: String,
    msg: String,
    from: String,
    uuid: String,
    sent_at_ms: Option<u64>,
) {
    let key = message_key(&from, &uuid);
    let sessions = server.sessions.get(&to);
    if sessions.is_empty() {
        return;
    }
    let mut frames = LevelFrames::of(Command::RespMessageP2p(P2pMessage {
        msg,
        from,
        uuid,
        sent_at_ms: Some(sent_at_ms.unwrap_or_else(now_ms)),
        offline: false,
    }));
    for s in sessions {
        if server.deliver(&s, key, &mut frames, true) {
            server.stats.msg_out.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Tells the sender's connections here that `to` acked `uuid`.
pub(crate) fn delivered_routed(server: &Server, uuid: &str, to: &str, from: &str) {
    let sessions = server.sessions.get(from);
    if sessions.is_empty() {
        return;
    }
    // The original level has no receipts: its sessions are sent nothing.
    let mut frames = LevelFrames::of(Command::P2pDelivered {
        uuid: uuid.to_string(),
        to: to.to_string(),
        from: None,
    });
    for s in sessions {
        server.send(&s, &mut frames);
    }
}

/// Whether `id` is connected to another msg_server (and a router is listening).
async fn elsewhere(server: &Server, id: &str) -> bool {
    if !server.channels.has(Channel::Send) {
        return false;
    }
    match server.store.sessions(id).await {
        Ok(locs) => locs.iter().any(|l| l.server != server.addr),
        Err(e) => {
            // The message is safe in the inbox; it is delivered at the next login.
            tracing::warn!(server = %server.addr, client = %id, error = %e, "session lookup failed; not routing");
            false
        }
    }
}
