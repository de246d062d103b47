//! Every ERROR code, and that bad input only ever affects the connection that sent it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use fishchat_cluster::protocol::{Command, Envelope, ErrorCode};
use fishchat_cluster::store::{EmbeddedOptions, EmbeddedStore, Store};

use crate::harness::*;

fn env(cmd: &str, args: &[&str]) -> Vec<u8> {
    Envelope::new(cmd, args.iter().map(|s| s.to_string()).collect()).to_body()
}

#[tokio::test]
async fn every_error_code_and_the_connection_stays_open() {
    let c = start(1).await;
    let addr = c.file().msg_servers[0].clone();
    // At the fishchat level: the original level is sent no ERROR (see `original`).
    let mut raw = Raw::fishchat(&addr).await;

    raw.send_body(b"{not json").await;
    raw.expect_error(ErrorCode::BadJson).await;
    raw.send_body(b"[1,2,3]").await;
    raw.expect_error(ErrorCode::BadJson).await;
    raw.send_body(b"{\"CmdName\":\"SEND_CLIENT_ID\",\"Args\":[7]}")
        .await;
    raw.expect_error(ErrorCode::BadJson).await;

    raw.send_body(&env("FLY_TO_THE_MOON", &[])).await;
    raw.expect_error(ErrorCode::UnknownCmd).await;

    // The original crashed on too few arguments.
    raw.send_body(&env("SEND_MESSAGE_P2P", &[])).await;
    let detail = raw.expect_error(ErrorCode::BadArgs).await;
    assert!(detail.contains("`to`"), "{detail}");
    raw.send_body(&env("SEND_CLIENT_ID", &[])).await;
    raw.expect_error(ErrorCode::BadArgs).await;
    raw.send_body(&env(
        "SUBSCRIBE_CHANNEL",
        &["/sysctrl/nowhere", "x", SECRET],
    ))
    .await;
    raw.expect_error(ErrorCode::BadArgs).await;

    // The original crashed on a command before login.
    raw.send_body(&env("SEND_MESSAGE_P2P", &["bob", "hi", "alice"]))
        .await;
    raw.expect_error(ErrorCode::NotLoggedIn).await;
    raw.send_body(&env("SEND_MESSAGE_TOPIC", &["t", "hi"]))
        .await;
    raw.expect_error(ErrorCode::NotLoggedIn).await;

    raw.send_body(&env("REQ_MSG_SERVER", &[])).await;
    raw.expect_error(ErrorCode::WrongRole).await;

    // Routing is for cluster roles only.
    raw.send_body(&env("ROUTE_MESSAGE_P2P", &["bob", "x", "alice", "u"]))
        .await;
    raw.expect_error(ErrorCode::Forbidden).await;

    raw.send(&Command::SendClientId { id: "alice".into() })
        .await;
    raw.send(&Command::SendClientId {
        id: "notalice".into(),
    })
    .await;
    raw.expect_error(ErrorCode::Forbidden).await;
    raw.send_body(&env("JOIN_TOPIC", &["no-such-topic", "alice"]))
        .await;
    raw.expect_error(ErrorCode::NoSuchTopic).await;
    raw.send_body(&env("SEND_MESSAGE_TOPIC", &["no-such-topic", "hi"]))
        .await;
    raw.expect_error(ErrorCode::NoSuchTopic).await;
    raw.send_body(&env("CREATE_TOPIC", &["t1"])).await;
    raw.send_body(&env("CREATE_TOPIC", &["t1"])).await;
    raw.expect_error(ErrorCode::TopicExists).await;
    raw.send_body(&env("JOIN_TOPIC", &["t1", "somebody-else"]))
        .await;
    raw.expect_error(ErrorCode::Forbidden).await;

    // Still open and working after all of that.
    raw.send(&Command::Sync {
        token: "still here".into(),
    })
    .await;
    assert_eq!(
        raw.recv().await,
        Some(Command::SyncDone {
            token: "still here".into()
        })
    );
}

#[tokio::test]
async fn a_store_that_is_down_answers_unavailable_and_service_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let inner: Arc<dyn Store> = Arc::new(
        EmbeddedStore::open(&dir.path().join("s.redb"), EmbeddedOptions::default()).unwrap(),
    );
    let store = Arc::new(Switchable {
        inner,
        down: Default::default(),
    });
    let s2 = store.clone();
    let c = start_with(1, move |o| o.store = Some(s2)).await;
    let mut alice = login(&c, 0, "alice").await;
    let mut bob = login(&c, 0, "bob").await;

    store.down.store(true, Ordering::SeqCst);
    let err = alice
        .request(&Command::SendMessageP2p {
            to: "bob".into(),
            msg: "lost?".into(),
            from: None,
            uuid: None,
            sent_at_ms: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unavailable), "{err}");
    // Refused, so not delivered either: the sender knows to retry.
    assert_quiet(&mut bob).await;
    let err = fishchat_cluster::client::Client::login_at(&c.file().msg_servers[0], "carl")
        .await
        .err()
        .expect("login needs the store");
    assert_eq!(err.code(), Some(ErrorCode::Unavailable));

    store.down.store(false, Ordering::SeqCst);
    alice.sender().send_p2p("bob", "back").unwrap();
    assert_eq!(next_p2p(&mut bob).await.0, "back");
}

#[tokio::test]
async fn an_over_long_frame_closes_only_that_connection() {
    let c = start_with(1, |o| o.msg_server.common.max_frame = 4096).await;
    let addr = c.file().msg_servers[0].clone();
    let alice = login(&c, 0, "alice").await;
    let mut bob = login(&c, 0, "bob").await;

    // A header announcing 4 GiB - 1: refused from the header alone, no allocation.
    let mut raw = Raw::fishchat(&addr).await;
    use tokio::io::AsyncWriteExt;
    raw.stream
        .write_all(&[0xff, 0xff, 0xff, 0xff, b'{'])
        .await
        .unwrap();
    raw.expect_error(ErrorCode::FrameTooLong).await;
    assert!(
        raw.closed().await,
        "the connection is closed after an over-long frame"
    );

    // Just over the configured maximum.
    let mut raw = Raw::fishchat(&addr).await;
    raw.send_body(&vec![b' '; 4097]).await;
    raw.expect_error(ErrorCode::FrameTooLong).await;
    assert!(raw.closed().await);

    // Everyone else carries on.
    alice.sender().send_p2p("bob", "unaffected").unwrap();
    assert_eq!(next_p2p(&mut bob).await.0, "unaffected");
}

#[tokio::test]
async fn garbage_and_abrupt_disconnects_do_not_hurt_the_server() {
    let c = start(1).await;
    let addr = c.file().msg_servers[0].clone();
    for i in 0..50u32 {
        let mut raw = Raw::connect(&addr).await;
        // A header, then half a body, then gone.
        use tokio::io::AsyncWriteExt;
        let junk: Vec<u8> = (0..(i * 7 % 64)).map(|b| (b * 31 + i) as u8).collect();
        raw.stream.write_all(&(100u32).to_be_bytes()).await.unwrap();
        raw.stream.write_all(&junk).await.unwrap();
    }
    let alice = login(&c, 0, "alice").await;
    let mut bob = login(&c, 0, "bob").await;
    alice.sender().send_p2p("bob", "still alive").unwrap();
    assert_eq!(next_p2p(&mut bob).await.0, "still alive");
}

#[tokio::test]
async fn a_message_too_big_for_its_frames_is_refused_at_the_sender() {
    let c = start_with(2, |o| o.msg_server.common.max_frame = 16 * 1024).await;
    let mut alice = login(&c, 0, "alice").await;
    let mut bob = login(&c, 1, "bob").await;
    // Fits in alice's frame (about 60 bytes around it), but not in RESP_MESSAGE_P2P's
    // (about 110 bytes around it).
    let body = "z".repeat(16 * 1024 - 80);
    let err = alice
        .request(&Command::SendMessageP2p {
            to: "bob".into(),
            msg: body,
            from: None,
            uuid: None,
            sent_at_ms: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::BadArgs), "{err}");
    assert_eq!(c.store().pending_count("bob").await.unwrap(), 0);
    // The router's links and bob are untouched.
    alice
        .sender()
        .send_p2p("bob", &"y".repeat(8 * 1024))
        .unwrap();
    assert_eq!(next_p2p(&mut bob).await.0.len(), 8 * 1024);
}
