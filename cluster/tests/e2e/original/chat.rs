//! Person-to-person messages at the original level: between original clients, with
//! fishchat-level clients both ways, and the original's five-argument ack.

use fishchat_cluster::client::Event;

use super::OriginalClient;
use crate::harness::*;

#[tokio::test]
async fn two_original_clients_on_two_msg_servers_chat_both_ways() {
    let c = start(2).await;
    let servers = c.file().msg_servers.clone();
    // alice as the original clients log in, through the gateway; bob on the other server.
    let mut alice = OriginalClient::via_gateway(&c.file().gateway, "alice").await;
    let other = servers.iter().find(|s| **s != alice.server).unwrap();
    let mut bob = OriginalClient::at(other, "bob").await;

    for round in 0..3 {
        let hi = format!("hi bob, {round}");
        alice.send_p2p("bob", &hi).await;
        let (msg, from, uuid) = bob.next_p2p().await;
        assert_eq!((msg.as_str(), from.as_str()), (hi.as_str(), "alice"));
        assert!(uuid::Uuid::parse_str(&uuid).is_ok(), "uuid {uuid}");
        bob.ack(&uuid).await;

        let back = format!("hi alice, {round}");
        bob.send_p2p("alice", &back).await;
        let (msg, from, uuid) = alice.next_p2p().await;
        assert_eq!((msg.as_str(), from.as_str()), (back.as_str(), "bob"));
        alice.ack(&uuid).await;
    }
    // No receipt for the acks, nor anything else.
    alice.quiet().await;
    bob.quiet().await;
    assert_eq!(c.store().pending_count("alice").await.unwrap(), 0);
    assert_eq!(c.store().pending_count("bob").await.unwrap(), 0);
}

#[tokio::test]
async fn an_original_client_and_a_fishchat_client_chat_both_ways() {
    let c = start(2).await;
    let servers = c.file().msg_servers.clone();
    let mut orig = OriginalClient::at(&servers[0], "orig").await;
    let mut fish = login(&c, 1, "fish").await;

    // Original sender, fishchat receiver: the receiver gets our arguments, and its ack's
    // receipt is not sent to the original sender.
    orig.send_p2p("fish", "from the original").await;
    let (msg, from, uuid, offline) = next_p2p(&mut fish).await;
    assert_eq!(
        (msg.as_str(), from.as_str(), offline),
        ("from the original", "orig", false)
    );
    fish.sender().ack(&uuid).unwrap();
    fish.sync().await.unwrap();
    assert_eq!(c.store().pending_count("fish").await.unwrap(), 0);

    // Fishchat sender, original receiver: three arguments, and the original ack makes the
    // receipt the fishchat sender waits for.
    let sent = fish
        .sender()
        .send_p2p_tracked("orig", "from fishchat")
        .unwrap();
    let (msg, from, uuid) = orig.next_p2p().await;
    assert_eq!(
        (msg.as_str(), from.as_str(), uuid.as_str()),
        ("from fishchat", "fish", sent.as_str())
    );
    orig.ack(&uuid).await;
    assert_eq!(
        next(&mut fish).await,
        Event::Delivered {
            uuid,
            to: "orig".into()
        }
    );

    orig.quiet().await;
    assert_quiet(&mut fish).await;
    assert_eq!(c.store().pending_count("orig").await.unwrap(), 0);
}

#[tokio::test]
async fn the_five_argument_ack_takes_the_message_out_of_the_inbox() {
    let c = start(2).await;
    let servers = c.file().msg_servers.clone();
    let mut alice = login(&c, 0, "alice").await;
    let mut bob = OriginalClient::at(&servers[1], "bob").await;

    alice.sender().send_p2p("bob", "ack me in five").unwrap();
    let (msg, from, uuid) = bob.next_p2p().await;
    assert_eq!((msg.as_str(), from.as_str()), ("ack me in five", "alice"));
    // As the original client_p2p acks: [me, uuid, to, text, me].
    bob.ack5(&uuid, "alice", &msg).await;
    assert_eq!(
        next(&mut alice).await,
        Event::Delivered {
            uuid: uuid.clone(),
            to: "bob".into()
        },
        "the ack took effect"
    );
    // Nothing for the ack at the original client: no ERROR for its extra arguments.
    bob.quiet().await;
    assert_eq!(c.store().pending_count("bob").await.unwrap(), 0);

    // Logged in again, elsewhere: the acked message is not replayed (the barrier of `at`
    // must be the first frame).
    drop(bob);
    let mut bob = OriginalClient::at(&servers[0], "bob").await;
    bob.quiet().await;
}
