//! How the Redis backend lays its data out: the key names (the table in [`super`]) and the
//! JSON records it stores, in the original's field names.

use serde::{Deserialize, Serialize};

use crate::store::{ClientRecord, StoredMessage, TopicRecord};

/// Key names; see the module documentation.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    pub(super) prefix: String,
}

/// Every per-name key suffix, and the fixed keys (a fixed key is the prefix plus one of these
/// with an empty name). None may be a suffix of another: see the module documentation.
pub(super) const SUFFIXES: [&str; 12] = [
    "session",
    "server_sessions",
    "msg_server_list",
    "topic",
    "topic_members",
    "topic_list",
    "offline_msg",
    "offline_msg_uuids",
    "offline_msg_seq",
    "offline_msg_total",
    "client_info",
    "client_list",
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
    pub(super) fn client(&self, id: &str) -> String {
        self.key(id, "client_info")
    }
    pub(super) fn client_list(&self) -> String {
        self.key("", "client_list")
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
}

impl From<&TopicRecord> for TopicJson {
    fn from(t: &TopicRecord) -> Self {
        Self {
            name: t.name.clone(),
            creator: t.creator.clone(),
            home: t.home.clone(),
            created_at_ms: t.created_at_ms,
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
