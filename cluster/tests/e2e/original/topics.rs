//! Topics at the original level: the original's topic demo, run twice, and a join that
//! finds no topic.

use super::OriginalClient;
use crate::harness::*;

/// The original's topic demo: `CREATE_TOPIC t`, `JOIN_TOPIC t me`, the next frame read as
/// `LOCATE_TOPIC_MSG_ADDR [addr, t]`, then `SEND_MESSAGE_TOPIC` and its own message back.
async fn topic_demo(addr: &str, me: &str, topic: &str, home: &str) {
    let mut c = OriginalClient::at(addr, me).await;
    c.create_topic(topic).await;
    c.join_topic(topic).await;
    assert_eq!(
        c.next_locate().await,
        (home.to_string(), topic.to_string()),
        "JOIN_TOPIC is answered with the topic's home"
    );
    let text = format!("hello from {addr}");
    c.send_topic(topic, &text).await;
    assert_eq!(
        c.next_topic().await,
        (topic.to_string(), text, me.to_string())
    );
    c.quiet().await;
}

#[tokio::test]
async fn the_topic_demo_runs_twice_with_the_same_topic() {
    let c = start(2).await;
    let servers = c.file().msg_servers.clone();
    topic_demo(&servers[0], "alice", "demo", &servers[0]).await;
    // Again, on a new connection to the other msg_server: the topic exists now, and the
    // demo must still read LOCATE first (no answer to its CREATE_TOPIC).
    topic_demo(&servers[1], "alice", "demo", &servers[0]).await;
    assert_eq!(c.store().members("demo").await.unwrap(), ["alice"]);
}

#[tokio::test]
async fn joining_a_missing_topic_is_silent_and_the_connection_serves_on() {
    let c = start(2).await;
    let servers = c.file().msg_servers.clone();
    let mut orig = OriginalClient::at(&servers[0], "orig").await;
    orig.join_topic("nowhere").await;
    orig.quiet().await;
    assert!(c.store().topic("nowhere").await.unwrap().is_none());

    let fish = login(&c, 1, "fish").await;
    fish.sender().send_p2p("orig", "still there?").unwrap();
    let (msg, from, _) = orig.next_p2p().await;
    assert_eq!((msg.as_str(), from.as_str()), ("still there?", "fish"));
    // And a topic created after all works as the original's did.
    orig.create_topic("somewhere").await;
    orig.join_topic("somewhere").await;
    assert_eq!(
        orig.next_locate().await,
        (servers[0].clone(), "somewhere".to_string())
    );
    orig.quiet().await;
}
