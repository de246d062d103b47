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
            Update::Connecting { .. } | Update::SignedIn { .. } => continue,
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
        invite_only: false,
    });
    w.request(Request::Create {
        topic: "rust".into(),
        invite_only: false,
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
            topic: "rust".into(),
            invite_only: false,
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

/// A worker for `id` signed in with a token of its own (the account is made here), and
/// the device it signs in as.
async fn signed_in_worker(id: &str, password: &str, c: &LocalCluster) -> (Worker, String) {
    let mut sdk = Client::connect(&c.file().msg_servers[0]).await.unwrap();
    sdk.register(id, password).await.unwrap();
    let signed = sdk.sign_in(id, password, Some("test")).await.unwrap();
    drop(sdk);
    let mut cfg = config(id, c);
    cfg.login = Login::Token {
        token: signed.token,
        device_id: signed.device_id.clone(),
        device_name: "test".into(),
    };
    let mut w = Worker::spawn(cfg);
    // The token signs in as the device it was made for.
    loop {
        match next(&mut w).await {
            Update::Connecting { .. } => continue,
            Update::SignedIn { device_id } => {
                assert_eq!(device_id, signed.device_id);
                break;
            }
            other => panic!("expected to sign in, got {other:?}"),
        }
    }
    connected(&mut w).await;
    (w, signed.device_id)
}

#[tokio::test]
async fn a_revoked_token_signs_out_and_the_worker_stops_trying() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;
    let (mut w, device) = signed_in_worker("gail", "gails password", &c).await;

    let mut other = Client::connect(&c.file().msg_servers[0]).await.unwrap();
    other.sign_in("gail", "gails password", None).await.unwrap();
    other.revoke(&device).await.unwrap();

    let reason = loop {
        match next(&mut w).await {
            Update::Disconnected { .. } | Update::Connecting { .. } => continue,
            Update::SignedOut { reason } => break reason,
            other => panic!("expected to be signed out, got {other:?}"),
        }
    };
    assert!(reason.starts_with("signed out"), "{reason}");
    assert!(
        reason.contains("revoked"),
        "the server's reason is kept: {reason}"
    );
    // Requests are refused with the reason; no new attempt is made (backoff is 50-300 ms).
    w.request(Request::Join { topic: "t".into() });
    match next(&mut w).await {
        Update::Refused { what, error } => {
            assert_eq!(what, "/join t");
            assert!(error.contains("signed out"), "{error}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    match tokio::time::timeout(Duration::from_millis(1500), w.updates.recv()).await {
        Err(_) => {}
        Ok(u) => panic!("the worker went on after being signed out: {u:?}"),
    }
    w.stop(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn account_and_owned_topic_commands_get_their_answers() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;
    let (mut w, device) = signed_in_worker("hana", "hanas password", &c).await;

    w.request(Request::Devices);
    match next(&mut w).await {
        Update::Devices(list) => {
            assert_eq!(list.devices.len(), 1);
            assert_eq!(list.devices[0].device_id, device);
            assert!(list.devices[0].current);
        }
        other => panic!("expected the devices, got {other:?}"),
    }
    w.request(Request::Revoke {
        device_id: "nope".into(),
    });
    match next(&mut w).await {
        Update::Refused { what, error } => {
            assert_eq!(what, "/revoke nope");
            assert!(error.contains("NO_SUCH_DEVICE"), "{error}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    w.request(Request::Create {
        topic: "club".into(),
        invite_only: true,
    });
    assert_eq!(
        next(&mut w).await,
        Update::Created {
            topic: "club".into(),
            invite_only: true
        }
    );
    let invite = Request::Invite {
        topic: "club".into(),
        id: "ivan".into(),
    };
    w.request(invite);
    assert_eq!(
        next(&mut w).await,
        Update::Invited {
            topic: "club".into(),
            id: "ivan".into()
        }
    );
    w.request(Request::Members {
        topic: "club".into(),
    });
    match next(&mut w).await {
        Update::Members(m) => {
            assert_eq!(m.owner, "hana");
            assert!(m.invite_only);
            assert_eq!(m.members, ["hana"]);
            assert_eq!(m.invited, ["ivan"]);
        }
        other => panic!("expected the members, got {other:?}"),
    }
    let mut ivan = Client::login_via_gateway(&c.file().gateway, "ivan")
        .await
        .unwrap();
    ivan.join_topic("club").await.unwrap();
    w.request(Request::Kick {
        topic: "club".into(),
        id: "ivan".into(),
    });
    assert_eq!(
        next(&mut w).await,
        Update::Kicked {
            topic: "club".into(),
            id: "ivan".into()
        }
    );
    w.request(Request::Leave {
        topic: "club".into(),
    });
    assert_eq!(
        next(&mut w).await,
        Update::Left {
            topic: "club".into()
        }
    );

    w.request(Request::Passwd {
        old: "not it at all".into(),
        new: "a new password".into(),
        keep_devices: false,
    });
    match next(&mut w).await {
        Update::Refused { what, error } => {
            assert_eq!(what, "/passwd");
            assert!(error.contains("AUTH_FAILED"), "{error}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    w.request(Request::Passwd {
        old: "hanas password".into(),
        new: "a new password".into(),
        keep_devices: false,
    });
    assert_eq!(
        next(&mut w).await,
        Update::PasswordChanged {
            kept_devices: false
        }
    );
    let mut check = Client::connect(&c.file().msg_servers[0]).await.unwrap();
    check
        .sign_in("hana", "a new password", None)
        .await
        .expect("the new password signs in");

    w.request(Request::Logout);
    assert_eq!(next(&mut w).await, Update::LoggedOut);
    let devices = check.devices().await.unwrap();
    assert!(
        devices.devices.iter().all(|d| d.device_id != device),
        "the logged-out device is gone: {devices:?}"
    );
    w.stop(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_kick_is_explained_and_the_kept_token_signs_in_again() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;
    let (mut w, device) = signed_in_worker("iris", "iris password", &c).await;
    let mut operator = Client::connect(&c.file().msg_servers[0]).await.unwrap();
    operator.auth("test-secret").await.unwrap();
    operator.kick_user("iris").await.unwrap();
    match next(&mut w).await {
        Update::Disconnected { reason, .. } => {
            assert!(
                reason.contains("signed out") && reason.contains("operator"),
                "{reason}"
            )
        }
        other => panic!("expected to be disconnected, got {other:?}"),
    }
    // The token is still good: back as the same device.
    loop {
        match next(&mut w).await {
            Update::Connecting { .. } | Update::Disconnected { .. } => continue,
            Update::SignedIn { device_id } => {
                assert_eq!(device_id, device);
                break;
            }
            other => panic!("expected to sign in again, got {other:?}"),
        }
    }
    connected(&mut w).await;
    w.stop(Duration::from_secs(2)).await;
}
