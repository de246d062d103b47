//! `SEND_CLIENT_ID`: login, the replay of the inbox at login, and logout. Signing in with an
//! account (`LOGIN`) is in [`super::account`], which starts its session here.
//!
//! One id may hold several connections (devices), here and on other msg_servers; each is a
//! [`Session`] in the server's table ([`super::server::Sessions`]) and in the store.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::checks::message_key;
use super::peer::{Peer, Reject, Session};
use super::server::Server;
use crate::protocol::events::{now_ms, SessionEvent};
use crate::protocol::P2pMessage;
use crate::protocol::{AuthPolicy, Channel, Command, ErrorCode, LevelFrames};

/// `SEND_CLIENT_ID [id]`: logs in without signing in, where the cluster's policy lets this
/// id do so (see [`check_policy`]), then as [`begin`] and [`replay`] say.
pub(crate) async fn login(server: &Arc<Server>, peer: &mut Peer, id: String) -> Result<(), Reject> {
    if let Some(me) = &peer.session {
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
    check_policy(server, &id).await?;
    let session = begin(server, peer, id.clone(), None).await?;
    // The id may have been claimed while the session started, after the claim ended the
    // sessions it found: registered now, this one is found by any later ending, so a second
    // look settles it.
    if let Err(refused) = check_policy(server, &id).await {
        if let Some(me) = peer.session.take() {
            logout(server, peer, me).await;
        }
        return Err(refused);
    }
    replay(server, &session).await
}

/// Whether `id` may be used without signing in: always under `open`; under `claimed` only
/// while it has no account; never under `required`.
async fn check_policy(server: &Server, id: &str) -> Result<(), Reject> {
    let needs_login = match server.cfg.auth {
        AuthPolicy::Open => false,
        AuthPolicy::Required => true,
        AuthPolicy::Claimed => server.store.account(id).await?.is_some(),
    };
    if needs_login {
        let why = match server.cfg.auth {
            AuthPolicy::Required => "this cluster needs an account for every id",
            _ => "this id has an account",
        };
        return Err(Reject::new(
            ErrorCode::AuthRequired,
            format!("{why}: sign in with LOGIN [id, password]"),
        ));
    }
    Ok(())
}

/// Registers the connection as a session of `id` (signed in with `device`, where given) here
/// and in the store, and publishes the session events. The caller then [`replay`]s the inbox.
///
/// The order matters: a message pushed to the inbox before the replay reads it is
/// replayed; one pushed after finds this session (locally, or through the store from
/// another msg_server) and is delivered live. A message both replayed and delivered live
/// is written once (see [`Session::first_sight`]).
pub(crate) async fn begin(
    server: &Arc<Server>,
    peer: &mut Peer,
    id: String,
    device: Option<String>,
) -> Result<Arc<Session>, Reject> {
    let session = Arc::new(Session::new(id.clone(), peer, device));
    server.sessions.add(session.clone());
    if let Err(e) = server.store.add_session(&id, &server.loc(&session)).await {
        server.sessions.remove(&session);
        return Err(e.into());
    }
    peer.session = Some(session.clone());
    tracing::debug!(server = %server.addr, client = %id, conn = peer.conn_id, peer = %peer.addr, "logged in");
    publish_session(server, peer, &id, true);
    Ok(session)
}

/// Writes the inbox of `session`'s id to it, oldest first, at the pace the client reads.
pub(crate) async fn replay(server: &Arc<Server>, session: &Arc<Session>) -> Result<(), Reject> {
    let id = &session.id;
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
    let room = (session.outbox.limit() / 2).max(1);
    let stall = server.cfg.scan_dead_session_timeout * 2;
    for m in pending {
        if session.outbox.queued() >= room && !session.outbox.wait_room(room, stall).await {
            tracing::info!(server = %server.addr, client = %id, "client stopped reading its offline messages");
            session.outbox.cut();
            return Ok(());
        }
        let key = message_key(&m.from, &m.uuid);
        let mut frames = LevelFrames::of(Command::RespMessageP2p(P2pMessage {
            msg: m.msg,
            from: m.from,
            uuid: m.uuid,
            sent_at_ms: Some(m.sent_at_ms),
            offline: true,
        }));
        if server.deliver(session, key, &mut frames, true) {
            server.stats.msg_out.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// The connection closed: forget it here and in the store, and say so on
/// `/store/client-info`.
pub(crate) async fn logout(server: &Arc<Server>, peer: &Peer, me: Arc<Session>) {
    server.sessions.remove(&me);
    me.close(&server.stats.pending_acks);
    if let Err(e) = server.store.remove_session(&me.id, &server.loc(&me)).await {
        tracing::warn!(server = %server.addr, client = %me.id, error = %e, "could not remove session from the store");
    }
    publish_session(server, peer, &me.id, false);
    tracing::debug!(server = %server.addr, client = %me.id, conn = peer.conn_id, "logged out");
}

fn publish_session(server: &Server, peer: &Peer, id: &str, alive: bool) {
    let event = SessionEvent {
        client_id: id.to_string(),
        client_addr: peer.addr.to_string(),
        msg_server_addr: server.addr.clone(),
        id: peer.conn_id.to_string(),
        max_age: None,
        alive,
    };
    if alive && server.channels.has(Channel::ClientStatus) {
        let cache = SessionEvent {
            max_age: Some(server.cfg.expire.as_secs()),
            ..event.clone()
        };
        server.publish(
            Channel::ClientStatus,
            LevelFrames::of(Command::CacheSession {
                id: id.to_string(),
                data: serde_json::to_value(cache).unwrap_or_default(),
            }),
        );
    }
    if server.channels.has(Channel::StoreClientInfo) {
        let mut data = serde_json::to_value(&event).unwrap_or_default();
        data["Time"] = now_ms().into();
        server.publish(
            Channel::StoreClientInfo,
            LevelFrames::of(Command::StoreSession {
                id: id.to_string(),
                data,
            }),
        );
    }
}
