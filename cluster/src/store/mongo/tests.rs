//! The MongoDB backend without a server: documents and options.

use super::docs::{AccountDoc, DeviceDoc, MessageDoc};
use super::*;
use crate::store::{Account, Device};

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

#[test]
fn a_topic_stored_without_invite_only_reads_as_open() {
    let old = doc! {
        "_id": "t",
        "TopicName": "t",
        "CreaterID": "alice",
        "MsgServerAddr": "h",
        "CreatedAtMs": 1_i64,
        "MemberList": [{"ID": "alice"}],
    };
    let d: TopicDoc = mongodb::bson::from_document(old).unwrap();
    assert!(!d.record().unwrap().invite_only);
    let closed = TopicDoc {
        invite_only: true,
        ..d
    };
    let b = mongodb::bson::to_document(&closed).unwrap();
    assert_eq!(b.get_bool("InviteOnly"), Ok(true));
    let back: TopicDoc = mongodb::bson::from_document(b).unwrap();
    assert!(back.record().unwrap().invite_only);
}

#[test]
fn account_documents_use_the_documented_fields_and_round_trip() {
    let account = Account {
        id: "alice".into(),
        password_hash: "$argon2id$x".into(),
        created_at_ms: 5,
    };
    let mut d = AccountDoc::new(&account).unwrap();
    let device = Device {
        device_id: "phone".into(),
        name: "alice's phone".into(),
        token_hash: "ab".repeat(32),
        created_at_ms: 6,
        last_used_ms: 7,
    };
    d.devices.push(DeviceDoc::new(&device).unwrap());
    let b = mongodb::bson::to_document(&d).unwrap();
    let keys: Vec<&str> = b.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "_id",
            "AccountID",
            "PasswordHash",
            "CreatedAtMs",
            "Devices",
            "Rev"
        ]
    );
    let first = b.get_array("Devices").unwrap()[0].as_document().unwrap();
    let keys: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["DeviceID", "Name", "TokenHash", "CreatedAtMs", "LastUsedMs"]
    );
    let back: AccountDoc = mongodb::bson::from_document(b).unwrap();
    assert_eq!(back.record().unwrap(), account);
    assert_eq!(back.devices[0].record().unwrap(), device);
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
