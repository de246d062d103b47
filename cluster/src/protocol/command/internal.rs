//! Commands between the cluster's roles: channel subscriptions, routed messages, and the
//! events published on the internal channels (their details in `AnyData`).

use super::args::{codec, Args, Encoded};
use super::{Command, CommandError};

fn s(v: &str) -> String {
    v.to_string()
}

codec! {
    "SUBSCRIBE_CHANNEL", Command::SubscribeChannel { channel, subscriber, secret },
        |a| Command::SubscribeChannel {
            channel: a.name("channel")?,
            subscriber: a.opt().unwrap_or_default(),
            secret: a.opt(),
        },
        {
            let mut v = vec![s(channel), s(subscriber)];
            v.extend(secret.clone());
            Encoded::args(v)
        };
    "ROUTE_MESSAGE_P2P", Command::RouteMessageP2p { to, msg, from, uuid, sent_at_ms },
        |a| Command::RouteMessageP2p {
            to: a.name("to")?,
            msg: a.text("msg")?,
            from: a.name("from")?,
            uuid: a.name("uuid")?,
            sent_at_ms: a.opt_u64("sent_at_ms")?,
        },
        {
            let mut v = vec![s(to), s(msg), s(from), s(uuid)];
            v.extend(sent_at_ms.map(|t| t.to_string()));
            Encoded::args(v)
        };
    "ROUTE_MESSAGE_TOPIC", Command::RouteMessageTopic { topic, msg, from, uuid, sent_at_ms },
        |a| Command::RouteMessageTopic {
            topic: a.name("topic")?,
            msg: a.text("msg")?,
            from: a.name("from")?,
            uuid: a.name("uuid")?,
            sent_at_ms: a.u64("sent_at_ms")?,
        },
        Encoded::args(vec![s(topic), s(msg), s(from), s(uuid), sent_at_ms.to_string()]);
    "CACHE_SESSION", Command::CacheSession { id, data },
        |a| Command::CacheSession { id: a.name("id")?, data: a.data() },
        Encoded::with_data(vec![s(id)], data);
    "STORE_SESSION", Command::StoreSession { id, data },
        |a| Command::StoreSession { id: a.name("id")?, data: a.data() },
        Encoded::with_data(vec![s(id)], data);
    "CACHE_TOPIC", Command::CacheTopic { topic, data },
        |a| Command::CacheTopic { topic: a.name("topic")?, data: a.data() },
        Encoded::with_data(vec![s(topic)], data);
    "STORE_TOPIC", Command::StoreTopic { topic, data },
        |a| Command::StoreTopic { topic: a.name("topic")?, data: a.data() },
        Encoded::with_data(vec![s(topic)], data);
    "FRAME_DROPPED", Command::FrameDropped { code, data },
        |a| Command::FrameDropped { code: a.code("code")?, data: a.data() },
        Encoded::with_data(vec![s(code.as_str())], data);
}
