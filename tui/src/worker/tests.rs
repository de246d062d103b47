//! The worker against a real cluster in this process.

use std::time::Duration;

use fishchat_cluster::client::{Client, Event};
use fishchat_cluster::protocol::ErrorCode;

use super::*;
use fishchat_cluster::local::{LocalCluster, LocalOptions, Ports};
use fishchat_cluster::protocol::{P2pMessage, TopicMessage};

const WAIT: Duration = Duration::from_secs(15);

async fn cluster(dir: &std::path::Path) -> LocalCluster {
    let mut o = LocalOptions::new(dir, "test-secret", Ports::any(1));
    o.msg_server.monitor_beat = Duration::from_millis(200);
    o.retry_max = Duration::from_millis(200);
    LocalCluster::start(o, |_| {})
        .await
        .expect("cluster starts")
}

fn config(id: &str, c: &LocalCluster) -> WorkerConfig {
    let mut cfg = WorkerConfig::new(id, Target::Gateway(c.file().gateway.clone()));
    cfg.heartbeat = Duration::from_millis(300);
    cfg.backoff_min = Duration::from_millis(50);
    cfg.backoff_max = Duration::from_millis(300);
    cfg
}

/// The next update that is not a round trip, within [`WAIT`].
async fn next(w: &mut Worker) -> Update {
    loop {
        match tokio::time::timeout(WAIT, w.updates.recv()).await {
            Ok(Some(Update::Rtt(_))) => continue,
            Ok(Some(u)) => return u,
            Ok(None) => panic!("the worker stopped"),
            Err(_) => panic!("no update within {WAIT:?}"),
        }
    }
}

async fn connected(w: &mut Worker) -> String {
    loop {
        match next(w).await {
            Update::Connecting { .. } => continue,
            Update::Connected { server } => return server,
            other => panic!("expected to connect, got {other:?}"),
        }
    }
}

async fn next_p2p(c: &mut Client) -> (String, String, String) {
    loop {
        match c.next_event_within(WAIT).await.expect("an event") {
            Event::P2p(P2pMessage {
                msg, from, uuid, ..
            }) => return (msg, from, uuid),
            Event::Beat(_) => continue,
            other => panic!("expected a p2p message, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn messages_flow_both_ways_and_delivery_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;
    let mut w = Worker::spawn(config("alice", &c));
    assert_eq!(connected(&mut w).await, c.file().msg_servers[0]);
    // The heartbeat measures a round trip.
    let rtt = match tokio::time::timeout(WAIT, w.updates.recv()).await {
        Ok(Some(Update::Rtt(d))) => d,
        other => panic!("expected a round trip, got {other:?}"),
    };
    assert!(rtt < WAIT);

    let mut bob = Client::login_via_gateway(&c.file().gateway, "bob")
        .await
        .unwrap();
    let uuid = uuid::Uuid::new_v4().to_string();
    w.request(Request::SendP2p {
        to: "bob".into(),
        text: "hello bob".into(),
        uuid: uuid.clone(),
    });
    assert_eq!(next(&mut w).await, Update::Sent { uuid: uuid.clone() });
    let (msg, from, got) = next_p2p(&mut bob).await;
    assert_eq!((msg.as_str(), from.as_str()), ("hello bob", "alice"));
    assert_eq!(got, uuid);
    bob.sender().ack(&got).unwrap();
    assert_eq!(
        next(&mut w).await,
        Update::Delivered {
            uuid,
            to: "bob".into()
        }
    );

    bob.sender().send_p2p("alice", "hi alice").unwrap();
    match next(&mut w).await {
        Update::P2p(P2pMessage {
            from,
            msg: text,
            offline,
            sent_at_ms,
            ..
        }) => {
            assert_eq!((from.as_str(), text.as_str()), ("bob", "hi alice"));
            assert!(!offline);
            assert!(sent_at_ms.is_some());
        }
        other => panic!("expected bob's message, got {other:?}"),
    }
    w.stop(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn each_error_is_matched_to_the_request_that_caused_it() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;
    let mut w = Worker::spawn(config("carol", &c));
    connected(&mut w).await;

    w.request(Request::Join {
        topic: "nowhere".into(),
    });
    w.request(Request::Create {
        topic: "rust".into(),
    });
    w.request(Request::Create {
        topic: "rust".into(),
    });
    let uuid = uuid::Uuid::new_v4().to_string();
    w.request(Request::SendTopic {
        topic: "nowhere".into(),
        text: "anyone?".into(),
        uuid: uuid.clone(),
    });
    let ok = uuid::Uuid::new_v4().to_string();
    w.request(Request::SendTopic {
        topic: "rust".into(),
        text: "hello rust".into(),
        uuid: ok.clone(),
    });

    match next(&mut w).await {
        Update::Refused { what, error } => {
            assert_eq!(what, "/join nowhere");
            assert!(error.contains("NO_SUCH_TOPIC"), "{error}");
        }
        other => panic!("expected the join to be refused, got {other:?}"),
    }
    assert_eq!(
        next(&mut w).await,
        Update::Created {
            topic: "rust".into()
        }
    );
    match next(&mut w).await {
        Update::Refused { what, error } => {
            assert_eq!(what, "/create rust");
            assert!(error.contains("TOPIC_EXISTS"), "{error}");
        }
        other => panic!("expected the second create to be refused, got {other:?}"),
    }
    match next(&mut w).await {
        Update::SendFailed { uuid: u, error } => {
            assert_eq!(u, uuid);
            assert!(error.contains("NO_SUCH_TOPIC"), "{error}");
        }
        other => panic!("expected the send to fail, got {other:?}"),
    }
    // The member's own message comes back with the uuid it chose, then is confirmed.
    let mut echoed = false;
    let mut sent = false;
    while !(echoed && sent) {
        match next(&mut w).await {
            Update::Topic(TopicMessage {
                topic, from, uuid, ..
            }) => {
                assert_eq!((topic.as_str(), from.as_str()), ("rust", "carol"));
                assert_eq!(uuid.as_deref(), Some(ok.as_str()));
                echoed = true;
            }
            Update::Sent { uuid } => {
                assert_eq!(uuid, ok);
                sent = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    w.stop(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn reconnects_after_the_msg_server_comes_back_and_answers_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cluster(dir.path()).await;
    let mut w = Worker::spawn(config("dave", &c));
    connected(&mut w).await;

    c.stop_msg_server(0).await;
    match next(&mut w).await {
        Update::Disconnected { reason, .. } => assert!(!reason.is_empty()),
        other => panic!("expected to be disconnected, got {other:?}"),
    }
    // While down: a send is handed back, a join refused.
    let uuid = uuid::Uuid::new_v4().to_string();
    w.request(Request::SendP2p {
        to: "erin".into(),
        text: "later".into(),
        uuid: uuid.clone(),
    });
    w.request(Request::Join { topic: "t".into() });
    let mut not_sent = false;
    let mut refused = false;
    while !(not_sent && refused) {
        match next(&mut w).await {
            Update::NotSent { uuid: u } => {
                assert_eq!(u, uuid);
                not_sent = true;
            }
            Update::Refused { what, error } => {
                assert_eq!(what, "/join t");
                assert!(error.contains("not connected"), "{error}");
                refused = true;
            }
            Update::Connecting { .. } | Update::Disconnected { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }

    c.restart_msg_server(0).await.unwrap();
    loop {
        match next(&mut w).await {
            Update::Connected { server } => {
                assert_eq!(server, c.file().msg_servers[0]);
                break;
            }
            Update::Connecting { .. } | Update::Disconnected { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let mut erin = Client::login_via_gateway(&c.file().gateway, "erin")
        .await
        .unwrap();
    w.request(Request::SendP2p {
        to: "erin".into(),
        text: "now".into(),
        uuid: uuid.clone(),
    });
    assert_eq!(next(&mut w).await, Update::Sent { uuid: uuid.clone() });
    let (msg, _, got) = next_p2p(&mut erin).await;
    assert_eq!((msg.as_str(), got.as_str()), ("now", uuid.as_str()));
    w.stop(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_missing_cluster_file_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cluster.json");
    let mut cfg = WorkerConfig::new("frank", Target::ClusterFile(path.clone()));
    cfg.backoff_min = Duration::from_secs(30);
    cfg.backoff_max = Duration::from_secs(60);
    let mut w = Worker::spawn(cfg);
    match next(&mut w).await {
        Update::Connecting { via, attempt } => {
            assert!(via.contains("cluster.json"), "{via}");
            assert_eq!(attempt, 1);
        }
        other => panic!("unexpected {other:?}"),
    }
    match next(&mut w).await {
        Update::Disconnected { reason, retry_in } => {
            assert!(reason.contains(&path.display().to_string()), "{reason}");
            assert!(
                reason.contains("fishchat up") && reason.contains("--gateway"),
                "{reason}"
            );
            assert!(retry_in >= Duration::from_secs(24), "{retry_in:?}");
        }
        other => panic!("unexpected {other:?}"),
    }
    // Ctrl+R: try again at once.
    w.request(Request::Reconnect);
    match next(&mut w).await {
        Update::Connecting { attempt, .. } => assert_eq!(attempt, 2),
        other => panic!("unexpected {other:?}"),
    }
    w.stop(Duration::from_secs(2)).await;
}

#[test]
fn backoff_doubles_up_to_the_cap() {
    let mut cfg = WorkerConfig::new("x", Target::Gateway("a:1".into()));
    cfg.backoff_min = Duration::from_millis(100);
    cfg.backoff_max = Duration::from_secs(1);
    let within = |d: Duration, base_ms: f64| {
        let ms = d.as_secs_f64() * 1000.0;
        ms >= base_ms * 0.8 - 1e-6 && ms <= base_ms * 1.2 + 1e-6
    };
    assert!(within(cfg.backoff(0), 100.0));
    assert!(within(cfg.backoff(1), 200.0));
    assert!(within(cfg.backoff(3), 800.0));
    assert!(within(cfg.backoff(4), 1000.0));
    assert!(within(cfg.backoff(60), 1000.0));
}

#[test]
fn errors_read_as_sentences() {
    assert_eq!(
        describe(ErrorCode::NoSuchTopic, "no topic `x`"),
        "no such topic (NO_SUCH_TOPIC: no topic `x`)"
    );
    assert_eq!(describe(ErrorCode::BadJson, ""), "BAD_JSON");
}
