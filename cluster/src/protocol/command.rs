//! Every command of the protocol as one typed enum, parsed from and encoded to an
//! [`Envelope`]. Parsing names what is wrong: an unknown name, a missing argument (by its
//! name), or arguments left over.
//!
//! Commands keep the original's names and argument order. Where we add arguments to an
//! original command they come last and are optional, so original clients keep working.

use serde_json::Value;

use super::envelope::Envelope;
use super::error_code::ErrorCode;

/// Ids and topic names: at most this many bytes.
pub const MAX_NAME_LEN: usize = 256;

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
    /// server-assigned uuid as a fourth argument.
    SendMessageP2p {
        to: String,
        msg: String,
        from: Option<String>,
        uuid: Option<String>,
    },
    /// `P2P_ACK [my_id, uuid]`: the message was received.
    P2pAck { id: String, uuid: String },
    /// `CREATE_TOPIC [topic]`.
    CreateTopic { topic: String },
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
    /// `SYNC [token]` (ours): answered `SYNC_DONE [token]` once every earlier frame on this
    /// connection has been acted on. A barrier for clients and a round-trip probe.
    Sync { token: String },

    // msg_server -> client
    /// `RESP_MESSAGE_P2P [msg, from, uuid, sent_at_ms?, "offline"|"live"?]`.
    RespMessageP2p {
        msg: String,
        from: String,
        uuid: String,
        sent_at_ms: Option<u64>,
        offline: bool,
    },
    /// `LOCATE_TOPIC_MSG_ADDR [addr, topic]`: the answer to `JOIN_TOPIC`.
    LocateTopicMsgAddr { addr: String, topic: String },
    /// `RESP_MESSAGE_TOPIC [topic, msg, from, uuid?, sent_at_ms?]`.
    RespMessageTopic {
        topic: String,
        msg: String,
        from: String,
        uuid: Option<String>,
        sent_at_ms: Option<u64>,
    },
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
    /// `ROUTE_MESSAGE_P2P [to, msg, from, uuid]`.
    RouteMessageP2p {
        to: String,
        msg: String,
        from: String,
        uuid: String,
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
    /// `user ID`: where an id is connected and how many messages wait in its inbox.
    User(String),
}

impl InspectQuery {
    /// The `what` argument.
    pub fn what(&self) -> &'static str {
        match self {
            InspectQuery::Sessions => "sessions",
            InspectQuery::Topics => "topics",
            InspectQuery::Topic(_) => "topic",
            InspectQuery::User(_) => "user",
        }
    }

    /// The second argument, where the query has one.
    pub fn arg(&self) -> Option<&str> {
        match self {
            InspectQuery::Sessions | InspectQuery::Topics => None,
            InspectQuery::Topic(name) | InspectQuery::User(name) => Some(name),
        }
    }

    fn args(&self) -> Vec<String> {
        let mut v = vec![self.what().to_string()];
        v.extend(self.arg().map(str::to_string));
        v
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

/// Reads arguments in order, by name, and refuses leftovers.
struct Args<'a> {
    cmd: &'a str,
    args: std::vec::IntoIter<String>,
    data: Option<Value>,
}

impl<'a> Args<'a> {
    fn bad(&self, detail: String) -> CommandError {
        CommandError::BadArgs {
            cmd: self.cmd.to_string(),
            detail,
        }
    }

    /// A required argument that may be empty (message bodies).
    fn text(&mut self, name: &str) -> Result<String, CommandError> {
        self.args
            .next()
            .ok_or_else(|| self.bad(format!("missing argument `{name}`")))
    }

    /// A required, non-empty name (ids, topics, uuids).
    fn name(&mut self, name: &str) -> Result<String, CommandError> {
        let v = self.text(name)?;
        self.check_name(name, &v)?;
        Ok(v)
    }

    fn check_name(&self, name: &str, v: &str) -> Result<(), CommandError> {
        if v.is_empty() {
            return Err(self.bad(format!("`{name}` must not be empty")));
        }
        if v.len() > MAX_NAME_LEN {
            return Err(self.bad(format!(
                "`{name}` is {} bytes long; the maximum is {MAX_NAME_LEN}",
                v.len()
            )));
        }
        if v.chars().any(char::is_control) {
            return Err(self.bad(format!("`{name}` must not contain control characters")));
        }
        Ok(())
    }

    fn opt(&mut self) -> Option<String> {
        self.args.next()
    }

    fn opt_name(&mut self, name: &str) -> Result<Option<String>, CommandError> {
        match self.args.next() {
            Some(v) => {
                self.check_name(name, &v)?;
                Ok(Some(v))
            }
            None => Ok(None),
        }
    }

    fn opt_u64(&mut self, name: &str) -> Result<Option<u64>, CommandError> {
        match self.args.next() {
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| self.bad(format!("`{name}` must be a whole number, got {v:?}"))),
            None => Ok(None),
        }
    }

    fn u64(&mut self, name: &str) -> Result<u64, CommandError> {
        self.opt_u64(name)?
            .ok_or_else(|| self.bad(format!("missing argument `{name}`")))
    }

    fn data(&mut self) -> Value {
        self.data.take().unwrap_or(Value::Null)
    }

    /// `what` and, where it needs one, its argument (`INSPECT`, `INSPECT_RESULT`).
    fn inspect_query(&mut self) -> Result<InspectQuery, CommandError> {
        let what = self.name("what")?;
        Ok(match what.as_str() {
            "sessions" => InspectQuery::Sessions,
            "topics" => InspectQuery::Topics,
            "topic" => InspectQuery::Topic(self.name("topic")?),
            "user" => InspectQuery::User(self.name("id")?),
            _ => {
                return Err(self.bad(format!(
                    "`what` must be sessions, topics, topic or user; got {what:?}"
                )))
            }
        })
    }

    fn finish<T>(mut self, value: T) -> Result<T, CommandError> {
        let left = self.args.len();
        if left > 0 {
            let first = self.args.next().unwrap_or_default();
            return Err(self.bad(format!(
                "{left} unexpected extra argument(s), first {first:?}"
            )));
        }
        Ok(value)
    }
}

impl Command {
    /// The command's name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Command::ReqMsgServer => "REQ_MSG_SERVER",
            Command::SelectMsgServerForClient { .. } => "SELECT_MSG_SERVER_FOR_CLIENT",
            Command::SendClientId { .. } => "SEND_CLIENT_ID",
            Command::SendPing => "SEND_PING",
            Command::SendMessageP2p { .. } => "SEND_MESSAGE_P2P",
            Command::P2pAck { .. } => "P2P_ACK",
            Command::CreateTopic { .. } => "CREATE_TOPIC",
            Command::JoinTopic { .. } => "JOIN_TOPIC",
            Command::SendMessageTopic { .. } => "SEND_MESSAGE_TOPIC",
            Command::SubscribeChannel { .. } => "SUBSCRIBE_CHANNEL",
            Command::Sync { .. } => "SYNC",
            Command::RespMessageP2p { .. } => "RESP_MESSAGE_P2P",
            Command::LocateTopicMsgAddr { .. } => "LOCATE_TOPIC_MSG_ADDR",
            Command::RespMessageTopic { .. } => "RESP_MESSAGE_TOPIC",
            Command::P2pDelivered { .. } => "P2P_DELIVERED",
            Command::SyncDone { .. } => "SYNC_DONE",
            Command::Error { .. } => "ERROR",
            Command::RouteMessageP2p { .. } => "ROUTE_MESSAGE_P2P",
            Command::RouteMessageTopic { .. } => "ROUTE_MESSAGE_TOPIC",
            Command::CacheSession { .. } => "CACHE_SESSION",
            Command::StoreSession { .. } => "STORE_SESSION",
            Command::CacheTopic { .. } => "CACHE_TOPIC",
            Command::StoreTopic { .. } => "STORE_TOPIC",
            Command::RoleStatus => "ROLE_STATUS",
            Command::RoleStatusOk { .. } => "ROLE_STATUS_OK",
            Command::Auth { .. } => "AUTH",
            Command::Inspect { .. } => "INSPECT",
            Command::InspectResult { .. } => "INSPECT_RESULT",
        }
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
        let c = match cmd.as_str() {
            "REQ_MSG_SERVER" => Command::ReqMsgServer,
            "SELECT_MSG_SERVER_FOR_CLIENT" => Command::SelectMsgServerForClient {
                addr: a.name("msg_server_addr")?,
            },
            "SEND_CLIENT_ID" => Command::SendClientId { id: a.name("id")? },
            "SEND_PING" => {
                a.opt();
                Command::SendPing
            }
            "SEND_MESSAGE_P2P" => Command::SendMessageP2p {
                to: a.name("to")?,
                msg: a.text("msg")?,
                from: a.opt_name("from")?,
                uuid: a.opt_name("uuid")?,
            },
            "P2P_ACK" => Command::P2pAck {
                id: a.name("my_id")?,
                uuid: a.name("uuid")?,
            },
            "CREATE_TOPIC" => Command::CreateTopic {
                topic: a.name("topic")?,
            },
            "JOIN_TOPIC" => Command::JoinTopic {
                topic: a.name("topic")?,
                id: a.name("id")?,
            },
            "SEND_MESSAGE_TOPIC" => Command::SendMessageTopic {
                topic: a.name("topic")?,
                msg: a.text("msg")?,
                from: a.opt_name("from")?,
                uuid: a.opt_name("uuid")?,
            },
            "SUBSCRIBE_CHANNEL" => Command::SubscribeChannel {
                channel: a.name("channel")?,
                subscriber: a.opt().unwrap_or_default(),
                secret: a.opt(),
            },
            "SYNC" => Command::Sync {
                token: a.opt().unwrap_or_default(),
            },
            "RESP_MESSAGE_P2P" => Command::RespMessageP2p {
                msg: a.text("msg")?,
                from: a.name("from")?,
                uuid: a.name("uuid")?,
                sent_at_ms: a.opt_u64("sent_at_ms")?,
                offline: a.opt().as_deref() == Some("offline"),
            },
            "LOCATE_TOPIC_MSG_ADDR" => Command::LocateTopicMsgAddr {
                addr: a.name("msg_server_addr")?,
                topic: a.name("topic")?,
            },
            "RESP_MESSAGE_TOPIC" => Command::RespMessageTopic {
                topic: a.name("topic")?,
                msg: a.text("msg")?,
                from: a.name("from")?,
                uuid: a.opt_name("uuid")?,
                sent_at_ms: a.opt_u64("sent_at_ms")?,
            },
            "P2P_DELIVERED" => Command::P2pDelivered {
                uuid: a.name("uuid")?,
                to: a.name("to")?,
                from: a.opt_name("from")?,
            },
            "SYNC_DONE" => Command::SyncDone {
                token: a.opt().unwrap_or_default(),
            },
            "ERROR" => {
                let code = a.name("code")?;
                let code = code.parse().map_err(|e: String| a.bad(e))?;
                Command::Error {
                    code,
                    detail: a.opt().unwrap_or_default(),
                }
            }
            "ROUTE_MESSAGE_P2P" => Command::RouteMessageP2p {
                to: a.name("to")?,
                msg: a.text("msg")?,
                from: a.name("from")?,
                uuid: a.name("uuid")?,
            },
            "ROUTE_MESSAGE_TOPIC" => Command::RouteMessageTopic {
                topic: a.name("topic")?,
                msg: a.text("msg")?,
                from: a.name("from")?,
                uuid: a.name("uuid")?,
                sent_at_ms: a.u64("sent_at_ms")?,
            },
            "CACHE_SESSION" => Command::CacheSession {
                id: a.name("id")?,
                data: a.data(),
            },
            "STORE_SESSION" => Command::StoreSession {
                id: a.name("id")?,
                data: a.data(),
            },
            "CACHE_TOPIC" => Command::CacheTopic {
                topic: a.name("topic")?,
                data: a.data(),
            },
            "STORE_TOPIC" => Command::StoreTopic {
                topic: a.name("topic")?,
                data: a.data(),
            },
            "ROLE_STATUS" => Command::RoleStatus,
            "ROLE_STATUS_OK" => Command::RoleStatusOk {
                role: a.name("role")?,
                data: a.data(),
            },
            "AUTH" => Command::Auth {
                secret: a.text("secret")?,
            },
            "INSPECT" => Command::Inspect {
                query: a.inspect_query()?,
            },
            "INSPECT_RESULT" => Command::InspectResult {
                query: a.inspect_query()?,
                data: a.data(),
            },
            _ => return Err(CommandError::UnknownCmd(cmd.clone())),
        };
        a.finish(c)
    }

    /// Parses a frame body straight to a command.
    pub fn from_body(body: &[u8]) -> Result<Command, ParseError> {
        let env = super::Body::parse_envelope(body)?;
        Ok(Command::from_envelope(env)?)
    }

    /// Encodes to an envelope.
    pub fn to_envelope(&self) -> Envelope {
        let s = |v: &str| v.to_string();
        let mut any_data = None;
        let args: Vec<String> = match self {
            Command::ReqMsgServer | Command::RoleStatus => vec![],
            Command::SendPing => vec![s("PING")],
            Command::SelectMsgServerForClient { addr } => vec![s(addr)],
            Command::SendClientId { id } => vec![s(id)],
            Command::SendMessageP2p {
                to,
                msg,
                from,
                uuid,
            } => {
                let mut v = vec![s(to), s(msg)];
                // A uuid needs a `from` before it.
                if from.is_some() || uuid.is_some() {
                    v.push(from.clone().unwrap_or_default());
                }
                v.extend(uuid.clone());
                v
            }
            Command::P2pAck { id, uuid } => vec![s(id), s(uuid)],
            Command::CreateTopic { topic } => vec![s(topic)],
            Command::JoinTopic { topic, id } => vec![s(topic), s(id)],
            Command::SendMessageTopic {
                topic,
                msg,
                from,
                uuid,
            } => {
                let mut v = vec![s(topic), s(msg)];
                if from.is_some() || uuid.is_some() {
                    v.push(from.clone().unwrap_or_default());
                }
                v.extend(uuid.clone());
                v
            }
            Command::SubscribeChannel {
                channel,
                subscriber,
                secret,
            } => {
                let mut v = vec![s(channel), s(subscriber)];
                v.extend(secret.clone());
                v
            }
            Command::Sync { token } | Command::SyncDone { token } => vec![s(token)],
            Command::RespMessageP2p {
                msg,
                from,
                uuid,
                sent_at_ms,
                offline,
            } => {
                let mut v = vec![s(msg), s(from), s(uuid)];
                if let Some(t) = sent_at_ms {
                    v.push(t.to_string());
                    v.push(s(if *offline { "offline" } else { "live" }));
                }
                v
            }
            Command::LocateTopicMsgAddr { addr, topic } => vec![s(addr), s(topic)],
            Command::RespMessageTopic {
                topic,
                msg,
                from,
                uuid,
                sent_at_ms,
            } => {
                let mut v = vec![s(topic), s(msg), s(from)];
                if let Some(u) = uuid {
                    v.push(s(u));
                    v.extend(sent_at_ms.map(|t| t.to_string()));
                }
                v
            }
            Command::P2pDelivered { uuid, to, from } => {
                let mut v = vec![s(uuid), s(to)];
                v.extend(from.clone());
                v
            }
            Command::Error { code, detail } => vec![s(code.as_str()), s(detail)],
            Command::RouteMessageP2p {
                to,
                msg,
                from,
                uuid,
            } => {
                vec![s(to), s(msg), s(from), s(uuid)]
            }
            Command::RouteMessageTopic {
                topic,
                msg,
                from,
                uuid,
                sent_at_ms,
            } => vec![s(topic), s(msg), s(from), s(uuid), sent_at_ms.to_string()],
            Command::CacheSession { id, data } | Command::StoreSession { id, data } => {
                any_data = Some(data.clone());
                vec![s(id)]
            }
            Command::CacheTopic { topic, data } | Command::StoreTopic { topic, data } => {
                any_data = Some(data.clone());
                vec![s(topic)]
            }
            Command::RoleStatusOk { role, data } => {
                any_data = Some(data.clone());
                vec![s(role)]
            }
            Command::Auth { secret } => vec![s(secret)],
            Command::Inspect { query } => query.args(),
            Command::InspectResult { query, data } => {
                any_data = Some(data.clone());
                query.args()
            }
        };
        let mut env = Envelope::new(self.name(), args);
        env.any_data = any_data.filter(|d| !d.is_null());
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn env(cmd: &str, args: &[&str]) -> Envelope {
        Envelope::new(cmd, args.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn parses_the_original_client_commands() {
        assert_eq!(
            Command::from_envelope(env("SEND_MESSAGE_P2P", &["bob", "hi", "alice"])).unwrap(),
            Command::SendMessageP2p {
                to: "bob".into(),
                msg: "hi".into(),
                from: Some("alice".into()),
                uuid: None
            }
        );
        assert_eq!(
            Command::from_envelope(env("SEND_PING", &["PING"])).unwrap(),
            Command::SendPing
        );
        assert_eq!(
            Command::from_envelope(env("SUBSCRIBE_CHANNEL", &["/sysctrl/send"])).unwrap(),
            Command::SubscribeChannel {
                channel: "/sysctrl/send".into(),
                subscriber: String::new(),
                secret: None
            }
        );
    }

    #[test]
    fn names_what_is_wrong() {
        let e = Command::from_envelope(env("JOIN_TOPIC", &["t"])).unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadArgs);
        assert!(e.to_string().contains("`id`"), "{e}");
        let e = Command::from_envelope(env("SEND_CLIENT_ID", &["a", "b"])).unwrap_err();
        assert!(e.to_string().contains("extra"), "{e}");
        let e = Command::from_envelope(env("SEND_CLIENT_ID", &[""])).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        let e = Command::from_envelope(env("NOPE", &[])).unwrap_err();
        assert_eq!(e, CommandError::UnknownCmd("NOPE".into()));
        let long = "x".repeat(MAX_NAME_LEN + 1);
        assert!(Command::from_envelope(env("SEND_CLIENT_ID", &[&long])).is_err());
        let e = Command::from_body(b"{\"CmdName\":").unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadJson);
    }

    #[test]
    fn inspect_names_its_queries() {
        assert_eq!(
            Command::from_envelope(env("INSPECT", &["topic", "news"])).unwrap(),
            Command::Inspect {
                query: InspectQuery::Topic("news".into())
            }
        );
        let e = Command::from_envelope(env("INSPECT", &["user"])).unwrap_err();
        assert!(e.to_string().contains("`id`"), "{e}");
        let e = Command::from_envelope(env("INSPECT", &["everything"])).unwrap_err();
        assert!(
            e.to_string().contains("sessions, topics, topic or user"),
            "{e}"
        );
        let e = Command::from_envelope(env("INSPECT", &["sessions", "x"])).unwrap_err();
        assert!(e.to_string().contains("extra"), "{e}");
        assert_eq!(
            Command::from_envelope(env("AUTH", &[""])).unwrap(),
            Command::Auth {
                secret: String::new()
            }
        );
    }

    fn name() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_.:/-]{1,24}"
    }

    fn inspect_query() -> impl Strategy<Value = InspectQuery> {
        prop_oneof![
            Just(InspectQuery::Sessions),
            Just(InspectQuery::Topics),
            name().prop_map(InspectQuery::Topic),
            name().prop_map(InspectQuery::User),
        ]
    }

    fn command() -> impl Strategy<Value = Command> {
        let text = ".{0,40}";
        let data = prop_oneof![
            Just(Value::Null),
            any::<u32>().prop_map(|n| json!({"N": n}))
        ];
        prop_oneof![
            Just(Command::ReqMsgServer),
            Just(Command::SendPing),
            Just(Command::RoleStatus),
            name().prop_map(|addr| Command::SelectMsgServerForClient { addr }),
            name().prop_map(|id| Command::SendClientId { id }),
            (
                name(),
                text,
                prop::option::of(name()),
                prop::option::of(name())
            )
                .prop_map(|(to, msg, from, uuid)| Command::SendMessageP2p {
                    to,
                    msg,
                    from: from.or(uuid.as_ref().map(|_| "f".to_string())),
                    uuid
                }),
            (name(), name()).prop_map(|(id, uuid)| Command::P2pAck { id, uuid }),
            name().prop_map(|topic| Command::CreateTopic { topic }),
            (name(), name()).prop_map(|(topic, id)| Command::JoinTopic { topic, id }),
            (
                name(),
                text,
                prop::option::of(name()),
                prop::option::of(name())
            )
                .prop_map(|(topic, msg, from, uuid)| Command::SendMessageTopic {
                    topic,
                    msg,
                    from: from.or(uuid.as_ref().map(|_| "f".to_string())),
                    uuid
                }),
            (name(), name(), prop::option::of(text)).prop_map(|(channel, subscriber, secret)| {
                Command::SubscribeChannel {
                    channel,
                    subscriber,
                    secret,
                }
            }),
            text.prop_map(|token| Command::Sync { token }),
            text.prop_map(|token| Command::SyncDone { token }),
            (
                text,
                name(),
                name(),
                prop::option::of(any::<u64>()),
                any::<bool>()
            )
                .prop_map(|(msg, from, uuid, sent_at_ms, offline)| {
                    Command::RespMessageP2p {
                        msg,
                        from,
                        uuid,
                        offline: offline && sent_at_ms.is_some(),
                        sent_at_ms,
                    }
                }),
            (name(), name()).prop_map(|(addr, topic)| Command::LocateTopicMsgAddr { addr, topic }),
            (
                name(),
                text,
                name(),
                prop::option::of((name(), prop::option::of(any::<u64>())))
            )
                .prop_map(|(topic, msg, from, u)| Command::RespMessageTopic {
                    topic,
                    msg,
                    from,
                    uuid: u.as_ref().map(|(u, _)| u.clone()),
                    sent_at_ms: u.and_then(|(_, t)| t),
                }),
            (name(), name(), prop::option::of(name()))
                .prop_map(|(uuid, to, from)| Command::P2pDelivered { uuid, to, from }),
            (prop::sample::select(ErrorCode::ALL.to_vec()), text)
                .prop_map(|(code, detail)| Command::Error { code, detail }),
            (name(), text, name(), name()).prop_map(|(to, msg, from, uuid)| {
                Command::RouteMessageP2p {
                    to,
                    msg,
                    from,
                    uuid,
                }
            }),
            (name(), text, name(), name(), any::<u64>()).prop_map(
                |(topic, msg, from, uuid, sent_at_ms)| Command::RouteMessageTopic {
                    topic,
                    msg,
                    from,
                    uuid,
                    sent_at_ms
                }
            ),
            (name(), data.clone()).prop_map(|(id, data)| Command::CacheSession { id, data }),
            (name(), data.clone()).prop_map(|(id, data)| Command::StoreSession { id, data }),
            (name(), data.clone()).prop_map(|(topic, data)| Command::CacheTopic { topic, data }),
            (name(), data.clone()).prop_map(|(topic, data)| Command::StoreTopic { topic, data }),
            (name(), data.clone()).prop_map(|(role, data)| Command::RoleStatusOk { role, data }),
            text.prop_map(|secret| Command::Auth { secret }),
            inspect_query().prop_map(|query| Command::Inspect { query }),
            (inspect_query(), data)
                .prop_map(|(query, data)| Command::InspectResult { query, data }),
        ]
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(cmd in command()) {
            let frame = cmd.to_frame();
            let decoded = Command::from_body(&frame[4..]).unwrap();
            prop_assert_eq!(decoded, cmd);
        }
    }
}
