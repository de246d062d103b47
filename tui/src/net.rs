//! What the UI and the network worker tell each other: [`Request`]s from
//! [`crate::app`] to [`crate::worker`], [`Update`]s back. Plain data, no I/O, so the state
//! and its tests do not depend on the task that owns the connection.

use std::time::Duration;

use fishchat_cluster::protocol::{P2pMessage, TopicMessage};

/// What the UI asks of the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A person-to-person message with the uuid the UI chose (it matches the later
    /// [`Update::Delivered`]).
    SendP2p {
        to: String,
        text: String,
        uuid: String,
    },
    /// A topic message with the uuid the UI chose (it matches the copy the server sends
    /// back to every member, the sender included).
    SendTopic {
        topic: String,
        text: String,
        uuid: String,
    },
    Create {
        topic: String,
    },
    Join {
        topic: String,
    },
    /// The message was received (and saved): the server may drop it from the inbox.
    Ack {
        uuid: String,
    },
    /// Stop waiting and try to connect now.
    Reconnect,
}

/// What the network tells the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    Connecting {
        via: String,
        attempt: u32,
    },
    Connected {
        server: String,
    },
    Disconnected {
        reason: String,
        retry_in: Duration,
    },
    P2p(P2pMessage),
    Topic(TopicMessage),
    /// The server accepted the message `uuid`.
    Sent {
        uuid: String,
    },
    /// The server refused the message `uuid`.
    SendFailed {
        uuid: String,
        error: String,
    },
    /// The connection was lost before the server confirmed `uuid`; send it again later.
    NotSent {
        uuid: String,
    },
    /// `to` received the message `uuid`.
    Delivered {
        uuid: String,
        to: String,
    },
    Created {
        topic: String,
    },
    Joined {
        topic: String,
    },
    /// A `/create` or `/join` was refused; `what` is the command.
    Refused {
        what: String,
        error: String,
    },
    /// An error that belongs to no request of ours.
    Error {
        text: String,
    },
    /// The heartbeat's round trip.
    Rtt(Duration),
}
