//! The documents of each collection, with the original's field names (the table in
//! [`super`]), and their conversions to and from the store's records.

use mongodb::bson::{doc, oid::ObjectId, Document};
use serde::{Deserialize, Serialize};

use crate::store::backend::{to_i64, to_u64};
use crate::store::{ClientRecord, SessionLoc, StoreResult, StoredMessage, TopicRecord};

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct SessionDoc {
    #[serde(rename = "ClientID")]
    pub(super) id: String,
    #[serde(rename = "MsgServerAddr")]
    pub(super) server: String,
    #[serde(rename = "Conn")]
    pub(super) conn: i64,
}

impl SessionDoc {
    pub(super) fn new(id: &str, loc: &SessionLoc) -> StoreResult<SessionDoc> {
        Ok(SessionDoc {
            id: id.to_string(),
            server: loc.server.clone(),
            conn: to_i64("connection id", loc.conn)?,
        })
    }

    pub(super) fn filter(&self) -> Document {
        doc! {"ClientID": &self.id, "MsgServerAddr": &self.server, "Conn": self.conn}
    }

    pub(super) fn loc(&self) -> StoreResult<SessionLoc> {
        Ok(SessionLoc {
            server: self.server.clone(),
            conn: to_u64("connection id", self.conn)?,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct TopicDoc {
    #[serde(rename = "_id")]
    pub(super) id: String,
    #[serde(rename = "TopicName")]
    pub(super) name: String,
    #[serde(rename = "CreaterID")]
    pub(super) creator: String,
    #[serde(rename = "MsgServerAddr")]
    pub(super) home: String,
    #[serde(rename = "CreatedAtMs")]
    pub(super) created_at_ms: i64,
    #[serde(rename = "MemberList", default)]
    pub(super) members: Vec<MemberDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct MemberDoc {
    #[serde(rename = "ID")]
    pub(super) id: String,
}

impl TopicDoc {
    pub(super) fn record(&self) -> StoreResult<TopicRecord> {
        Ok(TopicRecord {
            name: self.name.clone(),
            creator: self.creator.clone(),
            home: self.home.clone(),
            created_at_ms: to_u64("topic creation time", self.created_at_ms)?,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct MessageDoc {
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub(super) oid: Option<ObjectId>,
    #[serde(rename = "ToID")]
    pub(super) to: String,
    #[serde(rename = "Seq")]
    pub(super) seq: i64,
    #[serde(rename = "Uuid")]
    pub(super) uuid: String,
    #[serde(rename = "FromID")]
    pub(super) from: String,
    #[serde(rename = "Msg")]
    pub(super) msg: String,
    #[serde(rename = "SentAtMs")]
    pub(super) sent_at_ms: i64,
    /// Only in `message_history`.
    #[serde(rename = "AckedAtMs", skip_serializing_if = "Option::is_none", default)]
    pub(super) acked_at_ms: Option<i64>,
}

impl MessageDoc {
    pub(super) fn message(&self) -> StoreResult<StoredMessage> {
        Ok(StoredMessage {
            uuid: self.uuid.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            msg: self.msg.clone(),
            sent_at_ms: to_u64("send time", self.sent_at_ms)?,
        })
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct CounterDoc {
    #[serde(rename = "Seq")]
    pub(super) seq: i64,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ClientDoc {
    #[serde(rename = "_id")]
    pub(super) key: String,
    #[serde(rename = "ClientID")]
    pub(super) id: String,
    #[serde(rename = "ClientAddr")]
    pub(super) client_addr: String,
    #[serde(rename = "MsgServerAddr")]
    pub(super) msg_server: String,
    #[serde(rename = "Alive")]
    pub(super) alive: bool,
    #[serde(rename = "LastSeenMs")]
    pub(super) last_seen_ms: i64,
}

impl ClientDoc {
    pub(super) fn record(&self) -> StoreResult<ClientRecord> {
        Ok(ClientRecord {
            id: self.id.clone(),
            client_addr: self.client_addr.clone(),
            msg_server: self.msg_server.clone(),
            alive: self.alive,
            last_seen_ms: to_u64("last seen time", self.last_seen_ms)?,
        })
    }
}
