//! How the Redis backend lays its data out: the key names (the table in [`super`]) and the
//! records it stores (JSON, and the account hash's fields), in the original's field names.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::store::{Account, ClientRecord, Device, StoredMessage, TopicRecord};

/// Key names; see the module documentation.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    pub(super) prefix: String,
}

/// Every per-name key suffix, and the fixed keys (a fixed key is the prefix plus one of these
/// with an empty name). None may be a suffix of another: see the module documentation.
pub(super) const SUFFIXES: [&str; 17] = [
    "session",
    "server_sessions",
    "msg_server_list",
    "topic",
    "topic_members",
    "topic_invited",
    "topic_list",
    "offline_msg",
    "offline_msg_uuids",
    "offline_msg_seq",
    "offline_msg_total",
    "message_id",
    "client_info",
    "client_list",
    "account",
    "account_devices",
    "account_list",
];

impl Keys {
    fn key(&self, name: &str, suffix: &str) -> String {
        debug_assert!(SUFFIXES.contains(&suffix), "unknown key suffix {suffix}");
        format!("{}{name}{suffix}", self.prefix)
    }
    pub(super) fn session(&self, id: &str) -> String {
        self.key(id, "session")
    }
    pub(super) fn server_sessions(&self, server: &str) -> String {
        self.key(server, "server_sessions")
    }
    pub(super) fn msg_server_list(&self) -> String {
        self.key("", "msg_server_list")
    }
    pub(super) fn topic(&self, name: &str) -> String {
        self.key(name, "topic")
    }
    pub(super) fn topic_members(&self, name: &str) -> String {
        self.key(name, "topic_members")
    }
    pub(super) fn topic_invited(&self, name: &str) -> String {
        self.key(name, "topic_invited")
    }
    pub(super) fn topic_list(&self) -> String {
        self.key("", "topic_list")
    }
    pub(super) fn inbox(&self, id: &str) -> String {
        self.key(id, "offline_msg")
    }
    pub(super) fn inbox_uuids(&self, id: &str) -> String {
        self.key(id, "offline_msg_uuids")
    }
    pub(super) fn inbox_seq(&self, id: &str) -> String {
        self.key(id, "offline_msg_seq")
    }
    pub(super) fn inbox_total(&self) -> String {
        self.key("", "offline_msg_total")
    }
    pub(super) fn message_id(&self, uuid: &str) -> String {
        self.key(uuid, "message_id")
    }
    pub(super) fn client(&self, id: &str) -> String {
        self.key(id, "client_info")
    }
    pub(super) fn client_list(&self) -> String {
        self.key("", "client_list")
    }
    pub(super) fn account(&self, id: &str) -> String {
        self.key(id, "account")
    }
    pub(super) fn account_devices(&self, id: &str) -> String {
        self.key(id, "account_devices")
    }
    pub(super) fn account_list(&self) -> String {
        self.key("", "account_list")
    }
}

/// `<conn>|<rest>`: a connection number, then a name that may hold anything.
pub(super) fn split_entry(entry: &str) -> Option<(u64, &str)> {
    let (conn, rest) = entry.split_once('|')?;
    Some((conn.parse().ok()?, rest))
}

#[derive(Serialize, Deserialize)]
pub(super) struct TopicJson {
    #[serde(rename = "TopicName")]
    name: String,
    #[serde(rename = "CreaterID")]
    creator: String,
    #[serde(rename = "MsgServerAddr")]
    home: String,
    #[serde(rename = "CreatedAtMs")]
    created_at_ms: u64,
    /// Absent from topics stored before there were invitations: those are open.
    #[serde(rename = "InviteOnly", default)]
    invite_only: bool,
}

impl From<&TopicRecord> for TopicJson {
    fn from(t: &TopicRecord) -> Self {
        Self {
            name: t.name.clone(),
            creator: t.creator.clone(),
            home: t.home.clone(),
            created_at_ms: t.created_at_ms,
            invite_only: t.invite_only,
        }
    }
}

impl From<TopicJson> for TopicRecord {
    fn from(t: TopicJson) -> Self {
        Self {
            name: t.name,
            creator: t.creator,
            home: t.home,
            created_at_ms: t.created_at_ms,
            invite_only: t.invite_only,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct MessageJson {
    #[serde(rename = "Uuid")]
    uuid: String,
    #[serde(rename = "FromID")]
    from: String,
    #[serde(rename = "ToID")]
    to: String,
    #[serde(rename = "Msg")]
    msg: String,
    #[serde(rename = "SentAtMs")]
    sent_at_ms: u64,
}

impl From<&StoredMessage> for MessageJson {
    fn from(m: &StoredMessage) -> Self {
        Self {
            uuid: m.uuid.clone(),
            from: m.from.clone(),
            to: m.to.clone(),
            msg: m.msg.clone(),
            sent_at_ms: m.sent_at_ms,
        }
    }
}

impl From<MessageJson> for StoredMessage {
    fn from(m: MessageJson) -> Self {
        Self {
            uuid: m.uuid,
            from: m.from,
            to: m.to,
            msg: m.msg,
            sent_at_ms: m.sent_at_ms,
            claims_uuid: false,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct ClientJson {
    #[serde(rename = "ClientID")]
    id: String,
    #[serde(rename = "ClientAddr")]
    client_addr: String,
    #[serde(rename = "MsgServerAddr")]
    msg_server: String,
    #[serde(rename = "Alive")]
    alive: bool,
    #[serde(rename = "LastSeenMs")]
    last_seen_ms: u64,
}

impl From<&ClientRecord> for ClientJson {
    fn from(c: &ClientRecord) -> Self {
        Self {
            id: c.id.clone(),
            client_addr: c.client_addr.clone(),
            msg_server: c.msg_server.clone(),
            alive: c.alive,
            last_seen_ms: c.last_seen_ms,
        }
    }
}

impl From<ClientJson> for ClientRecord {
    fn from(c: ClientJson) -> Self {
        Self {
            id: c.id,
            client_addr: c.client_addr,
            msg_server: c.msg_server,
            alive: c.alive,
            last_seen_ms: c.last_seen_ms,
        }
    }
}

/// The account hash's field of its id (`P<id>account`: a hash rather than JSON, so that
/// `set_password` changes one field in place).
pub(super) const ACCOUNT_ID: &str = "AccountID";
/// The account hash's field of its password hash.
pub(super) const PASSWORD_HASH: &str = "PasswordHash";
/// The account hash's field of its creation time, Unix milliseconds in decimal.
pub(super) const CREATED_AT_MS: &str = "CreatedAtMs";

/// An account as its hash's fields, for `HSET`.
pub(super) fn account_to_hash(a: &Account) -> [(&'static str, String); 3] {
    [
        (ACCOUNT_ID, a.id.clone()),
        (PASSWORD_HASH, a.password_hash.clone()),
        (CREATED_AT_MS, a.created_at_ms.to_string()),
    ]
}

/// An account read back from its hash (`HGETALL`); `None` where the hash is empty (no such
/// account), `Err` naming the field that is missing or malformed.
pub(super) fn account_from_hash(
    mut fields: HashMap<String, String>,
) -> Result<Option<Account>, String> {
    if fields.is_empty() {
        return Ok(None);
    }
    let mut take = |name: &str| {
        fields
            .remove(name)
            .ok_or_else(|| format!("account hash without {name}"))
    };
    let (id, password_hash, created) = (
        take(ACCOUNT_ID)?,
        take(PASSWORD_HASH)?,
        take(CREATED_AT_MS)?,
    );
    let created_at_ms = created
        .parse()
        .map_err(|e| format!("account hash: {CREATED_AT_MS} {created:?}: {e}"))?;
    Ok(Some(Account {
        id,
        password_hash,
        created_at_ms,
    }))
}

#[derive(Serialize, Deserialize)]
pub(super) struct DeviceJson {
    #[serde(rename = "DeviceID")]
    device_id: String,
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "TokenHash")]
    token_hash: String,
    #[serde(rename = "CreatedAtMs")]
    created_at_ms: u64,
    #[serde(rename = "LastUsedMs")]
    last_used_ms: u64,
}

impl From<&Device> for DeviceJson {
    fn from(d: &Device) -> Self {
        Self {
            device_id: d.device_id.clone(),
            name: d.name.clone(),
            token_hash: d.token_hash.clone(),
            created_at_ms: d.created_at_ms,
            last_used_ms: d.last_used_ms,
        }
    }
}

impl From<DeviceJson> for Device {
    fn from(d: DeviceJson) -> Self {
        Self {
            device_id: d.device_id,
            name: d.name,
            token_hash: d.token_hash,
            created_at_ms: d.created_at_ms,
            last_used_ms: d.last_used_ms,
        }
    }
}

pub(super) fn to_json(v: &impl Serialize) -> String {
    serde_json::to_string(v).expect("records serialize to JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::redis::DEFAULT_PREFIX;

    #[test]
    fn no_key_suffix_is_a_suffix_of_another() {
        for a in SUFFIXES {
            for b in SUFFIXES {
                if a != b {
                    assert!(
                        !a.ends_with(b),
                        "{b:?} is a suffix of {a:?}: `P<x>{a}` and `P<y>{b}` could be one key"
                    );
                }
            }
        }
    }

    #[test]
    fn keys_keep_the_original_names() {
        let k = Keys {
            prefix: DEFAULT_PREFIX.into(),
        };
        assert_eq!(k.session("alice"), "IM:alicesession");
        assert_eq!(k.topic("chat"), "IM:chattopic");
        assert_eq!(k.inbox("bob"), "IM:boboffline_msg");
        assert_eq!(k.client_list(), "IM:client_list");
    }

    #[test]
    fn a_topic_stored_without_invite_only_reads_as_open() {
        let old = r#"{"TopicName":"t","CreaterID":"a","MsgServerAddr":"h","CreatedAtMs":1}"#;
        let t: TopicRecord = serde_json::from_str::<TopicJson>(old).unwrap().into();
        assert!(!t.invite_only);
        let closed = TopicRecord {
            invite_only: true,
            ..t
        };
        let json = to_json(&TopicJson::from(&closed));
        assert!(json.contains(r#""InviteOnly":true"#), "{json}");
        let back: TopicRecord = serde_json::from_str::<TopicJson>(&json).unwrap().into();
        assert_eq!(back, closed);
    }

    #[test]
    fn an_account_hash_reads_back_or_names_what_is_wrong() {
        let hash = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(account_from_hash(HashMap::new()), Ok(None));
        let alice = Account {
            id: "alice".into(),
            password_hash: "$argon2id$x".into(),
            created_at_ms: 17,
        };
        let full = account_to_hash(&alice)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(account_from_hash(full), Ok(Some(alice)));
        let e = account_from_hash(hash(&[("AccountID", "alice"), ("CreatedAtMs", "1")]));
        assert!(e.unwrap_err().contains("PasswordHash"));
        let e = account_from_hash(hash(&[
            ("AccountID", "alice"),
            ("PasswordHash", "h"),
            ("CreatedAtMs", "soon"),
        ]));
        assert!(e.unwrap_err().contains("CreatedAtMs"));
    }

    #[test]
    fn entries_split_at_the_first_bar() {
        assert_eq!(
            split_entry("12|127.0.0.1:19000"),
            Some((12, "127.0.0.1:19000"))
        );
        assert_eq!(split_entry("3|a|b"), Some((3, "a|b")));
        assert_eq!(split_entry("x|a"), None);
        assert_eq!(split_entry("no bar"), None);
    }
}
