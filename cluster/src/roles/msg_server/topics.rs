//! Topics (groups): create, join from any msg_server, send to every member.
//!
//! Topics and members live in the store, so every msg_server sees the same membership. A
//! topic message is written to the members connected here and published on
//! `/sysctrl/topic-sync`; the router hands it to the other msg_servers as
//! `ROUTE_MESSAGE_TOPIC`, and each writes it to the members connected there.

use std::sync::atomic::Ordering;

use super::checks::{check_body, check_sender, client_uuid, message_key};
use super::peer::{Peer, Reject, Session};
use super::server::Server;
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
/// `LOCATE_TOPIC_MSG_ADDR [home, topic]` as the original does.
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
    let record = add_member(server, &topic, &id).await?;
    peer.send(&Command::LocateTopicMsgAddr {
        addr: record.home.clone(),
        topic,
    });
    Ok(())
}

/// Adds `id` to the topic's members and says so on the topic channels; the topic's record.
async fn add_member(server: &Server, topic: &str, id: &str) -> Result<TopicRecord, Reject> {
    let Some(record) = server.store.topic(topic).await? else {
        return Err(Reject::new(
            ErrorCode::NoSuchTopic,
            format!("no topic named {topic:?}"),
        ));
    };
    server.store.add_member(topic, id).await?;
    if server.channels.has(Channel::TopicStatus) || server.channels.has(Channel::StoreTopicInfo) {
        let members = server.store.members(&record.name).await?;
        publish(server, &record, members);
    }
    Ok(record)
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
    let uuid = client_uuid(uuid)?;
    let members = server.store.members(&topic).await?;
    if members.binary_search(&me.id).is_err() {
        return Err(Reject::new(
            ErrorCode::Forbidden,
            format!("you are not a member of topic {topic:?}; JOIN_TOPIC first"),
        ));
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
    let key = message_key(uuid);
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
