//! The codec's tests: every command encodes and decodes back to itself.

use super::*;
use crate::protocol::{AuthPolicy, P2pMessage, Registration, SessionFilter, TopicMessage};
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
            uuid: None,
            sent_at_ms: None,
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
        e.to_string()
            .contains("sessions, topics, topic, user or accounts"),
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
        Just(InspectQuery::Accounts),
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
            prop::option::of((name(), prop::option::of(any::<u64>())))
        )
            .prop_map(|(to, msg, from, u)| Command::SendMessageP2p {
                to,
                msg,
                from: from.or(u.as_ref().map(|_| "f".to_string())),
                uuid: u.as_ref().map(|(u, _)| u.clone()),
                sent_at_ms: u.and_then(|(_, t)| t),
            }),
        (name(), name()).prop_map(|(id, uuid)| Command::P2pAck { id, uuid }),
        (name(), any::<bool>())
            .prop_map(|(topic, invite_only)| Command::CreateTopic { topic, invite_only }),
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
                Command::RespMessageP2p(P2pMessage {
                    msg,
                    from,
                    uuid,
                    offline: offline && sent_at_ms.is_some(),
                    sent_at_ms,
                })
            }),
        (name(), name()).prop_map(|(addr, topic)| Command::LocateTopicMsgAddr { addr, topic }),
        (
            name(),
            text,
            name(),
            prop::option::of((name(), prop::option::of(any::<u64>())))
        )
            .prop_map(
                |(topic, msg, from, u)| Command::RespMessageTopic(TopicMessage {
                    topic,
                    msg,
                    from,
                    uuid: u.as_ref().map(|(u, _)| u.clone()),
                    sent_at_ms: u.and_then(|(_, t)| t),
                })
            ),
        (name(), name(), prop::option::of(name()))
            .prop_map(|(uuid, to, from)| Command::P2pDelivered { uuid, to, from }),
        (prop::sample::select(ErrorCode::ALL.to_vec()), text)
            .prop_map(|(code, detail)| Command::Error { code, detail }),
        (name(), text, name(), name(), prop::option::of(any::<u64>())).prop_map(
            |(to, msg, from, uuid, sent_at_ms)| Command::RouteMessageP2p {
                to,
                msg,
                from,
                uuid,
                sent_at_ms,
            }
        ),
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
        (inspect_query(), data.clone())
            .prop_map(|(query, data)| Command::InspectResult { query, data }),
        (any::<u64>(), proptest::option::of(name()))
            .prop_map(|(version, client)| Command::Hello { version, client }),
        (
            any::<u64>(),
            name(),
            proptest::collection::vec(name(), 0..4)
        )
            .prop_map(|(version, server, features)| Command::HelloOk {
                version,
                server,
                features
            }),
        (prop::sample::select(ErrorCode::ALL.to_vec()), data.clone())
            .prop_map(|(code, data)| Command::FrameDropped { code, data }),
        account_command(data),
    ]
}

fn session_filter() -> impl Strategy<Value = SessionFilter> {
    prop_oneof![
        Just(SessionFilter::All),
        Just(SessionFilter::Unsigned),
        name().prop_map(SessionFilter::Device),
        name().prop_map(SessionFilter::AllBut),
    ]
}

fn account_command(
    data: impl Strategy<Value = Value> + Clone + 'static,
) -> impl Strategy<Value = Command> {
    let secret = ".{1,40}";
    prop_oneof![
        (name(), secret).prop_map(|(id, password)| Command::Register {
            id,
            password: password.into()
        }),
        name().prop_map(|id| Command::RegisterOk { id }),
        (name(), secret, prop::option::of(name())).prop_map(|(id, credential, device)| {
            Command::Login {
                id,
                credential: credential.into(),
                device,
            }
        }),
        (name(), name(), name()).prop_map(|(id, device_id, token)| Command::LoginOk {
            id,
            device_id,
            token: token.into()
        }),
        Just(Command::Logout),
        Just(Command::Devices),
        (name(), data.clone()).prop_map(|(id, data)| Command::DeviceList { id, data }),
        name().prop_map(|device_id| Command::Revoke { device_id }),
        (secret, secret, any::<bool>()).prop_map(|(old, new, keep_devices)| Command::Passwd {
            old: old.into(),
            new: new.into(),
            keep_devices
        }),
        name().prop_map(|id| Command::Account { id }),
        (
            name(),
            any::<bool>(),
            prop::sample::select(vec![
                AuthPolicy::Open,
                AuthPolicy::Claimed,
                AuthPolicy::Required
            ]),
            prop::sample::select(vec![Registration::Open, Registration::Closed])
        )
            .prop_map(|(id, claimed, auth, registration)| Command::AccountInfo {
                id,
                claimed,
                auth,
                registration
            }),
        (name(), name()).prop_map(|(topic, id)| Command::InviteTopic { topic, id }),
        (name(), name()).prop_map(|(topic, id)| Command::KickTopic { topic, id }),
        name().prop_map(|topic| Command::LeaveTopic { topic }),
        name().prop_map(|topic| Command::TopicMembers { topic }),
        (name(), data).prop_map(|(topic, data)| Command::TopicMemberList { topic, data }),
        (name(), secret).prop_map(|(id, password)| Command::UserAdd {
            id,
            password: password.into()
        }),
        (name(), secret).prop_map(|(id, password)| Command::UserPasswd {
            id,
            password: password.into()
        }),
        name().prop_map(|id| Command::UserDel { id }),
        (name(), name()).prop_map(|(id, device_id)| Command::UserRevoke { id, device_id }),
        name().prop_map(|id| Command::KickUser { id }),
        (name(), session_filter(), ".{0,40}").prop_map(|(id, which, why)| Command::EndSessions {
            id,
            which,
            why
        }),
    ]
}

#[test]
fn account_commands_check_their_arguments() {
    let e = Command::from_envelope(env("LOGIN", &["bob", ""])).unwrap_err();
    assert!(
        e.to_string().contains("`credential` must not be empty"),
        "{e}"
    );
    let long = "p".repeat(MAX_PASSWORD_LEN + 1);
    let e = Command::from_envelope(env("REGISTER", &["bob", &long])).unwrap_err();
    assert!(e.to_string().contains("maximum"), "{e}");
    let e = Command::from_envelope(env("CREATE_TOPIC", &["t", "secret"])).unwrap_err();
    assert!(e.to_string().contains("\"invite\""), "{e}");
    assert_eq!(
        Command::from_envelope(env("CREATE_TOPIC", &["t", "invite"])).unwrap(),
        Command::CreateTopic {
            topic: "t".into(),
            invite_only: true
        }
    );
    let e = Command::from_envelope(env("PASSWD", &["a", "b", "keep"])).unwrap_err();
    assert!(e.to_string().contains("keep-devices"), "{e}");
    let e = Command::from_envelope(env("END_SESSIONS", &["bob", "some"])).unwrap_err();
    assert_eq!(e.code(), ErrorCode::BadArgs);
}

proptest! {
    #[test]
    fn encode_then_decode_is_identity(cmd in command()) {
        let frame = cmd.to_frame();
        let decoded = Command::from_body(&frame[4..]).unwrap();
        prop_assert_eq!(decoded, cmd);
    }
}
