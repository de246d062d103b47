//! The internal channels: the secret, the events, the monitor beat.

use fishchat_cluster::client::{Client, Event};
use fishchat_cluster::protocol::events::{SessionEvent, TopicEvent};
use fishchat_cluster::protocol::{Command, ErrorCode};

use crate::harness::*;

#[tokio::test]
async fn subscribe_is_refused_without_the_secret_and_beats_arrive_with_it() {
    let c = start(1).await;
    let addr = c.file().msg_servers[0].clone();
    let mut spy = Client::connect(&addr).await.unwrap();
    let err = spy
        .subscribe("/sysctrl/send", "spy", None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Forbidden));
    let err = spy
        .subscribe("/sysctrl/send", "spy", Some("guess"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Forbidden));
    // A refused subscriber sees no routed message.
    let alice = login(&c, 0, "alice").await;
    let _bob = login(&c, 0, "bob").await;
    alice.sender().send_p2p("bob", "private").unwrap();
    assert_quiet(&mut spy).await;

    let mut monitor = Client::connect(&addr).await.unwrap();
    monitor
        .subscribe("/sysctrl/monitor", "test", Some(SECRET))
        .await
        .unwrap();
    let mut beats = Vec::new();
    while beats.len() < 3 {
        if let Ok(ev) = monitor.next_event_within(WAIT).await {
            if let Some(b) = ev.beat() {
                beats.push(b);
            }
        }
    }
    for b in &beats {
        assert_eq!(b.server, addr);
        assert_eq!(b.session_num, 2, "alice and bob are logged in");
    }
    assert!(beats[2].msg_in >= 1);
}

#[tokio::test]
async fn login_and_topic_events_are_published() {
    let c = start(1).await;
    let addr = c.file().msg_servers[0].clone();
    let mut sub = Client::connect(&addr).await.unwrap();
    for ch in [
        "/sysctrl/client-status",
        "/store/client-info",
        "/sysctrl/topic-status",
        "/store/topic-info",
    ] {
        sub.subscribe(ch, "test", Some(SECRET)).await.unwrap();
    }
    let mut alice = login(&c, 0, "alice").await;
    let mut seen_cache = false;
    let mut seen_store = false;
    while !(seen_cache && seen_store) {
        match next(&mut sub).await {
            Event::Command(Command::CacheSession { id, data }) => {
                let ev: SessionEvent = serde_json::from_value(data).unwrap();
                assert_eq!(
                    (
                        id.as_str(),
                        ev.client_id.as_str(),
                        ev.msg_server_addr.as_str()
                    ),
                    ("alice", "alice", addr.as_str())
                );
                assert!(ev.max_age.is_some());
                seen_cache = true;
            }
            Event::Command(Command::StoreSession { id, data }) => {
                let ev: SessionEvent = serde_json::from_value(data).unwrap();
                assert_eq!(id, "alice");
                assert!(ev.alive);
                seen_store = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    alice.create_topic("news").await.unwrap();
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        match next(&mut sub).await {
            Event::Command(Command::CacheTopic { topic, data })
            | Event::Command(Command::StoreTopic { topic, data }) => {
                let ev: TopicEvent = serde_json::from_value(data).unwrap();
                assert_eq!(topic, "news");
                assert_eq!(ev.creater_id, "alice");
                assert_eq!(ev.member_list.len(), 1);
                assert_eq!(ev.msg_server_addr, addr);
                kinds.push(ev.max_age.is_some());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // The manager keeps the client record.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(rec) = c.store().client("alice").await.unwrap() {
            assert_eq!(rec.msg_server, addr);
            assert!(rec.alive);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "manager never stored alice"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
