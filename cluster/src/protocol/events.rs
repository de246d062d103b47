//! `AnyData` payloads of the internal events, with the original's field names, and the
//! monitor beat. Extra fields we add sit beside the original's; readers ignore unknown ones.

use serde::{Deserialize, Serialize};

/// `CACHE_SESSION` / `STORE_SESSION`: a client logged in (or, with `Alive: false`, out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct SessionEvent {
    #[serde(rename = "ClientID")]
    pub client_id: String,
    pub client_addr: String,
    pub msg_server_addr: String,
    /// The connection's id on its msg_server (the original put the session id here).
    #[serde(rename = "ID", default)]
    pub id: String,
    /// Seconds a cache may keep this entry (CACHE_SESSION only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    #[serde(default = "yes")]
    pub alive: bool,
}

fn yes() -> bool {
    true
}

/// One entry of `MemberList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    #[serde(rename = "ID")]
    pub id: String,
}

/// `CACHE_TOPIC` / `STORE_TOPIC`: a topic was created or joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TopicEvent {
    pub topic_name: String,
    /// The original's spelling.
    #[serde(rename = "CreaterID")]
    pub creater_id: String,
    pub member_list: Vec<Member>,
    pub msg_server_addr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
}

/// The bare beat on `/sysctrl/monitor`. `SessionNum` is the original's; the rest are ours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct MonitorBeat {
    pub session_num: u64,
    #[serde(default)]
    pub server: String,
    /// Distinct logged-in ids.
    #[serde(default)]
    pub client_num: u64,
    /// Topics homed on this server.
    #[serde(default)]
    pub topic_num: u64,
    /// Messages received from clients since start (p2p and topic).
    #[serde(default)]
    pub msg_in: u64,
    /// Messages written to clients since start (p2p and topic deliveries).
    #[serde(default)]
    pub msg_out: u64,
    /// Acks received since start.
    #[serde(default)]
    pub acks: u64,
    /// Clients cut off for not reading.
    #[serde(default)]
    pub slow_drops: u64,
    /// Frames from original-level connections dropped instead of answered `ERROR`.
    #[serde(default)]
    pub original_drops: u64,
    /// p2p messages written to connections of this server that those connections have not
    /// acked yet. Counted per connection: a connection that closes takes its share with it
    /// (the messages stay in the receiver's inbox and are replayed at the next login).
    #[serde(default)]
    pub pending_acks: u64,
    /// Messages waiting in the store's inboxes (the offline queue), for every receiver,
    /// until acked. Store-wide: every msg_server of a cluster sharing one store reports the
    /// same figure. Absent where the store cannot count it cheaply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_depth: Option<u64>,
    #[serde(default)]
    pub uptime_secs: u64,
    /// Unix milliseconds when the beat was made.
    #[serde(default)]
    pub time_ms: u64,
}

/// `FRAME_DROPPED`: what a connection at the original level sent that could not be
/// served, and was dropped instead of answered with `ERROR` (the original's clients take
/// any frame for a message). One event stands for `Dropped` frames: a connection that
/// keeps sending them is reported at most once a second.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DropEvent {
    /// The logged-in id; empty before login.
    #[serde(rename = "ClientID", default)]
    pub client_id: String,
    pub client_addr: String,
    pub msg_server_addr: String,
    /// The connection's id on its msg_server.
    #[serde(rename = "ID", default)]
    pub id: String,
    /// The command dropped, where the frame named one this server knows; empty otherwise.
    #[serde(default)]
    pub cmd: String,
    /// Why, as the `ERROR` would have said it.
    #[serde(default)]
    pub detail: String,
    /// Frames dropped on this connection since the last event (this one included).
    #[serde(default)]
    pub dropped: u64,
    /// Whether the connection was closed for it (an original-level client that cannot be
    /// served at all: a frame over the limit, a login refused).
    #[serde(default)]
    pub closed: bool,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_names_are_the_originals() {
        let v = serde_json::to_value(TopicEvent {
            topic_name: "t".into(),
            creater_id: "a".into(),
            member_list: vec![Member { id: "a".into() }],
            msg_server_addr: "x:1".into(),
            max_age: Some(3),
        })
        .unwrap();
        assert_eq!(
            v,
            json!({"TopicName":"t","CreaterID":"a","MemberList":[{"ID":"a"}],"MsgServerAddr":"x:1","MaxAge":3})
        );
        let beat: MonitorBeat = serde_json::from_value(json!({"SessionNum": 3})).unwrap();
        assert_eq!(beat.session_num, 3);
    }
}
