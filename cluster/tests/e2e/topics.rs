//! Topics: create, join from any msg_server, messages to every member.

use fishchat_cluster::client::Event;
use fishchat_cluster::protocol::{Command, ErrorCode};

use crate::harness::*;
use fishchat_cluster::protocol::TopicMessage;

async fn next_topic(c: &mut fishchat_cluster::client::Client) -> (String, String, String) {
    match next(c).await {
        Event::Topic(TopicMessage {
            topic, msg, from, ..
        }) => (topic, msg, from),
        other => panic!("expected RESP_MESSAGE_TOPIC, got {other:?}"),
    }
}

#[tokio::test]
async fn a_topic_across_servers_reaches_every_member_sender_included() {
    let c = start(2).await;
    let mut alice = login(&c, 0, "alice").await;
    alice.create_topic("rust").await.unwrap();
    // The original gave no answer to a JOIN right after CREATE; we answer with the home.
    let home = alice.join_topic("rust").await.unwrap();
    assert_eq!(home, c.file().msg_servers[0]);

    let mut bob = login(&c, 1, "bob").await;
    let home = bob.join_topic("rust").await.unwrap();
    assert_eq!(
        home,
        c.file().msg_servers[0],
        "JOIN_TOPIC answers the topic's home"
    );
    let mut carol = login(&c, 1, "carol").await;
    carol.join_topic("rust").await.unwrap();
    let mut outsider = login(&c, 0, "dan").await;

    bob.sender().send_topic("rust", "hello topic").unwrap();
    for member in [&mut alice, &mut bob, &mut carol] {
        assert_eq!(
            next_topic(member).await,
            ("rust".into(), "hello topic".into(), "bob".into())
        );
    }
    alice.sender().send_topic("rust", "from home").unwrap();
    for member in [&mut alice, &mut bob, &mut carol] {
        assert_eq!(next_topic(member).await.1, "from home");
        assert_quiet(member).await;
    }
    assert_quiet(&mut outsider).await;

    // Not a member: refused.
    let err = outsider
        .request(&Command::SendMessageTopic {
            topic: "rust".into(),
            msg: "let me in".into(),
            from: None,
            uuid: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Forbidden));

    // Topics and members are in the store.
    let members = c.store().members("rust").await.unwrap();
    assert_eq!(members, vec!["alice", "bob", "carol"]);
    let t = c.store().topic("rust").await.unwrap().unwrap();
    assert_eq!(
        (t.creator.as_str(), t.home.as_str()),
        ("alice", c.file().msg_servers[0].as_str())
    );
}

#[tokio::test]
async fn a_member_with_two_devices_gets_a_topic_message_on_each() {
    let c = start(2).await;
    let mut alice = login(&c, 0, "alice").await;
    alice.create_topic("devices").await.unwrap();
    let mut bob_a = login(&c, 0, "bob").await;
    let mut bob_b = login(&c, 1, "bob").await;
    bob_a.join_topic("devices").await.unwrap();
    alice.sender().send_topic("devices", "x").unwrap();
    assert_eq!(next_topic(&mut bob_a).await.1, "x");
    assert_eq!(next_topic(&mut bob_b).await.1, "x");
    assert_eq!(next_topic(&mut alice).await.1, "x");
    assert_quiet(&mut bob_a).await;
    assert_quiet(&mut bob_b).await;
}
