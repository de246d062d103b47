//! What the UI and the network worker tell each other: [`Request`]s from
//! [`crate::app`] to [`crate::worker`], [`Update`]s back. Plain data, no I/O, so the state
//! and its tests do not depend on the task that owns the connection.

use std::time::Duration;

use fishchat_cluster::protocol::account::{DeviceList, TopicMembers};
use fishchat_cluster::protocol::{P2pMessage, Secret, TopicMessage};

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
    /// A topic; `invite_only`: joined only by those its creator invites.
    Create {
        topic: String,
        invite_only: bool,
    },
    Join {
        topic: String,
    },
    /// Let `id` join the invite-only `topic` (its creator only).
    Invite {
        topic: String,
        id: String,
    },
    /// Take `id` out of `topic` (its creator only).
    Kick {
        topic: String,
        id: String,
    },
    Leave {
        topic: String,
    },
    /// Who is in `topic`, who is invited, who owns it.
    Members {
        topic: String,
    },
    /// This account's devices.
    Devices,
    /// That device of this account signs in no more.
    Revoke {
        device_id: String,
    },
    /// A new password; the other devices are revoked unless `keep_devices`. The passwords
    /// go to the server and are dropped with the request.
    Passwd {
        old: Secret,
        new: Secret,
        keep_devices: bool,
    },
    /// Revoke this device's token and log out: the UI quits once it is done.
    Logout,
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
    /// The connection about to be reported [`Update::Connected`] signed in with the
    /// device token, as this device.
    SignedIn {
        device_id: String,
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
        invite_only: bool,
    },
    Joined {
        topic: String,
    },
    /// `id` may join `topic` now.
    Invited {
        topic: String,
        id: String,
    },
    /// `id` is out of `topic`.
    Kicked {
        topic: String,
        id: String,
    },
    Left {
        topic: String,
    },
    Members(TopicMembers),
    Devices(DeviceList),
    Revoked {
        device_id: String,
    },
    PasswordChanged {
        kept_devices: bool,
    },
    /// This device's token was revoked at our request: nothing signs in with it any more.
    LoggedOut,
    /// The cluster no longer accepts how we log in (the device was revoked, the password
    /// changed, the id was claimed by an account): the worker has stopped trying. `reason`
    /// starts with "signed out".
    SignedOut {
        reason: String,
    },
    /// A command was refused (or could not be sent); `what` is the command as typed.
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
