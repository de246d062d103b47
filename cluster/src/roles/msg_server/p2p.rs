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
use std::sync::Arc;

use super::connection::Conn;
use super::sessions::{message_key, LocalConn};
use super::{Reject, Server};
use crate::protocol::events::now_ms;
use crate::protocol::{Channel, Command, ErrorCode};
use crate::store::{InboxOp, StoreError, StoredMessage};

/// A connection's p2p sends and acks taken for a run (see [`Run::flush`]), checked, with
/// their store writes to do.
#[derive(Default)]
pub(crate) struct Run {
    /// The store writes, in the order their commands came.
    ops: Vec<InboxOp>,
    /// Commands refused before they reached the store, each answered in its turn: after the
    /// first `.0` of `ops` have taken effect.
    refused: Vec<(usize, Reject)>,
}

impl Run {
    /// Takes a `SEND_MESSAGE_P2P` or `P2P_ACK` for the run, checking what needs no store;
    /// gives any other command back.
    pub(crate) fn stage(&mut self, server: &Server, conn: &Conn, cmd: Command) -> Option<Command> {
        let op = match cmd {
            Command::SendMessageP2p {
                to,
                msg,
                from,
                uuid,
            } => conn
                .me()
                .and_then(|me| prepare_send(server, me, to, msg, from, uuid))
                .map(InboxOp::Push),
            Command::P2pAck { id, uuid } => {
                conn.me().and_then(|me| prepare_ack(server, me, id, uuid))
            }
            other => return Some(other),
        };
        match op {
            Ok(op) => self.ops.push(op),
            Err(reject) => self.refused.push((self.ops.len(), reject)),
        }
        None
    }

    /// Acts on the run, as if on each command one after another: every store write of the
    /// run first, in order and in one trip ([`crate::store::InboxStore::apply_batch`]: for
    /// the embedded store, one commit), then what each does, in order (a message is delivered
    /// only once its push has been accepted). So a client that keeps many messages in flight
    /// costs the store one trip per run rather than one per message, and its receivers get
    /// them in one write. Leaves the run empty.
    pub(crate) async fn flush(&mut self, server: &Arc<Server>, conn: &Conn) {
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
            while let Some((_, reject)) = refused.next_if(|(at, _)| *at <= i) {
                conn.refuse(reject);
            }
            let result = results
                .next()
                .unwrap_or_else(|| Err(StoreError::Unavailable("the store gave no answer".into())));
            match (op, result) {
                (_, Err(e)) => conn.refuse(Reject::from(e)),
                (InboxOp::Push(m), Ok(_)) => deliver(server, m, &mut away).await,
                // None: another device of ours acked it first, or it was never ours.
                (InboxOp::Ack { .. }, Ok(None)) => {}
                (InboxOp::Ack { uuid, .. }, Ok(Some(m))) => {
                    receipt(server, &uuid, m, &mut away).await
                }
            }
        }
        for (_, reject) in refused {
            conn.refuse(reject);
        }
    }
}

/// `SEND_MESSAGE_P2P [to, msg, from?, uuid?]` from a logged-in client: the message to push.
fn prepare_send(
    server: &Server,
    me: &LocalConn,
    to: String,
    msg: String,
    from: Option<String>,
    uuid: Option<String>,
) -> Result<StoredMessage, Reject> {
    check_sender(me, from.as_deref())?;
    check_body(server, &msg, &[&to, &me.id])?;
    let uuid = client_uuid(uuid)?;
    server.stats.msg_in.fetch_add(1, Ordering::Relaxed);
    Ok(StoredMessage {
        uuid,
        from: me.id.clone(),
        to,
        msg,
        sent_at_ms: now_ms(),
    })
}

/// `P2P_ACK [my_id, uuid]`: the message is delivered; its sender hears `P2P_DELIVERED`.
fn prepare_ack(
    server: &Server,
    me: &LocalConn,
    id: String,
    uuid: String,
) -> Result<InboxOp, Reject> {
    if id != me.id {
        return Err(Reject::new(
            ErrorCode::Forbidden,
            format!("you are logged in as {:?} and cannot ack for {id:?}", me.id),
        ));
    }
    server.stats.acks.fetch_add(1, Ordering::Relaxed);
    me.acked(server, message_key(&uuid));
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
/// (see [`super::sessions::login`]), so it finds every message pushed before the question;
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
    let key = message_key(&m.uuid);
    let frame = Command::RespMessageP2p {
        msg: m.msg.clone(),
        from: m.from.clone(),
        uuid: m.uuid.clone(),
        sent_at_ms: Some(m.sent_at_ms),
        offline: false,
    }
    .to_frame();
    for c in server.sessions.get(&m.to) {
        if c.deliver(server, key, frame.clone(), true) {
            server.stats.msg_out.fetch_add(1, Ordering::Relaxed);
        }
    }
    if away.check(server, &m.to).await {
        server.channels.publish(
            server,
            Channel::Send,
            Command::SendMessageP2p {
                to: m.to,
                msg: m.msg,
                from: Some(m.from),
                uuid: Some(m.uuid),
            }
            .to_frame(),
        );
    }
}

/// An acked message: its sender hears `P2P_DELIVERED`, here and where else it is connected.
async fn receipt(server: &Server, uuid: &str, m: StoredMessage, away: &mut Elsewhere) {
    delivered_routed(server, uuid, &m.to, &m.from);
    if away.check(server, &m.from).await {
        server.channels.publish(
            server,
            Channel::Send,
            Command::P2pDelivered {
                uuid: m.uuid,
                to: m.to,
                from: Some(m.from),
            }
            .to_frame(),
        );
    }
}

/// `ROUTE_MESSAGE_P2P` from the router: the message is in the receiver's inbox already
/// (the sender's msg_server put it there); write it to the receiver's connections here.
pub(crate) fn routed(server: &Server, to: String, msg: String, from: String, uuid: String) {
    let key = message_key(&uuid);
    let conns = server.sessions.get(&to);
    if conns.is_empty() {
        return;
    }
    let frame = Command::RespMessageP2p {
        msg,
        from,
        uuid,
        sent_at_ms: Some(now_ms()),
        offline: false,
    }
    .to_frame();
    for c in conns {
        if c.deliver(server, key, frame.clone(), true) {
            server.stats.msg_out.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Tells the sender's connections here that `to` acked `uuid`.
pub(crate) fn delivered_routed(server: &Server, uuid: &str, to: &str, from: &str) {
    let conns = server.sessions.get(from);
    if conns.is_empty() {
        return;
    }
    let frame = Command::P2pDelivered {
        uuid: uuid.to_string(),
        to: to.to_string(),
        from: None,
    }
    .to_frame();
    for c in conns {
        c.send(server, frame.clone());
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

/// What a message's frame needs beside its body and its names: command name, uuid, times,
/// the "offline" mark, JSON punctuation. Generous on purpose.
const FRAME_OVERHEAD: usize = 256;

/// A message whose frames would not fit under the maximum frame length is refused here,
/// at the sender: otherwise the frames made from it (with the names `names` beside it)
/// would be refused by every receiver, and a message kept in an inbox would cut its
/// receiver's connection at every login.
pub(crate) fn check_body(server: &Server, msg: &str, names: &[&str]) -> Result<(), Reject> {
    let around: usize = FRAME_OVERHEAD + names.iter().map(|n| json_len(n)).sum::<usize>();
    let max = server.cfg.common.max_frame.saturating_sub(around);
    let len = json_len(msg);
    if len > max {
        return Err(Reject::new(
            ErrorCode::BadArgs,
            format!("the message is {len} bytes once encoded; at most {max} fit in a frame"),
        ));
    }
    Ok(())
}

/// Length of `s` as a JSON string body, escaped the way the encoder escapes it.
fn json_len(s: &str) -> usize {
    s.bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum()
}

/// The sender is the logged-in id; a `from` that differs is refused.
pub(crate) fn check_sender(me: &LocalConn, from: Option<&str>) -> Result<(), Reject> {
    match from {
        Some(f) if f != me.id => Err(Reject::new(
            ErrorCode::Forbidden,
            format!("you are logged in as {:?} and cannot send as {f:?}", me.id),
        )),
        _ => Ok(()),
    }
}

/// A client may choose its message's uuid (to match later `P2P_DELIVERED`); it must be a
/// UUID. Otherwise the server makes one.
pub(crate) fn client_uuid(uuid: Option<String>) -> Result<String, Reject> {
    match uuid {
        None => Ok(uuid::Uuid::new_v4().to_string()),
        Some(u) => uuid::Uuid::parse_str(&u)
            .map(|p| p.hyphenated().to_string())
            .map_err(|_| Reject::new(ErrorCode::BadArgs, format!("uuid {u:?} is not a UUID"))),
    }
}
