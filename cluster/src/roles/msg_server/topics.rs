//! Topics (groups): create, join from any msg_server, send to every member; and ownership
//! (ours): the creator owns a topic, may make it invite-only, invites and kicks; any member
//! may leave and list the members.
//!
//! Topics and members live in the store, so every msg_server sees the same membership. A
//! topic message is written to the members connected here and published on
//! `/sysctrl/topic-sync`; the router hands it to the other msg_servers as
//! `ROUTE_MESSAGE_TOPIC`, and each writes it to the members connected there.

use std::sync::atomic::Ordering;

use super::checks::{check_body, check_sender, client_uuid, message_key};
use super::peer::{Peer, Reject, Session};
use super::server::Server;
use crate::protocol::account::TopicMembers;
use crate::protocol::events::{now_ms, Member, TopicEvent};
use crate::protocol::TopicMessage;
use crate::protocol::{Channel, Command, ErrorCode, Level, LevelFrames};
use crate::store::TopicRecord;

/// `CREATE_TOPIC [topic]`: the creator is its first member; this server is its home.
///
/// A topic that exists is `TOPIC_EXISTS` at the fishchat level. The original re-created
/// it without a word, and its clients create the same topic at every run, so at the
/// original level the creator silently stays, or becomes, a member.
pub(crate) async fn create(
    server: &Server,
    me: &Session,
    topic: String,
    invite_only: bool,
    level: Level,
) -> Result<(), Reject> {
    let record = TopicRecord {
        name: topic.clone(),
        creator: me.id.clone(),
        home: server.addr.clone(),
        created_at_ms: now_ms(),
        invite_only,
    };
    if !server.store.create_topic(&record).await? {
        if level == Level::Original {
            let existing = existing(server, &topic).await?;
            may_join(server, &existing, &me.id).await?;
            return add_member(server, &topic, &me.id).await.map(|_| ());
        }
        return Err(Reject::new(
            ErrorCode::TopicExists,
            format!("topic {topic:?} exists already; JOIN_TOPIC to join it"),
        ));
    }
    server.stats.topics_here.fetch_add(1, Ordering::Relaxed);
    publish(server, &record, vec![me.id.clone()]);
    Ok(())
}

/// `JOIN_TOPIC [topic, id]`: adds the member, wherever the topic's home is, and answers
/// `LOCATE_TOPIC_MSG_ADDR [home, topic]` as the original does. An invite-only topic takes
/// only its owner and those it invited (the invitation is used up).
pub(crate) async fn join(
    server: &Server,
    peer: &Peer,
    me: &Session,
    topic: String,
    id: String,
) -> Result<(), Reject> {
    if id != me.id {
        return Err(Reject::new(
            ErrorCode::Forbidden,
            format!("you are logged in as {:?} and cannot add {id:?}", me.id),
        ));
    }
    let record = existing(server, &topic).await?;
    may_join(server, &record, &id).await?;
    let record = add_member(server, &topic, &id).await?;
    peer.send(&Command::LocateTopicMsgAddr {
        addr: record.home.clone(),
        topic,
    });
    Ok(())
}

/// Whether `id` may join the topic: anyone an open one; an invite-only one its owner, its
/// members and those invited (the invitation is used up here).
async fn may_join(server: &Server, record: &TopicRecord, id: &str) -> Result<(), Reject> {
    let topic = &record.name;
    if !record.invite_only
        || record.creator == id
        || server
            .store
            .members(topic)
            .await?
            .binary_search(&id.to_string())
            .is_ok()
    {
        return Ok(());
    }
    if server
        .store
        .invited(topic)
        .await?
        .binary_search(&id.to_string())
        .is_err()
    {
        return Err(Reject::new(
            ErrorCode::Forbidden,
            format!(
                "topic {topic:?} is invite-only: ask its owner {:?} to invite you",
                record.creator
            ),
        ));
    }
    server.store.set_invited(topic, id, false).await?;
    Ok(())
}

/// The topic's record; `NO_SUCH_TOPIC` where there is none.
async fn existing(server: &Server, topic: &str) -> Result<TopicRecord, Reject> {
    server
        .store
        .topic(topic)
        .await?
        .ok_or_else(|| Reject::new(ErrorCode::NoSuchTopic, format!("no topic named {topic:?}")))
}

/// The topic's record, where `me` owns it; `FORBIDDEN` otherwise.
async fn owned(
    server: &Server,
    me: &Session,
    topic: &str,
    what: &str,
) -> Result<TopicRecord, Reject> {
    let record = existing(server, topic).await?;
    if record.creator != me.id {
        return Err(Reject::new(
            ErrorCode::Forbidden,
            format!(
                "only the owner of topic {topic:?} ({:?}) may {what}",
                record.creator
            ),
        ));
    }
    Ok(record)
}

/// `INVITE_TOPIC [topic, id]` (ours): the owner lets `id` join. Harmless for a member, and
/// for an open topic (anyone may join it).
pub(crate) async fn invite(
    server: &Server,
    me: &Session,
    topic: String,
    id: String,
) -> Result<(), Reject> {
    owned(server, me, &topic, "invite").await?;
    if server
        .store
        .members(&topic)
        .await?
        .binary_search(&id)
        .is_err()
    {
        server.store.set_invited(&topic, &id, true).await?;
    }
    Ok(())
}

/// `KICK_TOPIC [topic, id]` (ours): the owner removes a member, or takes an invitation back.
/// A kicked member of an open topic may join again; of an invite-only one, only when invited
/// again.
pub(crate) async fn kick(
    server: &Server,
    me: &Session,
    topic: String,
    id: String,
) -> Result<(), Reject> {
    let record = owned(server, me, &topic, "kick").await?;
    if id == record.creator {
        return Err(Reject::new(
            ErrorCode::BadArgs,
            "the owner cannot be kicked (LEAVE_TOPIC leaves)",
        ));
    }
    let was_member = server.store.remove_member(&topic, &id).await?;
    let was_invited = server.store.set_invited(&topic, &id, false).await?;
    if !was_member && !was_invited {
        return Err(Reject::new(
            ErrorCode::BadArgs,
            format!("{id:?} is neither a member of topic {topic:?} nor invited"),
        ));
    }
    if was_member {
        tracing::info!(server = %server.addr, topic = %topic, client = %id, by = %me.id, "kicked from a topic");
        announce(server, &record).await?;
    }
    Ok(())
}

/// `LEAVE_TOPIC [topic]` (ours). The owner may leave too, and stays the owner.
pub(crate) async fn leave(server: &Server, me: &Session, topic: String) -> Result<(), Reject> {
    let record = existing(server, &topic).await?;
    if !server.store.remove_member(&topic, &me.id).await? {
        return Err(Reject::new(
            ErrorCode::BadArgs,
            format!("you are not a member of topic {topic:?}"),
        ));
    }
    announce(server, &record).await
}

/// `TOPIC_MEMBERS [topic]` (ours): answered `TOPIC_MEMBER_LIST [topic]`, to members and the
/// owner.
pub(crate) async fn members(
    server: &Server,
    peer: &Peer,
    me: &Session,
    topic: String,
) -> Result<(), Reject> {
    let record = existing(server, &topic).await?;
    let members = server.store.members(&topic).await?;
    if record.creator != me.id && members.binary_search(&me.id).is_err() {
        return Err(Reject::new(
            ErrorCode::Forbidden,
            format!("only members of topic {topic:?} may list its members"),
        ));
    }
    let list = TopicMembers {
        topic: topic.clone(),
        owner: record.creator,
        invite_only: record.invite_only,
        members,
        invited: server.store.invited(&topic).await?,
    };
    peer.send(&Command::TopicMemberList {
        topic,
        data: serde_json::to_value(list).unwrap_or_default(),
    });
    Ok(())
}

/// Adds `id` to the topic's members and says so on the topic channels; the topic's record.
async fn add_member(server: &Server, topic: &str, id: &str) -> Result<TopicRecord, Reject> {
    let record = existing(server, topic).await?;
    server.store.add_member(topic, id).await?;
    announce(server, &record).await?;
    Ok(record)
}

/// Publishes the topic's members, where anyone listens for them.
async fn announce(server: &Server, record: &TopicRecord) -> Result<(), Reject> {
    if server.channels.has(Channel::TopicStatus) || server.channels.has(Channel::StoreTopicInfo) {
        let members = server.store.members(&record.name).await?;
        publish(server, record, members);
    }
    Ok(())
}

/// `SEND_MESSAGE_TOPIC [topic, msg]`: every member gets `RESP_MESSAGE_TOPIC`, the sender
/// included.
pub(crate) async fn send(
    server: &Server,
    me: &Session,
    topic: String,
    msg: String,
    from: Option<String>,
    uuid: Option<String>,
) -> Result<(), Reject> {
    check_sender(me, from.as_deref())?;
    check_body(server, &msg, &[&topic, &me.id])?;
    let chosen = uuid.is_some();
    let uuid = client_uuid(uuid)?;
    let members = server.store.members(&topic).await?;
    if members.binary_search(&me.id).is_err() {
        return Err(Reject::new(
            ErrorCode::Forbidden,
            format!("you are not a member of topic {topic:?}; JOIN_TOPIC first"),
        ));
    }
    // A uuid the client chose names that sender's messages only (one the server makes is new
    // to everyone, and needs no claim).
    if chosen && !server.store.claim_message_id(&uuid, &me.id).await? {
        return Err(crate::store::StoreError::IdTaken(uuid).into());
    }
    server.stats.msg_in.fetch_add(1, Ordering::Relaxed);
    let sent_at_ms = now_ms();
    deliver(server, &topic, &members, &msg, &me.id, &uuid, sent_at_ms);
    server.publish(
        Channel::TopicSync,
        LevelFrames::of(Command::SendMessageTopic {
            topic,
            msg,
            from: Some(me.id.clone()),
            uuid: Some(uuid),
        }),
    );
    Ok(())
}

/// `ROUTE_MESSAGE_TOPIC` from the router: write to the members connected here.
pub(crate) async fn routed(
    server: &Server,
    topic: String,
    msg: String,
    from: String,
    uuid: String,
    sent_at_ms: u64,
) -> Result<(), Reject> {
    let members = server.store.members(&topic).await?;
    deliver(server, &topic, &members, &msg, &from, &uuid, sent_at_ms);
    Ok(())
}

fn deliver(
    server: &Server,
    topic: &str,
    members: &[String],
    msg: &str,
    from: &str,
    uuid: &str,
    sent_at_ms: u64,
) {
    let key = message_key(from, uuid);
    // Made only once a member is found here, and encoded for a level only once a member at
    // that level is.
    let mut frames = None;
    for member in members {
        for s in server.sessions.get(member) {
            let frames = frames.get_or_insert_with(|| {
                LevelFrames::of(Command::RespMessageTopic(TopicMessage {
                    topic: topic.to_string(),
                    msg: msg.to_string(),
                    from: from.to_string(),
                    uuid: Some(uuid.to_string()),
                    sent_at_ms: Some(sent_at_ms),
                }))
            });
            if server.deliver(&s, key, frames, false) {
                server.stats.msg_out.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn publish(server: &Server, record: &TopicRecord, members: Vec<String>) {
    let event = TopicEvent {
        topic_name: record.name.clone(),
        creater_id: record.creator.clone(),
        member_list: members.into_iter().map(|id| Member { id }).collect(),
        msg_server_addr: record.home.clone(),
        max_age: None,
    };
    if server.channels.has(Channel::TopicStatus) {
        let cache = TopicEvent {
            max_age: Some(server.cfg.expire.as_secs()),
            ..event.clone()
        };
        server.publish(
            Channel::TopicStatus,
            LevelFrames::of(Command::CacheTopic {
                topic: record.name.clone(),
                data: serde_json::to_value(cache).unwrap_or_default(),
            }),
        );
    }
    if server.channels.has(Channel::StoreTopicInfo) {
        server.publish(
            Channel::StoreTopicInfo,
            LevelFrames::of(Command::StoreTopic {
                topic: record.name.clone(),
                data: serde_json::to_value(event).unwrap_or_default(),
            }),
        );
    }
}
