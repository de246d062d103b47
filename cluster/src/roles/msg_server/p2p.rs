//! Person-to-person messages.
//!
//! A message is first pushed to the receiver's inbox in the store, then written to each of
//! the receiver's connections here, and published on `/sysctrl/send` for the router when
//! the receiver is also connected elsewhere. It stays in the inbox until one of the
//! receiver's connections acks it, so a receiver that is offline, or whose connection just
//! dropped, gets it at its next login, with the same uuid.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::sessions::{message_key, LocalConn};
use super::{Reject, Server};
use crate::protocol::events::now_ms;
use crate::protocol::{Channel, Command, ErrorCode};
use crate::store::StoredMessage;

/// `SEND_MESSAGE_P2P [to, msg, from?, uuid?]` from a logged-in client.
pub(crate) async fn send(
    server: &Arc<Server>,
    me: &Arc<LocalConn>,
    to: String,
    msg: String,
    from: Option<String>,
    uuid: Option<String>,
) -> Result<(), Reject> {
    check_sender(me, from.as_deref())?;
    let uuid = client_uuid(uuid)?;
    server.stats.msg_in.fetch_add(1, Ordering::Relaxed);
    let m = StoredMessage {
        uuid,
        from: me.id.clone(),
        to,
        msg,
        sent_at_ms: now_ms(),
    };
    server.store.push(&m).await?;

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
        if c.deliver(server, key, frame.clone()) {
            server.stats.msg_out.fetch_add(1, Ordering::Relaxed);
        }
    }
    if elsewhere(server, &m.to).await {
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
    Ok(())
}

/// `P2P_ACK [my_id, uuid]`: the message is delivered; its sender hears `P2P_DELIVERED`.
pub(crate) async fn ack(
    server: &Arc<Server>,
    me: &Arc<LocalConn>,
    id: &str,
    uuid: &str,
) -> Result<(), Reject> {
    if id != me.id {
        return Err(Reject::new(
            ErrorCode::Forbidden,
            format!("you are logged in as {:?} and cannot ack for {id:?}", me.id),
        ));
    }
    server.stats.acks.fetch_add(1, Ordering::Relaxed);
    // None: another device of ours acked it first, or it was never ours. Nothing to do.
    let Some(m) = server.store.ack(id, uuid).await? else {
        return Ok(());
    };
    delivered_routed(server, uuid, &m.to, &m.from);
    if elsewhere(server, &m.from).await {
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
    Ok(())
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
        if c.deliver(server, key, frame.clone()) {
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
