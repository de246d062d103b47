//! The original protocol level: a connection that never says `HELLO` is served as the
//! original served its clients, frame for frame.
//!
//! [`OriginalClient`] is a model of the original's clients, written from what they send and
//! what they can read: they send only the original's commands, with the original's
//! arguments, and they take every frame they receive for one of the three they know
//! (`RESP_MESSAGE_P2P [msg, from, uuid]`, `RESP_MESSAGE_TOPIC [topic, msg, from]`,
//! `LOCATE_TOPIC_MSG_ADDR [addr, topic]`), reading its arguments by position. Any other
//! frame, or one of those with another number of arguments, fails the test: the original's
//! clients would crash on it or misread it. What would have been an `ERROR` is dropped.

mod bad_input;
mod chat;
mod fishchat;
mod gateway;
mod topics;

use std::time::Duration;

use fishchat_cluster::protocol::{Body, Envelope};
use tokio::io::AsyncWriteExt;

use crate::harness::*;

/// How long silence is listened for once a barrier showed the server acted on everything
/// sent before: anything in flight from other servers arrives well within it.
pub const GRACE: Duration = Duration::from_millis(300);

/// A frame an original client can take, read by position from its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// `RESP_MESSAGE_P2P [msg, from, uuid]`.
    P2p {
        msg: String,
        from: String,
        uuid: String,
    },
    /// `RESP_MESSAGE_TOPIC [topic, msg, from]`.
    Topic {
        topic: String,
        msg: String,
        from: String,
    },
    /// `LOCATE_TOPIC_MSG_ADDR [addr, topic]`.
    Locate { addr: String, topic: String },
}

/// Reads a body as an original client would, failing the test on anything it cannot take:
/// not an envelope, a command it does not know, or a known one with other arguments.
pub fn original_frame(who: &str, body: &[u8]) -> Frame {
    let text = String::from_utf8_lossy(body);
    let env = match Body::parse(body) {
        Ok(Body::Envelope(e)) => e,
        other => panic!("{who}: not an envelope an original client can read: {other:?}: {text}"),
    };
    let Envelope { cmd, mut args, .. } = env;
    let want = match cmd.as_str() {
        "RESP_MESSAGE_P2P" | "RESP_MESSAGE_TOPIC" => 3,
        "LOCATE_TOPIC_MSG_ADDR" => 2,
        _ => panic!("{who}: a frame the original clients do not have: {text}"),
    };
    assert_eq!(
        args.len(),
        want,
        "{who}: {cmd} with {} arguments, the original's has {want}: {text}",
        args.len()
    );
    let mut arg = || args.remove(0);
    match cmd.as_str() {
        "RESP_MESSAGE_P2P" => Frame::P2p {
            msg: arg(),
            from: arg(),
            uuid: arg(),
        },
        "RESP_MESSAGE_TOPIC" => Frame::Topic {
            topic: arg(),
            msg: arg(),
            from: arg(),
        },
        _ => Frame::Locate {
            addr: arg(),
            topic: arg(),
        },
    }
}

/// Asks the gateway for a msg_server as the original clients do: `REQ_MSG_SERVER`, answered
/// exactly `SELECT_MSG_SERVER_FOR_CLIENT [addr]`, then the gateway closes.
pub async fn locate(gateway: &str) -> String {
    let mut raw = Raw::connect(gateway).await;
    raw.send_body(&env("REQ_MSG_SERVER", &[])).await;
    let addr = match raw.next_body_within(WAIT).await {
        Next::Body(body) => {
            let text = String::from_utf8_lossy(&body).into_owned();
            match Body::parse(&body) {
                Ok(Body::Envelope(e)) if e.cmd == "SELECT_MSG_SERVER_FOR_CLIENT" => {
                    assert_eq!(
                        e.args.len(),
                        1,
                        "the original's answer has one argument: {text}"
                    );
                    e.args[0].clone()
                }
                _ => panic!("gateway: expected SELECT_MSG_SERVER_FOR_CLIENT [addr], got {text}"),
            }
        }
        other => panic!("gateway: expected SELECT_MSG_SERVER_FOR_CLIENT, got {other:?}"),
    };
    match raw.next_body_within(WAIT).await {
        Next::Closed => {}
        other => panic!("gateway: expected it to close after answering, got {other:?}"),
    }
    addr
}

/// An envelope's body, as the original encoded it.
pub fn env(cmd: &str, args: &[&str]) -> Vec<u8> {
    Envelope::new(cmd, args.iter().map(|s| s.to_string()).collect()).to_body()
}

/// A client of the original's: a raw connection that never says `HELLO`.
pub struct OriginalClient {
    raw: Raw,
    /// The id it logs in as (`SEND_CLIENT_ID`), or is about to.
    pub id: String,
    /// The msg_server it is connected to.
    pub server: String,
    barriers: u64,
}

impl OriginalClient {
    /// Connected to `addr`, not logged in.
    pub async fn connect(addr: &str, id: &str) -> OriginalClient {
        OriginalClient {
            raw: Raw::connect(addr).await,
            id: id.to_string(),
            server: addr.to_string(),
            barriers: 0,
        }
    }

    /// Logged in at msg_server `addr`, and heard from (see [`OriginalClient::barrier`]):
    /// nothing waited in its inbox.
    pub async fn at(addr: &str, id: &str) -> OriginalClient {
        let mut c = OriginalClient::connect(addr, id).await;
        c.login().await;
        c.barrier().await;
        c
    }

    /// Logged in at the msg_server the gateway hands out, as the original clients did.
    pub async fn via_gateway(gateway: &str, id: &str) -> OriginalClient {
        let addr = locate(gateway).await;
        OriginalClient::at(&addr, id).await
    }

    /// `SEND_CLIENT_ID [id]`: the original answered nothing.
    pub async fn login(&mut self) {
        let id = self.id.clone();
        self.send(&env("SEND_CLIENT_ID", &[&id])).await;
    }

    /// Any body, well-formed or not.
    pub async fn send(&mut self, body: &[u8]) {
        self.raw.send_body(body).await;
    }

    /// Bytes as they are, header and all (an over-long frame).
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.raw.stream.write_all(bytes).await.unwrap();
    }

    /// `SEND_MESSAGE_P2P [to, msg, me]`.
    pub async fn send_p2p(&mut self, to: &str, msg: &str) {
        let me = self.id.clone();
        self.send(&env("SEND_MESSAGE_P2P", &[to, msg, &me])).await;
    }

    /// `P2P_ACK [me, uuid]`.
    pub async fn ack(&mut self, uuid: &str) {
        let me = self.id.clone();
        self.send(&env("P2P_ACK", &[&me, uuid])).await;
    }

    /// The original `client_p2p`'s five-argument ack: `P2P_ACK [me, uuid, to, text, me]`.
    pub async fn ack5(&mut self, uuid: &str, to: &str, text: &str) {
        let me = self.id.clone();
        self.send(&env("P2P_ACK", &[&me, uuid, to, text, &me]))
            .await;
    }

    /// `CREATE_TOPIC [topic]`.
    pub async fn create_topic(&mut self, topic: &str) {
        self.send(&env("CREATE_TOPIC", &[topic])).await;
    }

    /// `JOIN_TOPIC [topic, me]`.
    pub async fn join_topic(&mut self, topic: &str) {
        let me = self.id.clone();
        self.send(&env("JOIN_TOPIC", &[topic, &me])).await;
    }

    /// `SEND_MESSAGE_TOPIC [topic, msg]`.
    pub async fn send_topic(&mut self, topic: &str, msg: &str) {
        self.send(&env("SEND_MESSAGE_TOPIC", &[topic, msg])).await;
    }

    /// `SEND_PING ["PING"]`.
    pub async fn ping(&mut self) {
        self.send(&env("SEND_PING", &["PING"])).await;
    }

    /// The next frame, within the harness's wait; fails the test on anything an original
    /// client cannot take, on a close and on silence.
    pub async fn next(&mut self) -> Frame {
        match self.raw.next_body_within(WAIT).await {
            Next::Body(body) => original_frame(&self.id, &body),
            other => panic!("{}: expected a frame, got {other:?}", self.id),
        }
    }

    /// The next frame, which must be a p2p message: `(msg, from, uuid)`.
    pub async fn next_p2p(&mut self) -> (String, String, String) {
        match self.next().await {
            Frame::P2p { msg, from, uuid } => (msg, from, uuid),
            other => panic!("{}: expected RESP_MESSAGE_P2P, got {other:?}", self.id),
        }
    }

    /// The next frame, which must be a topic message: `(topic, msg, from)`.
    pub async fn next_topic(&mut self) -> (String, String, String) {
        match self.next().await {
            Frame::Topic { topic, msg, from } => (topic, msg, from),
            other => panic!("{}: expected RESP_MESSAGE_TOPIC, got {other:?}", self.id),
        }
    }

    /// The next frame, which must be a topic's location: `(addr, topic)`.
    pub async fn next_locate(&mut self) -> (String, String) {
        match self.next().await {
            Frame::Locate { addr, topic } => (addr, topic),
            other => panic!("{}: expected LOCATE_TOPIC_MSG_ADDR, got {other:?}", self.id),
        }
    }

    /// A barrier at the original level, which has no `SYNC`: a message to itself, which
    /// the server writes after acting on every frame sent before it. It must be the very
    /// next frame; it is acked, so it is not replayed at the next login.
    pub async fn barrier(&mut self) {
        self.barriers += 1;
        let mark = format!("barrier {} of {}", self.barriers, self.id);
        let me = self.id.clone();
        self.send_p2p(&me, &mark).await;
        let (msg, from, uuid) = self.next_p2p().await;
        assert_eq!(
            (msg.as_str(), from.as_str()),
            (mark.as_str(), me.as_str()),
            "{me}: expected nothing before the barrier"
        );
        self.ack(&uuid).await;
    }

    /// Nothing arrives: a barrier, a ping, then silence for the grace period.
    pub async fn quiet(&mut self) {
        self.barrier().await;
        self.ping().await;
        match self.raw.next_body_within(GRACE).await {
            Next::Silent => {}
            Next::Body(body) => panic!(
                "{}: expected nothing more, got {}",
                self.id,
                String::from_utf8_lossy(&body)
            ),
            Next::Closed => panic!("{}: the connection was closed", self.id),
        }
    }

    /// The server closes the connection without sending a frame first.
    pub async fn expect_closed_silently(&mut self) {
        match self.raw.next_body_within(WAIT).await {
            Next::Closed => {}
            Next::Body(body) => panic!(
                "{}: expected the connection closed without a frame, got {}",
                self.id,
                String::from_utf8_lossy(&body)
            ),
            Next::Silent => panic!("{}: the connection was not closed", self.id),
        }
    }
}
