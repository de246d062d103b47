//! Every command of the protocol as one typed enum, parsed from and encoded to an
//! [`Envelope`]. Parsing names what is wrong: an unknown name, a missing argument (by its
//! name), or arguments left over.
//!
//! Commands keep the original's names and argument order. Where we add arguments to an
//! original command they come last and are optional, so original clients keep working.
//!
//! The commands come in families, each with its codec table in a file of its own: the wire
//! name, how the arguments are read and how they are written, side by side:
//! - [`client`]: what clients send to the gateway and to a msg_server;
//! - [`delivery`]: what a msg_server sends its clients;
//! - [`internal`]: what the roles send each other and publish on the channels;
//! - [`admin`]: role status and operator tools;
//! - [`account`]: accounts, devices, topic ownership, and the operators' account commands.
//!
//! A new command is a variant below, in its family's group of [`Command::family`], and an
//! entry in that family's table.

mod account;
mod admin;
mod args;
mod client;
mod delivery;
mod internal;
#[cfg(test)]
mod tests;

use serde_json::Value;

use super::account::{AuthPolicy, Registration, SessionFilter};
use super::envelope::Envelope;
use super::error_code::ErrorCode;
use super::message::{P2pMessage, TopicMessage};
use super::secret::Secret;
use args::Args;

pub use account::{MAX_PASSWORD_LEN, MIN_PASSWORD_CHARS};

/// Ids and topic names: at most this many bytes.
pub const MAX_NAME_LEN: usize = 256;

/// How much of what a client sent an error quotes: a frame of 1 MiB must not make an `ERROR`
/// (or a report of it) of 1 MiB.
pub(crate) const QUOTED: usize = 64;

/// `s` as an error or a report quotes it: at most `max` bytes, cut on a character boundary,
/// with the length it had.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

/// One protocol command, in either direction.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    // client -> gateway -> client
    /// `REQ_MSG_SERVER []`: ask the gateway for a msg_server.
    ReqMsgServer,
    /// `SELECT_MSG_SERVER_FOR_CLIENT [addr]`: the gateway's answer.
    SelectMsgServerForClient { addr: String },

    // client -> msg_server
    /// `SEND_CLIENT_ID [id]`: log in.
    SendClientId { id: String },
    /// `SEND_PING ["PING"]`: heartbeat (the argument is optional).
    SendPing,
    /// `SEND_MESSAGE_P2P [to, msg, from?]` from a client; on `/sysctrl/send` it carries the
    /// server-assigned uuid as a fourth argument and the time the msg_server took it as a
    /// fifth. A msg_server ignores a time a client sends: it stamps its own.
    SendMessageP2p {
        to: String,
        msg: String,
        from: Option<String>,
        uuid: Option<String>,
        sent_at_ms: Option<u64>,
    },
    /// `P2P_ACK [my_id, uuid]`: the message was received.
    P2pAck { id: String, uuid: String },
    /// `CREATE_TOPIC [topic, "invite"?]`: with `"invite"` (ours) the topic is invite-only.
    CreateTopic { topic: String, invite_only: bool },
    /// `JOIN_TOPIC [topic, id]`.
    JoinTopic { topic: String, id: String },
    /// `SEND_MESSAGE_TOPIC [topic, msg]` from a client; on `/sysctrl/topic-sync` it also
    /// carries `from` and `uuid`.
    SendMessageTopic {
        topic: String,
        msg: String,
        from: Option<String>,
        uuid: Option<String>,
    },
    /// `SUBSCRIBE_CHANNEL [channel, subscriber_id, secret?]`.
    SubscribeChannel {
        channel: String,
        subscriber: String,
        secret: Option<String>,
    },
    /// `HELLO [version, client_name?]` (ours): as a connection's first frame, puts it at the
    /// fishchat protocol level (see [`crate::protocol::level`]); answered `HELLO_OK`.
    /// `version` is the highest fishchat level version the client speaks.
    Hello {
        version: u64,
        client: Option<String>,
    },
    /// `HELLO_OK [version, server_name, feature...]` (ours): the version both sides speak
    /// (the lower of the two), what the server is, and what it offers at that level.
    HelloOk {
        version: u64,
        server: String,
        features: Vec<String>,
    },
    /// `SYNC [token]` (ours): answered `SYNC_DONE [token]` once every earlier frame on this
    /// connection has been acted on. A barrier for clients and a round-trip probe.
    Sync { token: String },

    // msg_server -> client
    /// `RESP_MESSAGE_P2P [msg, from, uuid, sent_at_ms?, "offline"|"live"?]`.
    RespMessageP2p(P2pMessage),
    /// `LOCATE_TOPIC_MSG_ADDR [addr, topic]`: the answer to `JOIN_TOPIC`.
    LocateTopicMsgAddr { addr: String, topic: String },
    /// `RESP_MESSAGE_TOPIC [topic, msg, from, uuid?, sent_at_ms?]`.
    RespMessageTopic(TopicMessage),
    /// `P2P_DELIVERED [uuid, to, from?]` (ours): a message `from` sent was acked by `to`.
    /// Clients receive it without `from`; on `/sysctrl/send` and from the router it carries
    /// `from`, the original sender, so it can be routed to them.
    P2pDelivered {
        uuid: String,
        to: String,
        from: Option<String>,
    },
    /// `SYNC_DONE [token]` (ours).
    SyncDone { token: String },
    /// `ERROR [code, detail]` (ours).
    Error { code: ErrorCode, detail: String },

    // router -> msg_server
    /// `ROUTE_MESSAGE_P2P [to, msg, from, uuid, sent_at_ms?]`: the time is the sender's
    /// msg_server's, so a routed message shows when it was sent, as a replayed one does.
    RouteMessageP2p {
        to: String,
        msg: String,
        from: String,
        uuid: String,
        sent_at_ms: Option<u64>,
    },
    /// `ROUTE_MESSAGE_TOPIC [topic, msg, from, uuid, sent_at_ms]` (ours).
    RouteMessageTopic {
        topic: String,
        msg: String,
        from: String,
        uuid: String,
        sent_at_ms: u64,
    },

    // msg_server -> subscribers (events; AnyData carries the details)
    /// `CACHE_SESSION [id]` on `/sysctrl/client-status`.
    CacheSession { id: String, data: Value },
    /// `STORE_SESSION [id]` on `/store/client-info`.
    StoreSession { id: String, data: Value },
    /// `CACHE_TOPIC [topic]` on `/sysctrl/topic-status`.
    CacheTopic { topic: String, data: Value },
    /// `STORE_TOPIC [topic]` on `/store/topic-info`.
    StoreTopic { topic: String, data: Value },
    /// `FRAME_DROPPED [code]` (ours) on `/sysctrl/client-status`: a connection at the
    /// original level sent what would have been answered `ERROR [code, ..]`; it was
    /// dropped instead. AnyData: [`crate::protocol::events::DropEvent`].
    FrameDropped { code: ErrorCode, data: Value },

    /// `ROLE_STATUS []` (ours): any role answers `ROLE_STATUS_OK [role]` with its state in
    /// AnyData.
    RoleStatus,
    /// `ROLE_STATUS_OK [role]` (ours).
    RoleStatusOk { role: String, data: Value },

    // operator tools -> msg_server (ours)
    /// `AUTH [secret]`: present the cluster secret without subscribing; the connection may
    /// then send the commands that need it (`INSPECT`). No answer; `FORBIDDEN` where wrong.
    Auth { secret: String },
    /// `INSPECT [what, arg?]`: what the msg_server and its store know; answered with
    /// `INSPECT_RESULT`.
    Inspect { query: InspectQuery },
    /// `INSPECT_RESULT [what, arg?]`: the answer to `INSPECT`, the query echoed, the
    /// findings in AnyData.
    InspectResult { query: InspectQuery, data: Value },

    // accounts: client -> msg_server and its answers (ours)
    /// `REGISTER [id, password]`: makes an account for `id`, claiming it; answered
    /// `REGISTER_OK [id]`.
    Register { id: String, password: Secret },
    /// `REGISTER_OK [id]`.
    RegisterOk { id: String },
    /// `LOGIN [id, credential, device_name?]`: sign in with a password (a new device) or a
    /// device token (that device); answered `LOGIN_OK`.
    Login {
        id: String,
        credential: Secret,
        device: Option<String>,
    },
    /// `LOGIN_OK [id, device_id, token]`: signed in; `token` signs this device in from now on.
    LoginOk {
        id: String,
        device_id: String,
        token: Secret,
    },
    /// `LOGOUT []`: revokes this connection's device and logs the connection out.
    Logout,
    /// `DEVICES []`: answered `DEVICE_LIST`.
    Devices,
    /// `DEVICE_LIST [id]`, AnyData [`crate::protocol::account::DeviceList`].
    DeviceList { id: String, data: Value },
    /// `REVOKE [device_id]`: one of this account's devices can no longer sign in.
    Revoke { device_id: String },
    /// `PASSWD [old, new, "keep-devices"?]`: changes the password; the other devices are
    /// revoked unless `keep-devices`.
    Passwd {
        old: Secret,
        new: Secret,
        keep_devices: bool,
    },
    /// `ACCOUNT [id]`: whether `id` is claimed, and the cluster's policy; answered
    /// `ACCOUNT_INFO`.
    Account { id: String },
    /// `ACCOUNT_INFO [id, "claimed"|"unclaimed", auth, registration]`.
    AccountInfo {
        id: String,
        claimed: bool,
        auth: AuthPolicy,
        registration: Registration,
    },

    // topic ownership (ours)
    /// `INVITE_TOPIC [topic, id]`: the owner lets `id` join.
    InviteTopic { topic: String, id: String },
    /// `KICK_TOPIC [topic, id]`: the owner removes a member (and its invitation).
    KickTopic { topic: String, id: String },
    /// `LEAVE_TOPIC [topic]`.
    LeaveTopic { topic: String },
    /// `TOPIC_MEMBERS [topic]`: answered `TOPIC_MEMBER_LIST`, to members.
    TopicMembers { topic: String },
    /// `TOPIC_MEMBER_LIST [topic]`, AnyData [`crate::protocol::account::TopicMembers`].
    TopicMemberList { topic: String, data: Value },

    // operator tools -> msg_server: accounts (ours; need the cluster secret)
    /// `USER_ADD [id, password]`: makes an account, whatever the registration policy.
    UserAdd { id: String, password: Secret },
    /// `USER_PASSWD [id, password]`: sets a new password and revokes every device.
    UserPasswd { id: String, password: Secret },
    /// `USER_DEL [id]`: deletes the account; its signed-in sessions end.
    UserDel { id: String },
    /// `USER_REVOKE [id, device_id]`.
    UserRevoke { id: String, device_id: String },
    /// `KICK_USER [id]`: ends every session of `id`, in the whole cluster.
    KickUser { id: String },

    // msg_server -> router -> msg_servers (ours)
    /// `END_SESSIONS [id, which, why]`: end the sessions of `id` that `which` names, telling
    /// them `why`. Published on `/sysctrl/send`; the router sends it to the other msg_servers
    /// where `id` is connected.
    EndSessions {
        id: String,
        which: SessionFilter,
        why: String,
    },
}

/// What `INSPECT` asks about: its `what` argument and, for some, a second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectQuery {
    /// `sessions`: the connections logged in on this msg_server.
    Sessions,
    /// `topics`: every topic in the store.
    Topics,
    /// `topic NAME`: one topic, its members and where they are connected.
    Topic(String),
    /// `user ID`: where an id is connected, how many messages wait in its inbox, and its
    /// account.
    User(String),
    /// `accounts`: every account and its devices.
    Accounts,
}

impl InspectQuery {
    /// The `what` argument.
    pub fn what(&self) -> &'static str {
        match self {
            InspectQuery::Sessions => "sessions",
            InspectQuery::Topics => "topics",
            InspectQuery::Accounts => "accounts",
            InspectQuery::Topic(_) => "topic",
            InspectQuery::User(_) => "user",
        }
    }

    /// The second argument, where the query has one.
    pub fn arg(&self) -> Option<&str> {
        match self {
            InspectQuery::Sessions | InspectQuery::Topics | InspectQuery::Accounts => None,
            InspectQuery::Topic(name) | InspectQuery::User(name) => Some(name),
        }
    }
}

/// Why an envelope is not a command we can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("unknown command {0:?}")]
    UnknownCmd(String),
    #[error("{cmd}: {detail}")]
    BadArgs { cmd: String, detail: String },
}

impl CommandError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CommandError::UnknownCmd(_) => ErrorCode::UnknownCmd,
            CommandError::BadArgs { .. } => ErrorCode::BadArgs,
        }
    }
}

/// Which codec table a command is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Client,
    Delivery,
    Internal,
    Admin,
    Account,
}

impl Command {
    /// The family whose table reads and writes this command.
    pub(crate) fn family(&self) -> Family {
        use Command::*;
        match self {
            ReqMsgServer
            | SelectMsgServerForClient { .. }
            | SendClientId { .. }
            | SendPing
            | SendMessageP2p { .. }
            | P2pAck { .. }
            | CreateTopic { .. }
            | JoinTopic { .. }
            | SendMessageTopic { .. }
            | Hello { .. }
            | HelloOk { .. }
            | Sync { .. } => Family::Client,
            RespMessageP2p(_)
            | LocateTopicMsgAddr { .. }
            | RespMessageTopic(_)
            | P2pDelivered { .. }
            | SyncDone { .. }
            | Error { .. } => Family::Delivery,
            SubscribeChannel { .. }
            | RouteMessageP2p { .. }
            | RouteMessageTopic { .. }
            | CacheSession { .. }
            | StoreSession { .. }
            | CacheTopic { .. }
            | StoreTopic { .. }
            | FrameDropped { .. } => Family::Internal,
            RoleStatus
            | RoleStatusOk { .. }
            | Auth { .. }
            | Inspect { .. }
            | InspectResult { .. } => Family::Admin,
            Register { .. }
            | RegisterOk { .. }
            | Login { .. }
            | LoginOk { .. }
            | Logout
            | Devices
            | DeviceList { .. }
            | Revoke { .. }
            | Passwd { .. }
            | Account { .. }
            | AccountInfo { .. }
            | InviteTopic { .. }
            | KickTopic { .. }
            | LeaveTopic { .. }
            | TopicMembers { .. }
            | TopicMemberList { .. }
            | UserAdd { .. }
            | UserPasswd { .. }
            | UserDel { .. }
            | UserRevoke { .. }
            | KickUser { .. }
            | EndSessions { .. } => Family::Account,
        }
    }

    /// The command's name on the wire.
    pub fn name(&self) -> &'static str {
        let name = match self.family() {
            Family::Client => client::name(self),
            Family::Delivery => delivery::name(self),
            Family::Internal => internal::name(self),
            Family::Admin => admin::name(self),
            Family::Account => account::name(self),
        };
        name.expect("every command is in its family's table")
    }

    /// Parses an envelope, naming what is wrong.
    pub fn from_envelope(env: Envelope) -> Result<Command, CommandError> {
        let Envelope {
            cmd,
            args,
            any_data,
        } = env;
        let mut a = Args {
            cmd: &cmd,
            args: args.into_iter(),
            data: any_data,
        };
        let c = client::decode(&cmd, &mut a)
            .or_else(|| delivery::decode(&cmd, &mut a))
            .or_else(|| internal::decode(&cmd, &mut a))
            .or_else(|| admin::decode(&cmd, &mut a))
            .or_else(|| account::decode(&cmd, &mut a))
            .unwrap_or_else(|| Err(CommandError::UnknownCmd(clip(&cmd, QUOTED))))?;
        a.finish(c)
    }

    /// Parses a frame body straight to a command.
    pub fn from_body(body: &[u8]) -> Result<Command, ParseError> {
        let env = super::Body::parse_envelope(body)?;
        Ok(Command::from_envelope(env)?)
    }

    /// Encodes to an envelope.
    pub fn to_envelope(&self) -> Envelope {
        let encoded = match self.family() {
            Family::Client => client::encode(self),
            Family::Delivery => delivery::encode(self),
            Family::Internal => internal::encode(self),
            Family::Admin => admin::encode(self),
            Family::Account => account::encode(self),
        };
        let encoded = encoded.expect("every command is in its family's table");
        let mut env = Envelope::new(self.name(), encoded.args);
        env.any_data = encoded.data.filter(|d| !d.is_null());
        env
    }

    /// The whole frame, ready for the socket.
    pub fn to_frame(&self) -> bytes::Bytes {
        self.to_envelope().to_frame()
    }

    /// Shorthand for an `ERROR` frame.
    pub fn error(code: ErrorCode, detail: impl Into<String>) -> Command {
        Command::Error {
            code,
            detail: detail.into(),
        }
    }
}

/// A body that is not a command: bad JSON or a bad command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error(transparent)]
    Body(#[from] super::BodyError),
    #[error(transparent)]
    Command(#[from] CommandError),
}

impl ParseError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ParseError::Body(_) => ErrorCode::BadJson,
            ParseError::Command(c) => c.code(),
        }
    }

    /// The command the frame named, where it is one of this protocol's, with bad arguments.
    pub fn command(&self) -> Option<&str> {
        match self {
            ParseError::Command(CommandError::BadArgs { cmd, .. }) => Some(cmd),
            _ => None,
        }
    }
}
