//! The two protocol levels a connection can be at, and what each is sent.
//!
//! The original's clients take every frame they receive for one of the original's frames
//! (its `client_p2p` reads `Args[2]` of anything that arrives and panics on a shorter one).
//! So a connection is at the [`Level::Original`] level until its first frame is `HELLO`, and
//! at that level it is sent only the original's frames, with the original's arguments
//! ([`original_view`]), and what it sends is read as the original read it: arguments past
//! the original's are ignored, commands the original did not have are unknown
//! ([`original_arity`]). A first frame `HELLO` puts the connection at [`Level::Fishchat`],
//! where everything of ours lives: `ERROR`, `SYNC`, receipts, the added arguments, and
//! every command added since.

use std::borrow::Cow;

use bytes::Bytes;

use super::command::{Command, ParseError};
use super::envelope::Body;
use super::message::{P2pMessage, TopicMessage};

/// The fishchat level's version: what `HELLO` offers and `HELLO_OK` settles on.
pub const VERSION: u64 = 1;

/// What a role offers at the fishchat level, as `HELLO_OK` lists it.
pub mod feature {
    /// `SYNC` / `SYNC_DONE`.
    pub const SYNC: &str = "sync";
    /// `ERROR [code, detail]` answers.
    pub const ERRORS: &str = "errors";
    /// `ROLE_STATUS` / `ROLE_STATUS_OK`.
    pub const ROLE_STATUS: &str = "role-status";
    /// `P2P_DELIVERED` receipts.
    pub const RECEIPTS: &str = "receipts";
    /// A client-chosen uuid on `SEND_MESSAGE_P2P` / `SEND_MESSAGE_TOPIC`.
    pub const MESSAGE_IDS: &str = "message-ids";
    /// `sent_at_ms` (and the `"offline"` mark) on the messages delivered.
    pub const TIMES: &str = "times";
    /// `AUTH` and `INSPECT`.
    pub const INSPECT: &str = "inspect";
    /// Accounts, devices and owned topics: `REGISTER`, `LOGIN`, `INVITE_TOPIC`, ...
    pub const ACCOUNTS: &str = "accounts";
}

/// The protocol level of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The original's protocol, frame for frame: every connection until it says `HELLO`.
    #[default]
    Original,
    /// Ours: the connection's first frame was `HELLO`.
    Fishchat,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Original => "original",
            Level::Fishchat => "fishchat",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a frame body is a `HELLO` (well-formed or not): as a connection's first frame,
/// it puts the connection at the fishchat level.
pub fn is_hello(body: &[u8]) -> bool {
    matches!(Body::parse_envelope(body), Ok(env) if env.cmd == "HELLO")
}

/// How many arguments the original read of each of its commands; `None` for a command it
/// did not have. At the original level arguments past these are ignored, as the original
/// ignored them (its `client_p2p` sometimes acks with five).
pub fn original_arity(cmd: &str) -> Option<usize> {
    Some(match cmd {
        "REQ_MSG_SERVER" => 0,
        "SELECT_MSG_SERVER_FOR_CLIENT" => 1,
        "SEND_CLIENT_ID" => 1,
        "SEND_PING" => 1,
        "SEND_MESSAGE_P2P" => 3,
        "P2P_ACK" => 2,
        "CREATE_TOPIC" => 1,
        "JOIN_TOPIC" => 2,
        "SEND_MESSAGE_TOPIC" => 2,
        "SUBSCRIBE_CHANNEL" => 2,
        "RESP_MESSAGE_P2P" => 3,
        "LOCATE_TOPIC_MSG_ADDR" => 2,
        "RESP_MESSAGE_TOPIC" => 3,
        "ROUTE_MESSAGE_P2P" => 4,
        "CACHE_SESSION" | "STORE_SESSION" | "CACHE_TOPIC" | "STORE_TOPIC" => 1,
        _ => return None,
    })
}

impl Command {
    /// Parses a frame body from a connection at `level`: at the original level as the
    /// original read it (see [`original_arity`]).
    pub fn from_body_at(body: &[u8], level: Level) -> Result<Command, ParseError> {
        let mut env = Body::parse_envelope(body)?;
        if level == Level::Original {
            match original_arity(&env.cmd) {
                Some(n) => env.args.truncate(n),
                None => {
                    let name = super::command::clip(&env.cmd, super::command::QUOTED);
                    return Err(super::CommandError::UnknownCmd(name).into());
                }
            }
        }
        Ok(Command::from_envelope(env)?)
    }

    /// This command as a connection at `level` is sent it; `None` where that level is sent
    /// nothing in its place.
    pub fn at_level(&self, level: Level) -> Option<Cow<'_, Command>> {
        match level {
            Level::Fishchat => Some(Cow::Borrowed(self)),
            Level::Original => original_view(self),
        }
    }

    /// The frame a connection at `level` is sent for this command, if any.
    pub fn to_frame_at(&self, level: Level) -> Option<Bytes> {
        self.at_level(level).map(|c| c.to_frame())
    }
}

/// What a connection at the original level is sent in place of `cmd`: the original's frame
/// with the original's arguments, or `None` where the original had no such frame. Every
/// command is named here, so a new one must say what the original level gets (nothing,
/// for every command we add).
pub fn original_view(cmd: &Command) -> Option<Cow<'_, Command>> {
    use Command::*;
    let owned = match cmd {
        ReqMsgServer
        | SelectMsgServerForClient { .. }
        | SendClientId { .. }
        | SendPing
        | P2pAck { .. }
        | JoinTopic { .. }
        | LocateTopicMsgAddr { .. }
        | CacheSession { .. }
        | StoreSession { .. }
        | CacheTopic { .. }
        | StoreTopic { .. } => return Some(Cow::Borrowed(cmd)),
        CreateTopic { topic, .. } => CreateTopic {
            topic: topic.clone(),
            invite_only: false,
        },
        RespMessageP2p(m) => RespMessageP2p(P2pMessage {
            sent_at_ms: None,
            offline: false,
            ..m.clone()
        }),
        RespMessageTopic(m) => RespMessageTopic(TopicMessage {
            uuid: None,
            sent_at_ms: None,
            ..m.clone()
        }),
        // On `/sysctrl/send`, as the original published it: `[to, msg, from, uuid]`.
        SendMessageP2p {
            to,
            msg,
            from,
            uuid,
            sent_at_ms: _,
        } => SendMessageP2p {
            to: to.clone(),
            msg: msg.clone(),
            from: from.clone(),
            uuid: uuid.clone(),
            sent_at_ms: None,
        },
        RouteMessageP2p {
            to,
            msg,
            from,
            uuid,
            sent_at_ms: _,
        } => RouteMessageP2p {
            to: to.clone(),
            msg: msg.clone(),
            from: from.clone(),
            uuid: uuid.clone(),
            sent_at_ms: None,
        },
        SubscribeChannel {
            channel,
            subscriber,
            secret: _,
        } => SubscribeChannel {
            channel: channel.clone(),
            subscriber: subscriber.clone(),
            secret: None,
        },
        // A msg_server sends it only on `/sysctrl/topic-sync`, which the original never
        // published on: the topic traffic across msg_servers is ours.
        SendMessageTopic { .. } => return None,
        Hello { .. }
        | HelloOk { .. }
        | Sync { .. }
        | SyncDone { .. }
        | Error { .. }
        | P2pDelivered { .. }
        | RouteMessageTopic { .. }
        | FrameDropped { .. }
        | RoleStatus
        | RoleStatusOk { .. }
        | Auth { .. }
        | Inspect { .. }
        | InspectResult { .. }
        | Register { .. }
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
        | EndSessions { .. } => return None,
    };
    Some(Cow::Owned(owned))
}

/// One thing to send to many connections, encoded at most once per level: a command (each
/// level gets its view of it), or a frame every level takes as it is (the bare monitor beat,
/// whose extra fields the original's readers ignore).
pub struct LevelFrames {
    cmd: Option<Command>,
    fishchat: Option<Bytes>,
    original: Option<Option<Bytes>>,
}

impl LevelFrames {
    pub fn of(cmd: Command) -> LevelFrames {
        LevelFrames {
            cmd: Some(cmd),
            fishchat: None,
            original: None,
        }
    }

    /// A frame both levels are sent unchanged.
    pub fn same(frame: Bytes) -> LevelFrames {
        LevelFrames {
            cmd: None,
            fishchat: Some(frame.clone()),
            original: Some(Some(frame)),
        }
    }

    /// The frame for a connection at `level`; `None` where it is sent nothing.
    pub fn get(&mut self, level: Level) -> Option<Bytes> {
        let cmd = &self.cmd;
        match level {
            Level::Fishchat => Some(
                self.fishchat
                    .get_or_insert_with(|| cmd.as_ref().map(Command::to_frame).unwrap_or_default())
                    .clone(),
            ),
            Level::Original => self
                .original
                .get_or_insert_with(|| cmd.as_ref().and_then(|c| c.to_frame_at(Level::Original)))
                .clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Envelope, ErrorCode};

    fn body(cmd: &str, args: &[&str]) -> Vec<u8> {
        let env = Envelope::new(cmd, args.iter().map(|s| s.to_string()).collect());
        env.to_frame()[4..].to_vec()
    }

    fn args_of(frame: Bytes) -> Vec<String> {
        Body::parse_envelope(&frame[4..]).unwrap().args
    }

    #[test]
    fn the_original_level_gets_the_originals_arguments() {
        let p2p = Command::RespMessageP2p(P2pMessage {
            msg: "hi".into(),
            from: "alice".into(),
            uuid: "u".into(),
            sent_at_ms: Some(5),
            offline: true,
        });
        let original = p2p.to_frame_at(Level::Original).unwrap();
        assert_eq!(args_of(original), ["hi", "alice", "u"]);
        assert_eq!(args_of(p2p.to_frame_at(Level::Fishchat).unwrap()).len(), 5);
        let topic = Command::RespMessageTopic(TopicMessage {
            topic: "t".into(),
            msg: "hi".into(),
            from: "alice".into(),
            uuid: Some("u".into()),
            sent_at_ms: Some(5),
        });
        assert_eq!(
            args_of(topic.to_frame_at(Level::Original).unwrap()),
            ["t", "hi", "alice"]
        );
        let routed = Command::SendMessageP2p {
            to: "bob".into(),
            msg: "hi".into(),
            from: Some("alice".into()),
            uuid: Some("u".into()),
            sent_at_ms: Some(5),
        };
        assert_eq!(
            args_of(routed.to_frame_at(Level::Original).unwrap()),
            ["bob", "hi", "alice", "u"]
        );
    }

    #[test]
    fn the_original_level_gets_nothing_of_ours() {
        for cmd in [
            Command::error(ErrorCode::BadArgs, "x"),
            Command::SyncDone { token: "t".into() },
            Command::P2pDelivered {
                uuid: "u".into(),
                to: "bob".into(),
                from: None,
            },
            Command::HelloOk {
                version: 1,
                server: "s".into(),
                features: vec![],
            },
            Command::FrameDropped {
                code: ErrorCode::BadArgs,
                data: serde_json::Value::Null,
            },
        ] {
            assert_eq!(cmd.to_frame_at(Level::Original), None, "{cmd:?}");
            assert!(cmd.to_frame_at(Level::Fishchat).is_some());
        }
    }

    #[test]
    fn the_original_level_reads_as_the_original_read() {
        // client_p2p's five-argument ack: the extra three are ignored.
        let ack = body("P2P_ACK", &["me", "u", "bob", "text", "me"]);
        assert_eq!(
            Command::from_body_at(&ack, Level::Original).unwrap(),
            Command::P2pAck {
                id: "me".into(),
                uuid: "u".into()
            }
        );
        assert_eq!(
            Command::from_body_at(&ack, Level::Fishchat)
                .unwrap_err()
                .code(),
            ErrorCode::BadArgs
        );
        // A fourth argument is not a uuid to the original: it is ignored, not refused.
        let send = body("SEND_MESSAGE_P2P", &["bob", "hi", "me", "not-a-uuid"]);
        assert!(matches!(
            Command::from_body_at(&send, Level::Original).unwrap(),
            Command::SendMessageP2p { uuid: None, .. }
        ));
        // Our commands do not exist at the original level.
        for ours in ["SYNC", "HELLO", "ROLE_STATUS", "AUTH", "INSPECT"] {
            let e = Command::from_body_at(&body(ours, &["1"]), Level::Original).unwrap_err();
            assert_eq!(e.code(), ErrorCode::UnknownCmd, "{ours}");
        }
        // Too few arguments are still too few.
        let short = body("JOIN_TOPIC", &["t"]);
        assert_eq!(
            Command::from_body_at(&short, Level::Original)
                .unwrap_err()
                .code(),
            ErrorCode::BadArgs
        );
    }

    #[test]
    fn every_original_command_is_sent_to_the_original_level() {
        for name in [
            "REQ_MSG_SERVER",
            "SELECT_MSG_SERVER_FOR_CLIENT",
            "SEND_CLIENT_ID",
            "SEND_PING",
            "SEND_MESSAGE_P2P",
            "P2P_ACK",
            "CREATE_TOPIC",
            "JOIN_TOPIC",
            "SUBSCRIBE_CHANNEL",
            "RESP_MESSAGE_P2P",
            "LOCATE_TOPIC_MSG_ADDR",
            "RESP_MESSAGE_TOPIC",
            "ROUTE_MESSAGE_P2P",
            "CACHE_SESSION",
            "STORE_SESSION",
            "CACHE_TOPIC",
            "STORE_TOPIC",
        ] {
            let n = original_arity(name).unwrap();
            let args: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let cmd = Command::from_body_at(&body(name, &args), Level::Original)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let view = original_view(&cmd).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(view.name(), name);
            assert!(view.to_envelope().args.len() <= n, "{name}");
        }
    }

    #[test]
    fn hello_is_known_by_its_name_whatever_its_arguments() {
        assert!(is_hello(&body("HELLO", &["1", "tui"])));
        assert!(is_hello(&body("HELLO", &[])));
        assert!(!is_hello(&body("SEND_PING", &["PING"])));
        assert!(!is_hello(b"not json"));
    }

    #[test]
    fn level_frames_encode_each_level_once() {
        let mut f = LevelFrames::of(Command::P2pDelivered {
            uuid: "u".into(),
            to: "bob".into(),
            from: None,
        });
        assert!(f.get(Level::Original).is_none());
        assert_eq!(f.get(Level::Fishchat), f.get(Level::Fishchat));
        let mut same = LevelFrames::same(Bytes::from_static(b"x"));
        assert_eq!(same.get(Level::Original).as_deref(), Some(&b"x"[..]));
    }
}
