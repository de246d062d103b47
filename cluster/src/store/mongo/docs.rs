//! The documents of each collection, with the original's field names (the table in
//! [`super`]), and their conversions to and from the store's records.

use mongodb::bson::{doc, oid::ObjectId, Document};
use serde::{Deserialize, Serialize};

use crate::store::backend::{to_i64, to_u64};
use crate::store::{
    Account, ClientRecord, Device, SessionLoc, StoreResult, StoredMessage, TopicRecord,
};

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
    /// Absent from topics stored before there were invitations: those are open.
    #[serde(rename = "InviteOnly", default)]
    pub(super) invite_only: bool,
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
            invite_only: self.invite_only,
        })
    }
}

/// One invitation to a topic, in `topic_invites`.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct InviteDoc {
    #[serde(rename = "TopicName")]
    pub(super) topic: String,
    #[serde(rename = "ID")]
    pub(super) id: String,
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
            claims_uuid: false,
        })
    }
}

/// Which sender a message id belongs to, in `message_ids`.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct MessageIdDoc {
    /// The uuid.
    #[serde(rename = "_id")]
    pub(super) uuid: String,
    #[serde(rename = "FromID")]
    pub(super) from: String,
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

/// An account with its devices, in `accounts`. `Rev` counts the changes to `Devices`: each is
/// written only where `Rev` is still what was read (see [`super::accounts`]).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct AccountDoc {
    #[serde(rename = "_id")]
    pub(super) key: String,
    #[serde(rename = "AccountID")]
    pub(super) id: String,
    #[serde(rename = "PasswordHash")]
    pub(super) password_hash: String,
    #[serde(rename = "CreatedAtMs")]
    pub(super) created_at_ms: i64,
    /// Left out of reads that do not need it (projected away).
    #[serde(rename = "Devices", default)]
    pub(super) devices: Vec<DeviceDoc>,
    #[serde(rename = "Rev")]
    pub(super) rev: i64,
}

impl AccountDoc {
    pub(super) fn new(a: &Account) -> StoreResult<AccountDoc> {
        Ok(AccountDoc {
            key: a.id.clone(),
            id: a.id.clone(),
            password_hash: a.password_hash.clone(),
            created_at_ms: to_i64("account creation time", a.created_at_ms)?,
            devices: Vec::new(),
            rev: 0,
        })
    }

    pub(super) fn record(&self) -> StoreResult<Account> {
        Ok(Account {
            id: self.id.clone(),
            password_hash: self.password_hash.clone(),
            created_at_ms: to_u64("account creation time", self.created_at_ms)?,
        })
    }
}

/// An account's devices and their revision: what a change to the devices reads.
#[derive(Debug, Deserialize)]
pub(super) struct DevicesDoc {
    #[serde(rename = "Devices", default)]
    pub(super) devices: Vec<DeviceDoc>,
    #[serde(rename = "Rev")]
    pub(super) rev: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct DeviceDoc {
    #[serde(rename = "DeviceID")]
    pub(super) device_id: String,
    #[serde(rename = "Name")]
    pub(super) name: String,
    #[serde(rename = "TokenHash")]
    pub(super) token_hash: String,
    #[serde(rename = "CreatedAtMs")]
    pub(super) created_at_ms: i64,
    #[serde(rename = "LastUsedMs")]
    pub(super) last_used_ms: i64,
}

impl DeviceDoc {
    pub(super) fn new(d: &Device) -> StoreResult<DeviceDoc> {
        Ok(DeviceDoc {
            device_id: d.device_id.clone(),
            name: d.name.clone(),
            token_hash: d.token_hash.clone(),
            created_at_ms: to_i64("device creation time", d.created_at_ms)?,
            last_used_ms: to_i64("device last use time", d.last_used_ms)?,
        })
    }

    pub(super) fn record(&self) -> StoreResult<Device> {
        Ok(Device {
            device_id: self.device_id.clone(),
            name: self.name.clone(),
            token_hash: self.token_hash.clone(),
            created_at_ms: to_u64("device creation time", self.created_at_ms)?,
            last_used_ms: to_u64("device last use time", self.last_used_ms)?,
        })
    }
}
