//! What a client hears from the server: [`Event`].

use serde_json::{Map, Value};

use crate::protocol::events::MonitorBeat;
use crate::protocol::{Command, ErrorCode, P2pMessage, TopicMessage};

/// Something the server sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `RESP_MESSAGE_P2P`: a message for us. Ack it with [`ClientSender::ack`].
    P2p(P2pMessage),
    /// `RESP_MESSAGE_TOPIC`.
    Topic(TopicMessage),
    /// `P2P_DELIVERED`: `to` acked the message `uuid` we sent.
    Delivered { uuid: String, to: String },
    /// `LOCATE_TOPIC_MSG_ADDR`: the answer to a join.
    TopicLocated { addr: String, topic: String },
    /// `ERROR`.
    Error { code: ErrorCode, detail: String },
    /// A bare monitor beat on `/sysctrl/monitor`.
    Beat(Map<String, Value>),
    /// Any other command (channel events for subscribers, answers to raw requests).
    Command(Command),
    /// The connection ended; no event follows.
    Closed { reason: String },
}

impl Event {
    /// The beat's typed view, for `Event::Beat`.
    pub fn beat(&self) -> Option<MonitorBeat> {
        match self {
            Event::Beat(m) => serde_json::from_value(Value::Object(m.clone())).ok(),
            _ => None,
        }
    }

    pub(crate) fn from_command(c: Command) -> Event {
        match c {
            Command::RespMessageP2p(m) => Event::P2p(m),
            Command::RespMessageTopic(m) => Event::Topic(m),
            Command::P2pDelivered { uuid, to, .. } => Event::Delivered { uuid, to },
            Command::LocateTopicMsgAddr { addr, topic } => Event::TopicLocated { addr, topic },
            Command::Error { code, detail } => Event::Error { code, detail },
            other => Event::Command(other),
        }
    }
}
