//! Commands clients send: to the gateway (and its answer), and to a msg_server.

use super::args::{codec, Args, Encoded};
use super::{Command, CommandError};

fn s(v: &str) -> String {
    v.to_string()
}

/// `[head..., from?, uuid?]`: a uuid needs a `from` before it.
fn with_sender(mut head: Vec<String>, from: &Option<String>, uuid: &Option<String>) -> Encoded {
    if from.is_some() || uuid.is_some() {
        head.push(from.clone().unwrap_or_default());
    }
    head.extend(uuid.clone());
    Encoded::args(head)
}

codec! {
    "REQ_MSG_SERVER", Command::ReqMsgServer,
        |a| Command::ReqMsgServer,
        Encoded::args(vec![]);
    "SELECT_MSG_SERVER_FOR_CLIENT", Command::SelectMsgServerForClient { addr },
        |a| Command::SelectMsgServerForClient { addr: a.name("msg_server_addr")? },
        Encoded::args(vec![s(addr)]);
    "SEND_CLIENT_ID", Command::SendClientId { id },
        |a| Command::SendClientId { id: a.name("id")? },
        Encoded::args(vec![s(id)]);
    "SEND_PING", Command::SendPing,
        |a| {
            a.opt();
            Command::SendPing
        },
        Encoded::args(vec![s("PING")]);
    "SEND_MESSAGE_P2P", Command::SendMessageP2p { to, msg, from, uuid, sent_at_ms },
        |a| Command::SendMessageP2p {
            to: a.name("to")?,
            msg: a.text("msg")?,
            from: a.opt_name("from")?,
            uuid: a.opt_name("uuid")?,
            sent_at_ms: a.opt_u64("sent_at_ms")?,
        },
        {
            let mut e = with_sender(vec![s(to), s(msg)], from, uuid);
            // The time follows the uuid: only a msg_server sends it, always with both.
            if uuid.is_some() {
                e.args.extend(sent_at_ms.map(|t| t.to_string()));
            }
            e
        };
    "P2P_ACK", Command::P2pAck { id, uuid },
        |a| Command::P2pAck {
            id: a.name("my_id")?,
            uuid: a.name("uuid")?,
        },
        Encoded::args(vec![s(id), s(uuid)]);
    "CREATE_TOPIC", Command::CreateTopic { topic, invite_only },
        |a| Command::CreateTopic {
            topic: a.name("topic")?,
            invite_only: super::account::create_topic_mode(a)?,
        },
        {
            let mut v = vec![s(topic)];
            if *invite_only {
                v.push(s("invite"));
            }
            Encoded::args(v)
        };
    "JOIN_TOPIC", Command::JoinTopic { topic, id },
        |a| Command::JoinTopic {
            topic: a.name("topic")?,
            id: a.name("id")?,
        },
        Encoded::args(vec![s(topic), s(id)]);
    "SEND_MESSAGE_TOPIC", Command::SendMessageTopic { topic, msg, from, uuid },
        |a| Command::SendMessageTopic {
            topic: a.name("topic")?,
            msg: a.text("msg")?,
            from: a.opt_name("from")?,
            uuid: a.opt_name("uuid")?,
        },
        with_sender(vec![s(topic), s(msg)], from, uuid);
    "HELLO", Command::Hello { version, client },
        |a| {
            let hello = Command::Hello {
                version: a.u64("version")?,
                client: a.opt_name("client_name")?,
            };
            // A later version may say more: what this one does not know is ignored, so the
            // two settle on the version this one speaks.
            a.rest();
            hello
        },
        {
            let mut v = vec![version.to_string()];
            v.extend(client.clone());
            Encoded::args(v)
        };
    "HELLO_OK", Command::HelloOk { version, server, features },
        |a| Command::HelloOk {
            version: a.u64("version")?,
            server: a.name("server_name")?,
            features: a.rest(),
        },
        {
            let mut v = vec![version.to_string(), s(server)];
            v.extend(features.iter().cloned());
            Encoded::args(v)
        };
    "SYNC", Command::Sync { token },
        |a| Command::Sync { token: a.opt().unwrap_or_default() },
        Encoded::args(vec![s(token)]);
}
