//! Redis and MongoDB: the conformance suite on each and on both together, a local cluster on
//! each, flushing Redis, and each backend lost and back while the cluster runs.
//!
//! Every test starts its own servers ([`crate::backend_servers`]) and skips loudly where
//! one is not installed (fails under `FISHCHAT_REQUIRE_BACKENDS=1`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use fishchat_cluster::client::{Client, ClientError, Event};
use fishchat_cluster::local::LocalCluster;
use fishchat_cluster::protocol::{Command, ErrorCode};
use fishchat_cluster::store::conformance;
use fishchat_cluster::store::*;

use crate::backend_servers::{MongoServer, RedisServer};
use crate::harness::*;
use fishchat_cluster::protocol::TopicMessage;

/// Short deadlines, so that a lost backend is noticed quickly.
fn quick() -> BackendTimeouts {
    BackendTimeouts {
        connect: Duration::from_secs(2),
        op: Duration::from_millis(700),
    }
}

fn redis_options(r: &RedisServer) -> RedisOptions {
    let mut o = RedisOptions::new(r.url());
    o.timeouts = quick();
    o
}

fn mongo_options(m: &MongoServer) -> MongoOptions {
    let mut o = MongoOptions::new(m.url("im"));
    o.timeouts = quick();
    o
}

async fn open(choice: StoreChoice) -> Arc<dyn Store> {
    choice
        .open()
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", choice.kind()))
}

/// Runs the suite twice at once as well: it must hold against a shared, busy backend.
async fn conformance_twice(store: Arc<dyn Store>) {
    conformance::run(store.clone()).await;
    tokio::join!(conformance::run(store.clone()), conformance::run(store));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_passes_the_conformance_suite() {
    let Some(redis) = RedisServer::start("redis_passes_the_conformance_suite") else {
        return;
    };
    let store = open(StoreChoice::Redis(redis_options(&redis))).await;
    assert_eq!(store.backend(), "redis");
    conformance_twice(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_passes_the_conformance_suite() {
    let Some(mongo) = MongoServer::start("mongo_passes_the_conformance_suite") else {
        return;
    };
    let store = open(StoreChoice::Mongo(mongo_options(&mongo))).await;
    assert_eq!(store.backend(), "mongo");
    conformance_twice(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_and_mongo_together_pass_the_conformance_suite() {
    let test = "redis_and_mongo_together_pass_the_conformance_suite";
    let (Some(redis), Some(mongo)) = (RedisServer::start(test), MongoServer::start(test)) else {
        return;
    };
    let store = open(StoreChoice::RedisMongo {
        redis: redis_options(&redis),
        mongo: mongo_options(&mongo),
    })
    .await;
    assert_eq!(store.backend(), "redis+mongo");
    conformance_twice(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_total_is_exact_on_a_store_of_its_own() {
    let test = "pending_total_is_exact_on_a_store_of_its_own";
    let (Some(redis), Some(mongo)) = (RedisServer::start(test), MongoServer::start(test)) else {
        return;
    };
    for choice in [
        StoreChoice::Redis(redis_options(&redis)),
        StoreChoice::Mongo(mongo_options(&mongo)),
    ] {
        let store = open(choice.clone()).await;
        assert_eq!(
            store.pending_total().await.unwrap(),
            Some(0),
            "{}",
            choice.kind()
        );
        let msgs: Vec<StoredMessage> = (0..5)
            .map(|n| StoredMessage {
                uuid: uuid::Uuid::new_v4().to_string(),
                from: "a".into(),
                to: format!("to{}", n % 2),
                msg: format!("m{n}"),
                sent_at_ms: n,
                claims_uuid: false,
            })
            .collect();
        for m in &msgs {
            store.push(m).await.unwrap();
        }
        // A duplicate push adds nothing.
        store.push(&msgs[0]).await.unwrap();
        assert_eq!(
            store.pending_total().await.unwrap(),
            Some(5),
            "{}",
            choice.kind()
        );
        for m in &msgs[..3] {
            store.ack(&m.to, &m.uuid).await.unwrap();
        }
        // An ack of what is no longer pending takes nothing away.
        store.ack(&msgs[0].to, &msgs[0].uuid).await.unwrap();
        assert_eq!(
            store.pending_total().await.unwrap(),
            Some(2),
            "{}",
            choice.kind()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_key_prefix_keeps_two_stores_apart() {
    let Some(redis) = RedisServer::start("a_redis_key_prefix_keeps_two_stores_apart") else {
        return;
    };
    let mut a = redis_options(&redis);
    a.prefix = "A:".into();
    let mut b = redis_options(&redis);
    b.prefix = "B:".into();
    let (a, b) = (
        open(StoreChoice::Redis(a)).await,
        open(StoreChoice::Redis(b)).await,
    );
    let t = TopicRecord {
        name: "t".into(),
        creator: "x".into(),
        home: "h".into(),
        created_at_ms: 1,
        invite_only: false,
    };
    assert!(a.create_topic(&t).await.unwrap());
    assert!(b.create_topic(&t).await.unwrap(), "B: sees nothing of A:");
    a.add_member("t", "y").await.unwrap();
    assert_eq!(b.members("t").await.unwrap(), vec!["x"]);
}

/// The keys `store/redis/mod.rs` documents for invitations, message ids and accounts are the
/// ones written, and a message id never expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_keeps_invitations_message_ids_and_accounts_under_the_documented_keys() {
    let test = "redis_keeps_invitations_message_ids_and_accounts_under_the_documented_keys";
    let Some(redis) = RedisServer::start(test) else {
        return;
    };
    let mut o = redis_options(&redis);
    o.prefix = "K:".into();
    let store = open(StoreChoice::Redis(o)).await;
    let mut r = ::redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let t = TopicRecord {
        name: "t".into(),
        creator: "x".into(),
        home: "h".into(),
        created_at_ms: 1,
        invite_only: true,
    };
    assert!(store.create_topic(&t).await.unwrap());
    assert!(store.set_invited("t", "y", true).await.unwrap());
    let invited: Vec<String> = ::redis::cmd("SMEMBERS")
        .arg("K:ttopic_invited")
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(invited, ["y"]);

    let m = StoredMessage {
        uuid: "00000000-0000-4000-8000-000000000001".into(),
        from: "alice".into(),
        to: "bob".into(),
        msg: "m".into(),
        sent_at_ms: 1,
        claims_uuid: true,
    };
    store.push(&m).await.unwrap();
    store.ack("bob", &m.uuid).await.unwrap().unwrap();
    let key = format!("K:{}message_id", m.uuid);
    let owner: String = ::redis::cmd("GET")
        .arg(&key)
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(owner, "alice", "the id outlives the ack");
    let ttl: i64 = ::redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(ttl, -1, "a message id never expires");

    let account = Account {
        id: "carol".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at_ms: 5,
    };
    assert!(store.create_account(&account).await.unwrap());
    let phone = Device {
        device_id: "phone".into(),
        name: "carol's phone".into(),
        token_hash: "ab".repeat(32),
        created_at_ms: 6,
        last_used_ms: 7,
    };
    assert!(store.put_device("carol", &phone).await.unwrap());
    let fields: std::collections::HashMap<String, String> = ::redis::cmd("HGETALL")
        .arg("K:carolaccount")
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(fields.get("PasswordHash"), Some(&account.password_hash));
    assert_eq!(fields.get("CreatedAtMs").map(String::as_str), Some("5"));
    let devices: Vec<String> = ::redis::cmd("HKEYS")
        .arg("K:carolaccount_devices")
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(devices, ["phone"]);
    let listed: Vec<String> = ::redis::cmd("SMEMBERS")
        .arg("K:account_list")
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(listed, ["carol"]);
    assert!(store.delete_account("carol").await.unwrap());
    let left: i64 = ::redis::cmd("EXISTS")
        .arg("K:carolaccount")
        .arg("K:carolaccount_devices")
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(left, 0, "the account and its devices are gone");
}

/// The collections and fields `store/mongo/mod.rs` documents for invitations, message ids and
/// accounts are the ones written, and a topic stored before `InviteOnly` existed reads as
/// open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_keeps_invitations_message_ids_and_accounts_in_the_documented_collections() {
    use ::mongodb::bson::{doc, Document};
    let test = "mongo_keeps_invitations_message_ids_and_accounts_in_the_documented_collections";
    let Some(mongo) = MongoServer::start(test) else {
        return;
    };
    let store = open(StoreChoice::Mongo(mongo_options(&mongo))).await;
    let db = ::mongodb::Client::with_uri_str(mongo.url("im"))
        .await
        .unwrap()
        .database("im");
    // As JSON, so that a number compares equal whatever width the server stored it in
    // (nx-27017 keeps small Int64s as Int32s).
    let one = |coll: &str, filter: Document| {
        let coll = db.collection::<Document>(coll);
        async move {
            coll.find_one(filter)
                .await
                .unwrap()
                .map(|d| ::mongodb::bson::Bson::Document(d).into_relaxed_extjson())
        }
    };
    let json = |d: Document| Some(::mongodb::bson::Bson::Document(d).into_relaxed_extjson());

    db.collection::<Document>("topic_info")
        .insert_one(doc! {
            "_id": "old", "TopicName": "old", "CreaterID": "x", "MsgServerAddr": "h",
            "CreatedAtMs": 1_i64, "MemberList": [{"ID": "x"}],
        })
        .await
        .unwrap();
    let old = store.topic("old").await.unwrap().unwrap();
    assert!(
        !old.invite_only,
        "a topic stored without InviteOnly is open"
    );
    assert!(store.set_invited("old", "y", true).await.unwrap());
    assert_eq!(
        one("topic_invites", doc! {"TopicName": "old"})
            .await
            .map(|mut d| d.as_object_mut().unwrap().remove("ID")),
        Some(Some("y".into()))
    );

    let m = StoredMessage {
        uuid: "00000000-0000-4000-8000-000000000001".into(),
        from: "alice".into(),
        to: "bob".into(),
        msg: "m".into(),
        sent_at_ms: 1,
        claims_uuid: true,
    };
    store.push(&m).await.unwrap();
    store.ack("bob", &m.uuid).await.unwrap().unwrap();
    assert_eq!(
        one("message_ids", doc! {"_id": &m.uuid}).await,
        json(doc! {"_id": &m.uuid, "FromID": "alice"}),
        "the id outlives the ack"
    );

    let account = Account {
        id: "carol".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at_ms: 5,
    };
    assert!(store.create_account(&account).await.unwrap());
    let phone = Device {
        device_id: "phone".into(),
        name: "carol's phone".into(),
        token_hash: "ab".repeat(32),
        created_at_ms: 6,
        last_used_ms: 7,
    };
    assert!(store.put_device("carol", &phone).await.unwrap());
    assert_eq!(
        one("accounts", doc! {"_id": "carol"}).await,
        json(doc! {
            "_id": "carol",
            "AccountID": "carol",
            "PasswordHash": &account.password_hash,
            "CreatedAtMs": 5_i64,
            "Devices": [{
                "DeviceID": "phone", "Name": "carol's phone", "TokenHash": &phone.token_hash,
                "CreatedAtMs": 6_i64, "LastUsedMs": 7_i64,
            }],
            "Rev": 1_i64,
        })
    );
    assert!(store.delete_account("carol").await.unwrap());
    assert_eq!(one("accounts", doc! {"_id": "carol"}).await, None);
}

/// The next topic message's (msg, from); receipts of earlier p2p messages are passed over.
async fn next_topic(c: &mut Client) -> (String, String) {
    loop {
        match next(c).await {
            Event::Topic(TopicMessage { msg, from, .. }) => return (msg, from),
            Event::Delivered { .. } => continue,
            other => panic!("expected a topic message, got {other:?}"),
        }
    }
}

/// A two-msg_server local cluster on `store`, with p2p across servers, a topic, and an
/// offline message.
async fn cluster_works_on(store: Arc<dyn Store>) {
    let c = start_with(2, |o| o.store = Some(store)).await;
    let mut alice = login(&c, 0, "alice").await;
    let mut bob = login(&c, 1, "bob").await;
    alice.sender().send_p2p("bob", "across").unwrap();
    let (msg, from, uuid, offline) = next_p2p(&mut bob).await;
    assert_eq!(
        (msg.as_str(), from.as_str(), offline),
        ("across", "alice", false)
    );
    bob.sender().ack(&uuid).unwrap();

    alice.create_topic("room").await.unwrap();
    bob.join_topic("room").await.unwrap();
    bob.sender().send_topic("room", "to the room").unwrap();
    for cl in [&mut alice, &mut bob] {
        assert_eq!(next_topic(cl).await, ("to the room".into(), "bob".into()));
    }

    alice.sender().send_p2p("zoe", "while away").unwrap();
    alice.sync().await.unwrap();
    let mut zoe = login(&c, 1, "zoe").await;
    let (msg, _, _, offline) = next_p2p(&mut zoe).await;
    assert_eq!((msg.as_str(), offline), ("while away", true));
    c.cluster.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_runs_on_redis_alone_mongo_alone_and_both() {
    let test = "a_cluster_runs_on_redis_alone_mongo_alone_and_both";
    let (Some(redis), Some(mongo)) = (RedisServer::start(test), MongoServer::start(test)) else {
        return;
    };
    cluster_works_on(open(StoreChoice::Redis(redis_options(&redis))).await).await;
    let mut m = mongo_options(&mongo);
    m.url = mongo.url("alone");
    cluster_works_on(open(StoreChoice::Mongo(m)).await).await;
    let mut r = redis_options(&redis);
    r.prefix = "BOTH:".into();
    cluster_works_on(
        open(StoreChoice::RedisMongo {
            redis: r,
            mongo: mongo_options(&mongo),
        })
        .await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushing_redis_loses_no_message_and_no_topic() {
    let test = "flushing_redis_loses_no_message_and_no_topic";
    let (Some(redis), Some(mongo)) = (RedisServer::start(test), MongoServer::start(test)) else {
        return;
    };
    let store = open(StoreChoice::RedisMongo {
        redis: redis_options(&redis),
        mongo: mongo_options(&mongo),
    })
    .await;
    let c = start_with(2, |o| o.store = Some(store.clone())).await;
    let mut alice = login(&c, 0, "alice").await;
    alice.create_topic("room").await.unwrap();
    let mut bob = login(&c, 1, "bob").await;
    bob.join_topic("room").await.unwrap();
    for i in 0..3 {
        alice.sender().send_p2p("zoe", &format!("m{i}")).unwrap();
    }
    alice.sync().await.unwrap();

    let mut r = ::redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let () = ::redis::cmd("FLUSHALL").query_async(&mut r).await.unwrap();
    assert!(
        store.all_sessions().await.unwrap().is_empty(),
        "Redis was flushed"
    );

    let mut zoe = login(&c, 1, "zoe").await;
    for i in 0..3 {
        let (msg, from, _, offline) = next_p2p(&mut zoe).await;
        assert_eq!(
            (msg, from.as_str(), offline),
            (format!("m{i}"), "alice", true)
        );
    }
    assert_eq!(store.members("room").await.unwrap(), vec!["alice", "bob"]);
    // Live sessions were in Redis: logging in again puts them back.
    drop((alice, bob));
    let alice = login(&c, 1, "alice").await;
    let mut bob = login(&c, 0, "bob").await;
    alice.sender().send_topic("room", "still here").unwrap();
    assert_eq!(next_topic(&mut bob).await.0, "still here");
}

/// Redis forgets its scripts when it restarts (or is told to): the inbox's next batch, and
/// its next single push or ack, load them again and take effect as if nothing happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_inbox_writes_load_forgotten_scripts_again() {
    let test = "redis_inbox_writes_load_forgotten_scripts_again";
    let Some(redis) = RedisServer::start(test) else {
        return;
    };
    let store = open(StoreChoice::Redis(redis_options(&redis))).await;
    let mut r = ::redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let msg = |n: u64| StoredMessage {
        uuid: format!("00000000-0000-4000-8000-{n:012}"),
        from: "alice".into(),
        to: "bob".into(),
        msg: format!("m{n}"),
        sent_at_ms: n,
        claims_uuid: false,
    };
    store.push(&msg(0)).await.unwrap();

    let () = ::redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut r)
        .await
        .unwrap();
    let answers = store
        .apply_batch(&[
            InboxOp::Push(msg(1)),
            InboxOp::Push(msg(2)),
            InboxOp::Ack {
                id: "bob".into(),
                uuid: msg(1).uuid,
            },
            InboxOp::Push(msg(3)),
        ])
        .await;
    assert_eq!(answers, [Ok(None), Ok(None), Ok(Some(msg(1))), Ok(None)]);

    let () = ::redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(store.ack("bob", &msg(0).uuid).await.unwrap(), Some(msg(0)));
    let () = ::redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut r)
        .await
        .unwrap();
    store.push(&msg(4)).await.unwrap();
    assert_eq!(
        store.pending("bob").await.unwrap(),
        [msg(2), msg(3), msg(4)]
    );
}

/// Retries `attempt` until it succeeds, for at most `within`; the last error otherwise.
async fn until_ok<T, F, Fut>(within: Duration, mut attempt: F) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    let deadline = Instant::now() + within;
    loop {
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn assert_unavailable(e: ClientError, what: &str) {
    assert_eq!(e.code(), Some(ErrorCode::Unavailable), "{what}: {e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_lost_logins_answer_unavailable_then_service_resumes_by_itself() {
    let test = "redis_lost_logins_answer_unavailable_then_service_resumes_by_itself";
    let (Some(mut redis), Some(mongo)) = (RedisServer::start(test), MongoServer::start(test))
    else {
        return;
    };
    let store = open(StoreChoice::RedisMongo {
        redis: redis_options(&redis),
        mongo: mongo_options(&mongo),
    })
    .await;
    let c = start_with(2, |o| o.store = Some(store)).await;
    let ms = c.file().msg_servers.clone();
    let alice = login(&c, 0, "alice").await;
    let mut bob = login(&c, 1, "bob").await;

    tokio::task::block_in_place(|| redis.kill());

    // A login needs the session store: refused at once, not hung.
    let started = Instant::now();
    let mut carol = Client::connect(&ms[0]).await.unwrap();
    assert_unavailable(
        carol.login("carol").await.unwrap_err(),
        "login without Redis",
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    // A message to a logged-in receiver on another msg_server is accepted (the inbox is in
    // MongoDB) though it cannot be routed now.
    bob.request(&Command::SendMessageP2p {
        to: "alice".into(),
        msg: "sent during the outage".into(),
        from: None,
        uuid: None,
        sent_at_ms: None,
    })
    .await
    .expect("the inbox does not need Redis");

    tokio::task::block_in_place(|| redis.restart());

    // Nobody restarts anything: the next logins get through.
    let carol = until_ok(Duration::from_secs(10), || {
        Client::login_at(&ms[0], "carol")
    })
    .await
    .expect("a login once Redis is back");
    // Nothing accepted was lost: alice's next login replays it.
    drop(alice);
    let mut alice = login(&c, 1, "alice").await;
    let (msg, from, _, offline) = next_p2p(&mut alice).await;
    assert_eq!(
        (msg.as_str(), from.as_str(), offline),
        ("sent during the outage", "bob", true)
    );
    // And routing works again.
    carol.sender().send_p2p("alice", "after").unwrap();
    let (msg, _, _, offline) = next_p2p(&mut alice).await;
    assert_eq!((msg.as_str(), offline), ("after", false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_lost_sends_answer_unavailable_nothing_accepted_is_lost_and_service_resumes() {
    let test = "mongo_lost_sends_answer_unavailable_nothing_accepted_is_lost_and_service_resumes";
    let (Some(redis), Some(mut mongo)) = (RedisServer::start(test), MongoServer::start(test))
    else {
        return;
    };
    let store = open(StoreChoice::RedisMongo {
        redis: redis_options(&redis),
        mongo: mongo_options(&mongo),
    })
    .await;
    let c = start_with(2, |o| o.store = Some(store)).await;
    let mut alice = login(&c, 0, "alice").await;
    let mut bob = login(&c, 1, "bob").await;
    alice.create_topic("room").await.unwrap();
    for i in 0..3 {
        alice
            .sender()
            .send_p2p("zoe", &format!("kept {i}"))
            .unwrap();
    }
    alice.sync().await.unwrap();

    tokio::task::block_in_place(|| mongo.kill());

    let send = |to: &str, msg: &str| Command::SendMessageP2p {
        to: to.into(),
        msg: msg.into(),
        from: None,
        uuid: None,
        sent_at_ms: None,
    };
    let started = Instant::now();
    assert_unavailable(
        alice.request(&send("bob", "lost?")).await.unwrap_err(),
        "a p2p send without MongoDB",
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_unavailable(
        alice.create_topic("other").await.unwrap_err(),
        "CREATE_TOPIC without MongoDB",
    );
    assert_unavailable(
        bob.join_topic("room").await.unwrap_err(),
        "JOIN_TOPIC without MongoDB",
    );
    // A refused message was never accepted: bob gets nothing.
    assert_quiet(&mut bob).await;

    tokio::task::block_in_place(|| mongo.restart());

    let deadline = Instant::now() + Duration::from_secs(10);
    while let Err(e) = alice.request(&send("bob", "after")).await {
        assert!(
            Instant::now() < deadline,
            "a send once MongoDB is back: {e}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (msg, from, _, _) = next_p2p(&mut bob).await;
    assert_eq!((msg.as_str(), from.as_str()), ("after", "alice"));
    bob.join_topic("room").await.unwrap();
    let mut zoe = login(&c, 1, "zoe").await;
    for i in 0..3 {
        let (msg, _, _, offline) = next_p2p(&mut zoe).await;
        assert_eq!((msg, offline), (format!("kept {i}"), true));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_restarted_on_the_same_backends_keeps_everything() {
    let test = "a_cluster_restarted_on_the_same_backends_keeps_everything";
    let (Some(redis), Some(mongo)) = (RedisServer::start(test), MongoServer::start(test)) else {
        return;
    };
    let choice = StoreChoice::RedisMongo {
        redis: redis_options(&redis),
        mongo: mongo_options(&mongo),
    };
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(dir.path(), 2);
    o.store = Some(open(choice.clone()).await);
    let c = LocalCluster::start(o, |_| {}).await.unwrap();
    let mut alice = login(&c, 0, "alice").await;
    alice.create_topic("keep").await.unwrap();
    alice.sender().send_p2p("zoe", "z").unwrap();
    alice.sync().await.unwrap();
    drop(alice);
    c.shutdown().await.unwrap();

    let mut o = options(dir.path(), 2);
    o.store = Some(open(choice).await);
    let c = LocalCluster::start(o, |_| {}).await.unwrap();
    let mut zoe = login(&c, 1, "zoe").await;
    let (msg, _, _, offline) = next_p2p(&mut zoe).await;
    assert_eq!((msg.as_str(), offline), ("z", true));
    assert_eq!(c.store().members("keep").await.unwrap(), vec!["alice"]);
    c.shutdown().await.unwrap();
}
