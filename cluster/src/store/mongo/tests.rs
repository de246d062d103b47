//! The MongoDB backend without a server: documents and options.

use super::docs::MessageDoc;
use super::*;

#[test]
fn message_documents_use_the_documented_fields() {
    let d = MessageDoc {
        oid: None,
        to: "bob".into(),
        seq: 3,
        uuid: "u".into(),
        from: "alice".into(),
        msg: "hi".into(),
        sent_at_ms: 5,
        acked_at_ms: None,
    };
    let b = mongodb::bson::to_document(&d).unwrap();
    let keys: Vec<&str> = b.keys().map(String::as_str).collect();
    assert_eq!(keys, ["ToID", "Seq", "Uuid", "FromID", "Msg", "SentAtMs"]);
}

#[tokio::test]
async fn an_unreachable_server_fails_within_the_connect_timeout_naming_the_url() {
    // A port nothing listens on: bind one, then close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut opts = MongoOptions::new(format!("mongodb://u:pw@127.0.0.1:{port}/im"));
    opts.timeouts.connect = Duration::from_millis(300);
    opts.timeouts.op = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let e = MongoStore::connect(opts).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{e}");
    let text = e.to_string();
    assert!(
        text.contains(&format!("mongo mongodb://u:***@127.0.0.1:{port}/im")),
        "{text}"
    );
    assert!(!text.contains("pw"), "{text}");
}
