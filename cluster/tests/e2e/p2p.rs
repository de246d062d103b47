//! Person-to-person messages: same server, across servers, offline, acks, devices.

use std::collections::HashSet;

use fishchat_cluster::client::{Client, Event};
use fishchat_cluster::protocol::{Command, ErrorCode};

use crate::harness::*;

#[tokio::test]
async fn same_server_exactly_once_and_acked_messages_are_not_redelivered() {
    let c = start(2).await;
    let mut alice = login(&c, 0, "alice").await;
    let mut bob = login(&c, 0, "bob").await;
    alice.sender().send_p2p("bob", "hi bob").unwrap();
    let (msg, from, uuid, offline) = next_p2p(&mut bob).await;
    assert_eq!(
        (msg.as_str(), from.as_str(), offline),
        ("hi bob", "alice", false)
    );
    assert!(uuid::Uuid::parse_str(&uuid).is_ok(), "uuid {uuid}");
    assert_quiet(&mut bob).await;
    bob.sender().ack(&uuid).unwrap();
    // The sender hears that it was delivered.
    assert_eq!(
        next(&mut alice).await,
        Event::Delivered {
            uuid: uuid.clone(),
            to: "bob".into()
        }
    );
    bob.sync().await.unwrap();
    drop(bob);
    let mut bob = login(&c, 1, "bob").await;
    assert_quiet(&mut bob).await;
}

#[tokio::test]
async fn across_servers_exactly_once_with_the_same_uuid() {
    let c = start(2).await;
    let mut alice = login(&c, 0, "alice").await;
    let mut bob = login(&c, 1, "bob").await;
    let sent = alice
        .sender()
        .send_p2p_tracked("bob", "over the router")
        .unwrap();
    let (msg, from, uuid, offline) = next_p2p(&mut bob).await;
    assert_eq!(
        (msg.as_str(), from.as_str(), offline),
        ("over the router", "alice", false)
    );
    assert_eq!(
        uuid, sent,
        "the receiver sees the uuid the message was sent with"
    );
    assert_quiet(&mut bob).await;
    bob.sender().ack(&uuid).unwrap();
    // The receipt crosses the router too.
    assert_eq!(
        next(&mut alice).await,
        Event::Delivered {
            uuid,
            to: "bob".into()
        }
    );
    // Acked: nothing comes back at the next login.
    drop(bob);
    let mut bob = login(&c, 0, "bob").await;
    assert_quiet(&mut bob).await;
}

#[tokio::test]
async fn server_assigned_uuid_is_kept_across_servers() {
    let c = start(2).await;
    let alice = login(&c, 0, "alice").await;
    let mut bob0 = login(&c, 0, "bob").await;
    let mut bob1 = login(&c, 1, "bob").await;
    alice.sender().send_p2p("bob", "two devices").unwrap();
    let (_, _, u0, _) = next_p2p(&mut bob0).await;
    let (_, _, u1, _) = next_p2p(&mut bob1).await;
    assert_eq!(u0, u1);
    assert_quiet(&mut bob0).await;
    assert_quiet(&mut bob1).await;
}

#[tokio::test]
async fn offline_messages_arrive_in_order_at_login_marked_offline() {
    let c = start(2).await;
    let mut alice = login(&c, 0, "alice").await;
    for i in 0..20 {
        alice.sender().send_p2p("carol", &format!("m{i}")).unwrap();
    }
    alice.sync().await.unwrap();
    let mut carol = login(&c, 1, "carol").await;
    for i in 0..20 {
        let (msg, from, uuid, offline) = next_p2p(&mut carol).await;
        assert_eq!(msg, format!("m{i}"));
        assert_eq!(from, "alice");
        assert!(offline);
        carol.sender().ack(&uuid).unwrap();
    }
    assert_quiet(&mut carol).await;
    assert_eq!(c.store().pending_count("carol").await.unwrap(), 0);
}

#[tokio::test]
async fn unacked_messages_are_delivered_again_with_the_same_uuid() {
    let c = start(2).await;
    let mut alice = login(&c, 0, "alice").await;
    let mut dave = login(&c, 0, "dave").await;
    alice.sender().send_p2p("dave", "first").unwrap();
    alice.sender().send_p2p("dave", "second").unwrap();
    let (_, _, u1, _) = next_p2p(&mut dave).await;
    let (_, _, u2, _) = next_p2p(&mut dave).await;
    dave.sender().ack(&u1).unwrap();
    dave.sync().await.unwrap();
    drop(dave);
    alice.sync().await.unwrap();
    let mut dave = login(&c, 1, "dave").await;
    let (msg, _, uuid, offline) = next_p2p(&mut dave).await;
    assert_eq!(
        (msg.as_str(), uuid.as_str(), offline),
        ("second", u2.as_str(), true)
    );
    assert_quiet(&mut dave).await;
}

#[tokio::test]
async fn every_device_gets_each_message_and_one_ack_counts_for_all() {
    let c = start(2).await;
    let alice = login(&c, 0, "alice").await;
    let mut phone = login(&c, 0, "erin").await;
    let mut laptop = login(&c, 1, "erin").await;
    let mut tablet = login(&c, 1, "erin").await;
    alice.sender().send_p2p("erin", "to all devices").unwrap();
    let mut uuids = HashSet::new();
    for dev in [&mut phone, &mut laptop, &mut tablet] {
        let (msg, _, uuid, _) = next_p2p(dev).await;
        assert_eq!(msg, "to all devices");
        uuids.insert(uuid);
        assert_quiet(dev).await;
    }
    assert_eq!(uuids.len(), 1);
    let uuid = uuids.into_iter().next().unwrap();
    laptop.sender().ack(&uuid).unwrap();
    laptop.sync().await.unwrap();
    // A second ack from another device is harmless.
    phone.sender().ack(&uuid).unwrap();
    phone.sync().await.unwrap();
    assert_eq!(c.store().pending_count("erin").await.unwrap(), 0);
    drop((phone, laptop, tablet));
    let mut again = login(&c, 0, "erin").await;
    assert_quiet(&mut again).await;
}

#[tokio::test]
async fn a_spoofed_sender_is_refused_and_nothing_is_sent() {
    let c = start(1).await;
    let mut mallory = login(&c, 0, "mallory").await;
    let mut bob = login(&c, 0, "bob").await;
    let err = mallory
        .request(&Command::SendMessageP2p {
            to: "bob".into(),
            msg: "I am alice".into(),
            from: Some("alice".into()),
            uuid: None,
            sent_at_ms: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Forbidden), "{err}");
    // Acking for someone else is refused too.
    let err = mallory
        .request(&Command::P2pAck {
            id: "bob".into(),
            uuid: uuid::Uuid::new_v4().to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Forbidden));
    assert_quiet(&mut bob).await;
    assert_eq!(c.store().pending_count("bob").await.unwrap(), 0);
    // The connection stays usable: sending as itself works.
    mallory.sender().send_p2p("bob", "honest").unwrap();
    assert_eq!(next_p2p(&mut bob).await.1, "mallory");
}

#[tokio::test]
async fn a_message_to_a_connection_that_just_dropped_is_queued() {
    let c = start(2).await;
    let alice = login(&c, 0, "alice").await;
    let frank = login(&c, 1, "frank").await;
    frank.disconnect();
    // Right after the drop, before or while the server notices.
    alice.sender().send_p2p("frank", "are you there?").unwrap();
    let mut alice = alice;
    alice.sync().await.unwrap();
    let mut frank = login(&c, 0, "frank").await;
    let (msg, _, _, _) = next_p2p(&mut frank).await;
    assert_eq!(msg, "are you there?");
}

#[tokio::test]
async fn a_client_that_just_logged_in_elsewhere_gets_messages_live() {
    let c = start(2).await;
    let mut alice = login(&c, 0, "alice").await;
    for round in 0..20 {
        let id = format!("gina{round}");
        let mut gina = login(&c, 1, &id).await;
        // Sent right after the login was confirmed: must arrive live, once.
        alice.sender().send_p2p(&id, "welcome").unwrap();
        let (msg, _, _, _) = next_p2p(&mut gina).await;
        assert_eq!(msg, "welcome");
        alice.sync().await.unwrap();
        assert_quiet(&mut gina).await;
    }
}

#[tokio::test]
async fn a_router_reconnects_to_a_msg_server_that_comes_back() {
    let mut c = start(2).await;
    c.stop_msg_server(1).await;
    c.restart_msg_server(1).await.unwrap();
    fishchat_cluster::local::wait_ready("router", &c.file().router.clone(), WAIT)
        .await
        .unwrap();
    let alice = login(&c, 0, "alice").await;
    let mut bob = login(&c, 1, "bob").await;
    alice.sender().send_p2p("bob", "after the restart").unwrap();
    assert_eq!(next_p2p(&mut bob).await.0, "after the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbox_larger_than_the_client_queue_is_replayed_whole() {
    let c = start_with(2, |o| o.msg_server.client_queue = 64).await;
    let mut alice = login(&c, 0, "alice").await;
    for i in 0..500 {
        alice
            .sender()
            .send_p2p("hoarder", &format!("h{i}"))
            .unwrap();
    }
    alice.sync().await.unwrap();
    // Replayed at the pace the client reads, not cut off for not keeping up.
    let mut hoarder = login(&c, 1, "hoarder").await;
    for i in 0..500 {
        let (msg, _, uuid, offline) = next_p2p(&mut hoarder).await;
        assert_eq!((msg, offline), (format!("h{i}"), true));
        hoarder.sender().ack(&uuid).unwrap();
    }
    hoarder.sync().await.unwrap();
    assert_eq!(c.store().pending_count("hoarder").await.unwrap(), 0);
}

#[tokio::test]
async fn logging_in_again_on_the_same_connection_replays_what_waits() {
    let c = start(1).await;
    let alice = login(&c, 0, "alice").await;
    let mut bob = login(&c, 0, "bob").await;
    alice.sender().send_p2p("bob", "once").unwrap();
    let (_, _, uuid, _) = next_p2p(&mut bob).await;
    // Written here already: a second SEND_CLIENT_ID does not write it twice...
    bob.login("bob").await.unwrap();
    assert_quiet(&mut bob).await;
    // ...but a fresh connection's repeated login gets what waits, once.
    let mut bob2 = fishchat_cluster::client::Client::connect(&c.file().msg_servers[0])
        .await
        .unwrap();
    bob2.login("bob").await.unwrap();
    assert_eq!(next_p2p(&mut bob2).await.2, uuid);
    bob2.login("bob").await.unwrap();
    assert_quiet(&mut bob2).await;
}

#[tokio::test]
async fn a_routed_message_shows_when_its_sender_sent_it() {
    let c = start(2).await;
    let mut bob = login(&c, 1, "bob").await;
    // As the router does: with the secret, the time the sender's msg_server took it.
    let mut router = Client::connect(&c.file().msg_servers[1]).await.unwrap();
    router.auth(SECRET).await.unwrap();
    router
        .request(&Command::RouteMessageP2p {
            to: "bob".into(),
            msg: "from far away".into(),
            from: "alice".into(),
            uuid: "0b5a1c6e-routed".into(),
            sent_at_ms: Some(1_234_567),
        })
        .await
        .unwrap();
    match next(&mut bob).await {
        Event::P2p(m) => assert_eq!(
            (m.msg.as_str(), m.sent_at_ms),
            ("from far away", Some(1_234_567))
        ),
        other => panic!("expected the routed message, got {other:?}"),
    }

    // Through the real router: stamped once, by alice's msg_server, before it left.
    let alice = login(&c, 0, "alice").await;
    let before = fishchat_cluster::protocol::events::now_ms();
    alice.sender().send_p2p("bob", "across").unwrap();
    match next(&mut bob).await {
        Event::P2p(m) => {
            assert_eq!(m.msg, "across");
            assert!(m.sent_at_ms.is_some_and(|t| t >= before), "{m:?}");
        }
        other => panic!("expected alice's message, got {other:?}"),
    }
}
