//! Bad input at the original level: everything the fishchat level answers with an `ERROR`
//! is dropped without a frame and the connection serves on; what cannot be served at all
//! (an over-long frame, a refused login) closes the connection without a frame. The drops
//! are published on `/sysctrl/client-status` for fishchat-level subscribers.
//!
//! The table of bad inputs is shared with [`super::fishchat`], which checks the `ERROR`
//! each gets at the fishchat level.

use fishchat_cluster::client::Event;
use fishchat_cluster::protocol::events::DropEvent;
use fishchat_cluster::protocol::{Channel, Command, ErrorCode};

use super::{env, OriginalClient};
use crate::harness::*;

/// What the fishchat level answers a bad input with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Error(ErrorCode),
    /// One of our commands, answered by the named frame (the original level has none of it).
    Frame(&'static str),
}

/// One bad input: what it is, its body, and the fishchat level's answer.
pub struct Bad {
    pub what: &'static str,
    pub body: Vec<u8>,
    pub fishchat: Answer,
}

fn bad(what: &'static str, body: impl Into<Vec<u8>>, fishchat: Answer) -> Bad {
    Bad {
        what,
        body: body.into(),
        fishchat,
    }
}

/// Some uuid no message has.
pub const A_UUID: &str = "5b0a3d1c-1b4e-4d0e-9a57-2c1f3e8b9d10";

/// Bad inputs for a connection not logged in.
pub fn before_login() -> Vec<Bad> {
    use Answer::Error;
    use ErrorCode::*;
    vec![
        bad("bad JSON", &b"{not json"[..], Error(BadJson)),
        bad(
            "JSON that is not an object",
            &b"[1,2,3]"[..],
            Error(BadJson),
        ),
        bad(
            "an argument that is not a string",
            &br#"{"CmdName":"SEND_CLIENT_ID","Args":[7]}"#[..],
            Error(BadJson),
        ),
        bad(
            "an unknown command",
            env("FLY_TO_THE_MOON", &[]),
            Error(UnknownCmd),
        ),
        bad(
            "too few arguments",
            env("SEND_MESSAGE_P2P", &[]),
            Error(BadArgs),
        ),
        bad(
            "too few arguments to join",
            env("JOIN_TOPIC", &["t"]),
            Error(BadArgs),
        ),
        bad("an empty id", env("SEND_CLIENT_ID", &[""]), Error(BadArgs)),
        bad(
            "a message before login",
            env("SEND_MESSAGE_P2P", &["bob", "hi", "orig"]),
            Error(NotLoggedIn),
        ),
        bad(
            "an ack before login",
            env("P2P_ACK", &["orig", A_UUID]),
            Error(NotLoggedIn),
        ),
        bad(
            "a topic before login",
            env("CREATE_TOPIC", &["t"]),
            Error(NotLoggedIn),
        ),
        bad(
            "a topic message before login",
            env("SEND_MESSAGE_TOPIC", &["t", "hi"]),
            Error(NotLoggedIn),
        ),
        bad(
            "the gateway's command",
            env("REQ_MSG_SERVER", &[]),
            Error(WrongRole),
        ),
        bad(
            "routing from a client",
            env("ROUTE_MESSAGE_P2P", &["bob", "x", "alice", A_UUID]),
            Error(Forbidden),
        ),
    ]
}

/// Bad inputs for a connection logged in as `orig`, where `bob` is logged in with the
/// message `bob_uuid` not yet acked, and `owner` created the topic `owned`. In this order:
/// the last one makes `orig` a member of `owned` at the original level.
pub fn after_login(bob_uuid: &str) -> Vec<Bad> {
    use Answer::{Error, Frame};
    use ErrorCode::*;
    vec![
        bad("our SYNC", env("SYNC", &["t"]), Frame("SYNC_DONE")),
        bad(
            "our ROLE_STATUS",
            env("ROLE_STATUS", &[]),
            Frame("ROLE_STATUS_OK"),
        ),
        bad("our AUTH", env("AUTH", &["guess"]), Error(Forbidden)),
        bad(
            "our INSPECT",
            env("INSPECT", &["sessions"]),
            Error(Forbidden),
        ),
        bad(
            "HELLO not first",
            env("HELLO", &["1", "e2e"]),
            Error(BadArgs),
        ),
        bad(
            "a spoofed sender",
            env("SEND_MESSAGE_P2P", &["bob", "I am alice", "alice"]),
            Error(Forbidden),
        ),
        bad(
            "an ack for another id",
            env("P2P_ACK", &["bob", bob_uuid]),
            Error(Forbidden),
        ),
        bad(
            "a join for another id",
            env("JOIN_TOPIC", &["owned", "bob"]),
            Error(Forbidden),
        ),
        bad(
            "a topic message from a non-member",
            env("SEND_MESSAGE_TOPIC", &["owned", "let me in"]),
            Error(Forbidden),
        ),
        bad(
            "a join of a missing topic",
            env("JOIN_TOPIC", &["nowhere", "orig"]),
            Error(NoSuchTopic),
        ),
        bad(
            "a message to a missing topic",
            env("SEND_MESSAGE_TOPIC", &["nowhere", "hi"]),
            Error(NoSuchTopic),
        ),
        bad(
            "an unknown channel",
            env("SUBSCRIBE_CHANNEL", &["/sysctrl/nowhere", "x", SECRET]),
            Error(BadArgs),
        ),
        bad(
            "a channel without the secret",
            env("SUBSCRIBE_CHANNEL", &["/sysctrl/send", "x"]),
            Error(Forbidden),
        ),
        bad(
            "a channel with a wrong secret",
            env("SUBSCRIBE_CHANNEL", &["/sysctrl/send", "x", "guess"]),
            Error(Forbidden),
        ),
        bad(
            "a server's frame sent to the server",
            env("RESP_MESSAGE_P2P", &["hi", "bob", A_UUID]),
            Error(WrongRole),
        ),
        bad(
            "an existing topic",
            env("CREATE_TOPIC", &["owned"]),
            Error(TopicExists),
        ),
    ]
}

#[tokio::test]
async fn bad_input_before_login_is_dropped_and_the_connection_serves_on() {
    let c = start(1).await;
    let addr = c.file().msg_servers[0].clone();
    let fish = login(&c, 0, "fish").await;
    for (i, b) in before_login().into_iter().enumerate() {
        let mut orig = OriginalClient::connect(&addr, &format!("orig{i}")).await;
        orig.send(&b.body).await;
        // The barrier must be the next frame: nothing came for the bad input.
        orig.login().await;
        orig.barrier().await;
        fish.sender().send_p2p(&orig.id, b.what).unwrap();
        let (msg, from, _) = orig.next_p2p().await;
        assert_eq!((msg.as_str(), from.as_str()), (b.what, "fish"));
    }
    assert_eq!(c.store().pending_count("bob").await.unwrap(), 0);
}

/// What the after-login table needs: two msg_servers, a topic `owned` of `owner`'s, and a
/// message to bob, not acked (its uuid).
pub(super) struct AfterLogin {
    pub c: TestCluster,
    pub servers: Vec<String>,
    pub owner: fishchat_cluster::client::Client,
    pub bob: fishchat_cluster::client::Client,
    pub bob_uuid: String,
}

pub(super) async fn after_login_cluster() -> AfterLogin {
    let c = start(2).await;
    let servers = c.file().msg_servers.clone();
    let mut owner = login(&c, 0, "owner").await;
    owner.create_topic("owned").await.unwrap();
    let mut bob = login(&c, 1, "bob").await;
    owner.sender().send_p2p("bob", "keep this").unwrap();
    let (_, _, bob_uuid, _) = next_p2p(&mut bob).await;
    AfterLogin {
        c,
        servers,
        owner,
        bob,
        bob_uuid,
    }
}

#[tokio::test]
async fn bad_input_after_login_is_dropped_and_the_connection_serves_on() {
    let AfterLogin {
        c,
        servers,
        mut owner,
        mut bob,
        bob_uuid,
    } = after_login_cluster().await;

    let mut orig = OriginalClient::at(&servers[0], "orig").await;
    for b in after_login(&bob_uuid) {
        orig.send(&b.body).await;
        orig.barrier().await;
    }
    orig.quiet().await;

    // The spoofed message was not sent, and the ack for bob did not take his message.
    assert_quiet(&mut bob).await;
    assert_eq!(c.store().pending_count("bob").await.unwrap(), 1);
    // The CREATE_TOPIC of an existing topic made orig a member, as the original did.
    orig.send_topic("owned", "a member now").await;
    assert_eq!(
        orig.next_topic().await,
        ("owned".into(), "a member now".into(), "orig".into())
    );
    match next(&mut owner).await {
        Event::Topic(m) => assert_eq!((m.msg.as_str(), m.from.as_str()), ("a member now", "orig")),
        other => panic!("expected orig's topic message, got {other:?}"),
    }
    let mut members = c.store().members("owned").await.unwrap();
    members.sort();
    assert_eq!(members, ["orig", "owner"]);
    // And a p2p message still arrives in the original's shape.
    owner.sender().send_p2p("orig", "after all that").unwrap();
    let (msg, from, _) = orig.next_p2p().await;
    assert_eq!((msg.as_str(), from.as_str()), ("after all that", "owner"));
    orig.quiet().await;
    assert_quiet(&mut owner).await;
}

#[tokio::test]
async fn an_over_long_frame_closes_an_original_connection_without_a_frame() {
    let c = start_with(1, |o| o.msg_server.common.max_frame = 4096).await;
    let addr = c.file().msg_servers[0].clone();
    let mut orig = OriginalClient::at(&addr, "orig").await;
    orig.send(&vec![b' '; 4097]).await;
    orig.expect_closed_silently().await;
    // A header announcing 4 GiB - 1, before login.
    let mut orig = OriginalClient::connect(&addr, "orig2").await;
    orig.send_bytes(&[0xff, 0xff, 0xff, 0xff, b'{']).await;
    orig.expect_closed_silently().await;
    // Everyone else carries on.
    let mut orig = OriginalClient::at(&addr, "orig3").await;
    orig.quiet().await;
}

#[tokio::test]
async fn a_second_id_on_one_connection_closes_it_without_a_frame() {
    let c = start(1).await;
    let addr = c.file().msg_servers[0].clone();
    let mut orig = OriginalClient::at(&addr, "orig").await;
    orig.send(&env("SEND_CLIENT_ID", &["someone-else"])).await;
    orig.expect_closed_silently().await;
    assert!(c.store().sessions("someone-else").await.unwrap().is_empty());
    // Its own id again is no refusal: the connection serves on.
    let mut again = OriginalClient::at(&addr, "again").await;
    again.login().await;
    again.quiet().await;
}

/// The next `FRAME_DROPPED` on a subscriber's connection, other events skipped.
async fn next_drop(sub: &mut Raw) -> (ErrorCode, DropEvent) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no FRAME_DROPPED within {WAIT:?}"
        );
        match sub.recv().await {
            Some(Command::FrameDropped { code, data }) => {
                return (code, serde_json::from_value(data).unwrap());
            }
            Some(_) => continue,
            None => panic!("the subscriber's connection was closed"),
        }
    }
}

/// A fishchat-level subscriber to `/sysctrl/client-status`, confirmed.
async fn client_status_subscriber(addr: &str) -> Raw {
    let mut sub = Raw::fishchat(addr).await;
    sub.send(&Command::SubscribeChannel {
        channel: Channel::ClientStatus.as_str().into(),
        subscriber: "e2e".into(),
        secret: Some(SECRET.into()),
    })
    .await;
    sub.send(&Command::Sync {
        token: "sub".into(),
    })
    .await;
    assert_eq!(
        sub.recv().await,
        Some(Command::SyncDone {
            token: "sub".into()
        })
    );
    sub
}

#[tokio::test]
async fn a_fishchat_subscriber_sees_what_an_original_client_had_dropped() {
    let c = start(1).await;
    let addr = c.file().msg_servers[0].clone();
    let mut sub = client_status_subscriber(&addr).await;

    let mut orig = OriginalClient::at(&addr, "orig").await;
    orig.send(&env("JOIN_TOPIC", &["t"])).await;
    orig.barrier().await;
    let (code, ev) = next_drop(&mut sub).await;
    assert_eq!(code, ErrorCode::BadArgs, "{ev:?}");
    assert_eq!(
        (
            ev.client_id.as_str(),
            ev.msg_server_addr.as_str(),
            ev.cmd.as_str()
        ),
        ("orig", addr.as_str(), "JOIN_TOPIC"),
        "{ev:?}"
    );
    assert!(ev.dropped >= 1 && !ev.closed, "{ev:?}");

    // A refused login closes the connection, and says so.
    orig.send(&env("SEND_CLIENT_ID", &["someone-else"])).await;
    orig.expect_closed_silently().await;
    let (code, ev) = next_drop(&mut sub).await;
    assert_eq!(code, ErrorCode::Forbidden, "{ev:?}");
    assert!(ev.closed, "{ev:?}");
    let status = fishchat_cluster::client::role_status(&addr).await.unwrap();
    assert!(status["original_drops"].as_u64().unwrap() >= 2, "{status}");
}

/// What a client sends is quoted in a report, but only a little of it: a frame just under
/// the limit must not make an event over the limit, which would cut the subscribers' links.
#[tokio::test]
async fn a_huge_unknown_command_makes_a_small_report() {
    let c = start(1).await;
    let addr = c.file().msg_servers[0].clone();
    let mut sub = client_status_subscriber(&addr).await;
    let mut orig = OriginalClient::at(&addr, "orig").await;
    // Quotes double when escaped: 400,000 of them are 800 KB on the wire.
    orig.send(&env(&"\"".repeat(400_000), &[])).await;
    orig.send(&env("SEND_MESSAGE_P2P", &["bob", "x", "mallory"]))
        .await;
    orig.barrier().await;
    let (code, ev) = next_drop(&mut sub).await;
    assert_eq!(code, ErrorCode::UnknownCmd, "{ev:?}");
    assert!(ev.detail.len() < 512, "{} bytes", ev.detail.len());
    // The subscriber's connection is still up.
    sub.send(&Command::Sync { token: "t".into() }).await;
    loop {
        match sub.recv().await {
            Some(Command::SyncDone { token }) if token == "t" => break,
            Some(_) => continue,
            None => panic!("the subscriber was cut off"),
        }
    }
}
