//! The two kinds of message a client receives, as one record each: the command that
//! carries it ([`super::Command::RespMessageP2p`], [`super::Command::RespMessageTopic`]),
//! the client SDK's event and the chat client's update all hold the same struct.

/// A person-to-person message, as `RESP_MESSAGE_P2P [msg, from, uuid, sent_at_ms?,
/// "offline"|"live"?]` carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct P2pMessage {
    pub msg: String,
    pub from: String,
    /// Ack it with this (`P2P_ACK [my_id, uuid]`).
    pub uuid: String,
    /// When the sender's msg_server took it.
    pub sent_at_ms: Option<u64>,
    /// Queued while the receiver was away (or delivered before and not acked).
    pub offline: bool,
}

/// A topic message, as `RESP_MESSAGE_TOPIC [topic, msg, from, uuid?, sent_at_ms?]` carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMessage {
    pub topic: String,
    pub msg: String,
    pub from: String,
    pub uuid: Option<String>,
    pub sent_at_ms: Option<u64>,
}
