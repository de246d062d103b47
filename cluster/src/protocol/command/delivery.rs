//! Commands a msg_server sends its clients: messages, receipts, answers and errors.

use super::super::message::{P2pMessage, TopicMessage};
use super::args::{codec, Args, Encoded};
use super::{Command, CommandError};

fn s(v: &str) -> String {
    v.to_string()
}

codec! {
    "RESP_MESSAGE_P2P", Command::RespMessageP2p(P2pMessage { msg, from, uuid, sent_at_ms, offline }),
        |a| Command::RespMessageP2p(P2pMessage {
            msg: a.text("msg")?,
            from: a.name("from")?,
            uuid: a.name("uuid")?,
            sent_at_ms: a.opt_u64("sent_at_ms")?,
            offline: a.opt().as_deref() == Some("offline"),
        }),
        {
            let mut v = vec![s(msg), s(from), s(uuid)];
            if let Some(t) = sent_at_ms {
                v.push(t.to_string());
                v.push(s(if *offline { "offline" } else { "live" }));
            }
            Encoded::args(v)
        };
    "LOCATE_TOPIC_MSG_ADDR", Command::LocateTopicMsgAddr { addr, topic },
        |a| Command::LocateTopicMsgAddr {
            addr: a.name("msg_server_addr")?,
            topic: a.name("topic")?,
        },
        Encoded::args(vec![s(addr), s(topic)]);
    "RESP_MESSAGE_TOPIC", Command::RespMessageTopic(TopicMessage { topic, msg, from, uuid, sent_at_ms }),
        |a| Command::RespMessageTopic(TopicMessage {
            topic: a.name("topic")?,
            msg: a.text("msg")?,
            from: a.name("from")?,
            uuid: a.opt_name("uuid")?,
            sent_at_ms: a.opt_u64("sent_at_ms")?,
        }),
        {
            let mut v = vec![s(topic), s(msg), s(from)];
            if let Some(u) = uuid {
                v.push(s(u));
                v.extend(sent_at_ms.map(|t| t.to_string()));
            }
            Encoded::args(v)
        };
    "P2P_DELIVERED", Command::P2pDelivered { uuid, to, from },
        |a| Command::P2pDelivered {
            uuid: a.name("uuid")?,
            to: a.name("to")?,
            from: a.opt_name("from")?,
        },
        {
            let mut v = vec![s(uuid), s(to)];
            v.extend(from.clone());
            Encoded::args(v)
        };
    "SYNC_DONE", Command::SyncDone { token },
        |a| Command::SyncDone { token: a.opt().unwrap_or_default() },
        Encoded::args(vec![s(token)]);
    "ERROR", Command::Error { code, detail },
        |a| Command::Error {
            code: a.code("code")?,
            detail: a.opt().unwrap_or_default(),
        },
        Encoded::args(vec![s(code.as_str()), s(detail)]);
}
