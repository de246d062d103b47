//! Which handler acts on each command: the one place a command's name leads to its code.
//!
//! The frames a connection sent at once are acted on in order. Consecutive p2p sends and
//! acks among them join a run ([`p2p::Run`]) that goes to the store in one trip; anything
//! else first lets the run before it take effect, so every command sees the ones before it
//! done and `SYNC` stays a true barrier.

use std::sync::Arc;

use bytes::Bytes;

use super::peer::{Peer, Reject};
use super::refuse::{close_original, refuse};
use super::server::Server;
use super::{account, channels, inspect, login, p2p, stats, topics};
use crate::protocol::level::{feature, is_hello};
use crate::protocol::{Command, ErrorCode, Level};
use crate::roles::hello;

/// What a msg_server offers at the fishchat level.
const FEATURES: &[&str] = &[
    feature::SYNC,
    feature::ERRORS,
    feature::ROLE_STATUS,
    feature::RECEIPTS,
    feature::MESSAGE_IDS,
    feature::TIMES,
    feature::INSPECT,
    feature::ACCOUNTS,
];

/// Acts on the bodies of frames that arrived together, in order, refusing (see
/// [`super::refuse`]) each command that cannot be acted on. The first frame of a connection
/// settles its level.
pub(super) async fn batch(server: &Arc<Server>, peer: &mut Peer, bodies: Vec<Bytes>) {
    let mut run = p2p::Run::default();
    for body in bodies {
        let session_ended = peer
            .session
            .as_ref()
            .is_some_and(|s| s.ended.load(std::sync::atomic::Ordering::Relaxed));
        if session_ended || peer.ended.load(std::sync::atomic::Ordering::Relaxed) {
            // Disconnected meanwhile (an original client that cannot be served), or its
            // session was ended (signed out): the rest of what it sent is not acted on.
            break;
        }
        peer.frames += 1;
        if peer.frames == 1 && is_hello(&body) {
            peer.level = Level::Fishchat;
        }
        match Command::from_body_at(&body, peer.level) {
            Ok(cmd) => command(server, peer, &mut run, cmd).await,
            Err(e) => {
                run.flush(server, peer).await;
                let reject = Reject::new(e.code(), e.to_string());
                refuse(server, peer, e.command(), reject);
            }
        }
    }
    run.flush(server, peer).await;
}

/// Acts on one command, after the run's sends and acks where it is not one of them.
async fn command(server: &Arc<Server>, peer: &mut Peer, run: &mut p2p::Run, cmd: Command) {
    let cmd = match cmd {
        // A client's own idea of the time is not taken: the message is stamped here.
        Command::SendMessageP2p {
            to,
            msg,
            from,
            uuid,
            sent_at_ms: _,
        } => return run.send(server, peer, to, msg, from, uuid),
        Command::P2pAck { id, uuid } => return run.ack(server, peer, id, uuid),
        other => other,
    };
    run.flush(server, peer).await;
    let name = cmd.name();
    let login = matches!(cmd, Command::SendClientId { .. });
    if let Err(reject) = handle(server, peer, cmd).await {
        // An original client whose login is refused cannot be served at all: it would take
        // silence for success. Only an inbox that could not be replayed leaves it logged in.
        let served = reject.code == ErrorCode::Unavailable && peer.session.is_some();
        if login && peer.level == Level::Original && !served {
            close_original(server, peer, Some(name), reject);
        } else {
            refuse(server, peer, Some(name), reject);
        }
    }
}

/// Every command but the p2p sends and acks, which [`command`] gives to the run.
async fn handle(server: &Arc<Server>, peer: &mut Peer, cmd: Command) -> Result<(), Reject> {
    match cmd {
        Command::SendPing => Ok(()),
        Command::Hello { version, client } => {
            let ok = hello::answer("msg_server", peer.frames, version, FEATURES)
                .map_err(|(code, detail)| Reject::new(code, detail))?;
            peer.client_name = client;
            peer.send(&ok);
            Ok(())
        }
        Command::Sync { token } => {
            peer.send(&Command::SyncDone { token });
            Ok(())
        }
        Command::RoleStatus => {
            peer.send(&Command::RoleStatusOk {
                role: "msg_server".into(),
                data: serde_json::to_value(stats::snapshot(server)).unwrap_or_default(),
            });
            Ok(())
        }
        Command::SendClientId { id } => login::login(server, peer, id).await,
        Command::Auth { secret } => inspect::auth(server, peer, &secret),
        Command::Inspect { query } => inspect::inspect(server, peer, query).await,
        Command::SubscribeChannel {
            channel,
            subscriber,
            secret,
        } => channels::subscribe(server, peer, &channel, &subscriber, secret),

        Command::CreateTopic { topic, invite_only } => {
            let me = peer.session()?;
            topics::create(server, me, topic, invite_only, peer.level).await
        }
        Command::JoinTopic { topic, id } => {
            let me = peer.session()?;
            topics::join(server, peer, me, topic, id).await
        }
        Command::SendMessageTopic {
            topic,
            msg,
            from,
            uuid,
        } => {
            let me = peer.session()?;
            topics::send(server, me, topic, msg, from, uuid).await
        }

        Command::RouteMessageP2p {
            to,
            msg,
            from,
            uuid,
            sent_at_ms,
        } => {
            peer.require_internal("ROUTE_MESSAGE_P2P")?;
            p2p::routed(server, to, msg, from, uuid, sent_at_ms);
            Ok(())
        }
        Command::RouteMessageTopic {
            topic,
            msg,
            from,
            uuid,
            sent_at_ms,
        } => {
            peer.require_internal("ROUTE_MESSAGE_TOPIC")?;
            topics::routed(server, topic, msg, from, uuid, sent_at_ms).await
        }
        Command::P2pDelivered { uuid, to, from } => {
            peer.require_internal("P2P_DELIVERED")?;
            let from = from.ok_or_else(|| {
                Reject::new(ErrorCode::BadArgs, "P2P_DELIVERED: missing argument `from`")
            })?;
            p2p::delivered_routed(server, &uuid, &to, &from);
            Ok(())
        }

        Command::Register { id, password } => {
            account::register(server, peer, id, password.into_inner()).await
        }
        Command::Login {
            id,
            credential,
            device,
        } => account::login(server, peer, id, credential.into_inner(), device).await,
        Command::Logout => account::logout(server, peer).await,
        Command::Devices => account::devices(server, peer).await,
        Command::Revoke { device_id } => account::revoke(server, peer, device_id).await,
        Command::Passwd {
            old,
            new,
            keep_devices,
        } => {
            let (old, new) = (old.into_inner(), new.into_inner());
            account::passwd(server, peer, old, new, keep_devices).await
        }
        Command::Account { id } => account::account(server, peer, id).await,
        Command::UserAdd { id, password } => {
            account::user_add(server, peer, id, password.into_inner()).await
        }
        Command::UserPasswd { id, password } => {
            account::user_passwd(server, peer, id, password.into_inner()).await
        }
        Command::UserDel { id } => account::user_del(server, peer, id).await,
        Command::UserRevoke { id, device_id } => {
            account::user_revoke(server, peer, id, device_id).await
        }
        Command::KickUser { id } => account::kick_user(server, peer, id),
        Command::EndSessions { id, which, why } => {
            account::end_sessions(server, peer, id, which, &why)
        }

        Command::InviteTopic { topic, id } => {
            let me = peer.session()?;
            topics::invite(server, me, topic, id).await
        }
        Command::KickTopic { topic, id } => {
            let me = peer.session()?;
            topics::kick(server, me, topic, id).await
        }
        Command::LeaveTopic { topic } => {
            let me = peer.session()?;
            topics::leave(server, me, topic).await
        }
        Command::TopicMembers { topic } => {
            let me = peer.session()?;
            topics::members(server, peer, me, topic).await
        }

        // Answers and events travel from servers, never to them. Answering an ERROR or a
        // SYNC_DONE with another ERROR could bounce between two peers forever: ignore those.
        Command::Error { .. } | Command::SyncDone { .. } => Ok(()),
        other => Err(Reject::new(
            ErrorCode::WrongRole,
            format!("{} is not a command a msg_server accepts", other.name()),
        )),
    }
}
