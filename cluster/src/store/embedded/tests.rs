//! The embedded store's tests: the conformance suite, and what only this backend promises
//! (durability across drop, flush and SIGKILL; batches that keep counts and order).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use super::*;
use crate::store::conformance;

fn open(path: &Path) -> EmbeddedStore {
    EmbeddedStore::open(path, EmbeddedOptions::default()).expect("open the store")
}

fn msg(to: &str, n: u64) -> StoredMessage {
    StoredMessage {
        uuid: format!("uuid-{n}"),
        from: "alice".into(),
        to: to.into(),
        msg: format!("hello {n}"),
        sent_at_ms: n,
        claims_uuid: false,
    }
}

fn topic(name: &str, creator: &str) -> TopicRecord {
    TopicRecord {
        name: name.into(),
        creator: creator.into(),
        home: "127.0.0.1:19000".into(),
        created_at_ms: 7,
        invite_only: false,
    }
}

pub(super) fn client(id: &str) -> ClientRecord {
    ClientRecord {
        id: id.into(),
        client_addr: "10.0.0.2:5555".into(),
        msg_server: "127.0.0.1:19000".into(),
        alive: true,
        last_seen_ms: 9,
    }
}

#[tokio::test]
async fn passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(open(&dir.path().join("store.redb")));
    conformance::run(store.clone()).await;
    // Twice at once on the same, now non-empty, store: the suite must not trip over itself.
    tokio::join!(conformance::run(store.clone()), conformance::run(store));
}

#[tokio::test]
async fn pending_total_counts_every_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("store.redb"));
    assert_eq!(store.pending_total().await.unwrap(), Some(0));
    for n in 0..3 {
        store.push(&msg("bob", n)).await.unwrap();
    }
    store.push(&msg("carol", 9)).await.unwrap();
    // A duplicate push adds nothing.
    store.push(&msg("carol", 9)).await.unwrap();
    assert_eq!(store.pending_total().await.unwrap(), Some(4));
    store.ack("bob", "uuid-1").await.unwrap();
    store.ack("bob", "uuid-1").await.unwrap();
    assert_eq!(store.pending_total().await.unwrap(), Some(3));
}

#[tokio::test]
async fn open_creates_parent_directories_and_names_the_path_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/store.redb");
    let store = open(&path);
    assert_eq!(store.path(), path);
    assert_eq!(store.backend(), "embedded");

    // The file is held by `store`: a second open must fail, saying which file.
    let err = EmbeddedStore::open(&path, EmbeddedOptions::default()).unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );

    // A parent that is a file cannot become a directory.
    let blocked = dir.path().join("file");
    std::fs::write(&blocked, b"x").unwrap();
    let err =
        EmbeddedStore::open(&blocked.join("store.redb"), EmbeddedOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains(&blocked.display().to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.redb");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let err = EmbeddedStore::open(&path, EmbeddedOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

/// Fills every table, so that a reopened store can be checked for all of it.
async fn fill(store: &EmbeddedStore) {
    for n in 0..5 {
        store.push(&msg("bob", n)).await.unwrap();
    }
    store.ack("bob", "uuid-1").await.unwrap().unwrap();
    assert!(store.create_topic(&topic("fish", "alice")).await.unwrap());
    assert!(store.add_member("fish", "carol").await.unwrap());
    store.put_client(&client("alice")).await.unwrap();
    let loc = SessionLoc {
        server: "127.0.0.1:19000".into(),
        conn: 3,
    };
    store.add_session("alice", &loc).await.unwrap();
}

async fn check_filled(store: &EmbeddedStore) {
    let uuids: Vec<_> = store
        .pending("bob")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.uuid)
        .collect();
    assert_eq!(uuids, ["uuid-0", "uuid-2", "uuid-3", "uuid-4"]);
    assert_eq!(store.pending_count("bob").await.unwrap(), 4);
    assert_eq!(
        store.topic("fish").await.unwrap(),
        Some(topic("fish", "alice"))
    );
    assert_eq!(store.members("fish").await.unwrap(), ["alice", "carol"]);
    assert_eq!(store.clients().await.unwrap(), [client("alice")]);
    assert_eq!(store.all_sessions().await.unwrap().len(), 1);
}

#[tokio::test]
async fn data_survives_drop_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    // A window far longer than the test: only the durable commit on drop can save the data.
    let opts = EmbeddedOptions {
        commit_window: Duration::from_secs(3600),
    };
    let store = EmbeddedStore::open(&path, opts.clone()).unwrap();
    fill(&store).await;
    let clone = store.clone();
    drop(store);
    // A clone keeps the store open and writable.
    clone.push(&msg("bob", 5)).await.unwrap();
    clone.ack("bob", "uuid-5").await.unwrap().unwrap();
    drop(clone);

    let store = EmbeddedStore::open(&path, opts).unwrap();
    check_filled(&store).await;
    // The sequence counter survived too: a new push goes after the old ones.
    store.push(&msg("bob", 9)).await.unwrap();
    let last = store.pending("bob").await.unwrap().pop().unwrap();
    assert_eq!(last.uuid, "uuid-9");
}

#[tokio::test]
async fn flush_then_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let store = EmbeddedStore::open(
        &path,
        EmbeddedOptions {
            commit_window: Duration::from_secs(3600),
        },
    )
    .unwrap();
    fill(&store).await;
    store.flush().await.unwrap();
    drop(store);
    check_filled(&open(&path)).await;
}

#[tokio::test]
async fn writes_are_visible_before_any_durable_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(
        &dir.path().join("store.redb"),
        EmbeddedOptions {
            commit_window: Duration::from_secs(3600),
        },
    )
    .unwrap();
    // With an hour's window, nothing below is fsynced before the reads.
    store.push(&msg("bob", 1)).await.unwrap();
    assert_eq!(store.pending("bob").await.unwrap(), [msg("bob", 1)]);
    assert_eq!(store.pending_count("bob").await.unwrap(), 1);
    store.put_client(&client("bob")).await.unwrap();
    assert_eq!(store.client("bob").await.unwrap(), Some(client("bob")));
    assert!(store.create_topic(&topic("t", "bob")).await.unwrap());
    assert_eq!(store.members("t").await.unwrap(), ["bob"]);
}

#[tokio::test]
async fn writes_in_one_batch_see_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("store.redb"));
    // Issued together, these likely share one transaction; their answers must be as if
    // applied one after another.
    let (t, m) = (topic("t", "a"), msg("bob", 1));
    let (created, added, pushed, acked, missing) = tokio::join!(
        store.create_topic(&t),
        store.add_member("t", "b"),
        store.push(&m),
        store.ack("bob", "uuid-1"),
        store.add_member("nope", "b"),
    );
    assert!(created.unwrap());
    assert!(added.unwrap());
    pushed.unwrap();
    assert_eq!(acked.unwrap(), Some(msg("bob", 1)));
    assert_eq!(missing, Err(StoreError::NoSuchTopic("nope".into())));
    assert_eq!(store.pending_count("bob").await.unwrap(), 0);
    assert_eq!(store.members("t").await.unwrap(), ["a", "b"]);
}

/// A batch writes the inbox lengths and the seq counter once at its end (see
/// `Tables::finish`): many pushes, duplicates and acks of one inbox in one batch must
/// leave them as if applied one by one.
#[tokio::test]
async fn a_batch_of_pushes_and_acks_keeps_counts_and_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("store.redb"));
    store.push(&msg("bob", 0)).await.unwrap();
    let msgs: Vec<StoredMessage> = (0..=20).map(|n| msg("bob", n)).collect();
    let acked_uuids = [3, 0, 17, 3].map(|n| format!("uuid-{n}"));
    let carol_msg = msg("carol", 5);
    let pushes = msgs[1..].iter().map(|m| store.push(m));
    let dups = msgs.iter().map(|m| store.push(m));
    let acks = acked_uuids.iter().map(|u| store.ack("bob", u));
    let carol = store.push(&carol_msg);
    let (pushed, duplicated, acked, carol) = tokio::join!(
        futures::future::join_all(pushes),
        futures::future::join_all(dups),
        futures::future::join_all(acks),
        carol,
    );
    assert!(pushed.into_iter().chain(duplicated).all(|r| r.is_ok()));
    carol.unwrap();
    let acked: Vec<_> = acked
        .into_iter()
        .map(|r| r.unwrap().map(|m| m.sent_at_ms))
        .collect();
    assert_eq!(
        acked,
        [Some(3), Some(0), Some(17), None],
        "the second ack of 3 finds nothing"
    );
    assert_eq!(store.pending_count("bob").await.unwrap(), 18);
    assert_eq!(store.pending_count("carol").await.unwrap(), 1);
    let order: Vec<u64> = store
        .pending("bob")
        .await
        .unwrap()
        .iter()
        .map(|m| m.sent_at_ms)
        .collect();
    let want: Vec<u64> = (1..=20).filter(|n| *n != 3 && *n != 17).collect();
    assert_eq!(order, want, "push order, each once");
    // The counter moved on: a later push still comes last.
    store.push(&msg("bob", 99)).await.unwrap();
    assert_eq!(
        store
            .pending("bob")
            .await
            .unwrap()
            .last()
            .unwrap()
            .sent_at_ms,
        99
    );
    for n in want {
        store
            .ack("bob", &format!("uuid-{n}"))
            .await
            .unwrap()
            .unwrap();
    }
    store.ack("bob", "uuid-99").await.unwrap().unwrap();
    assert_eq!(store.pending_count("bob").await.unwrap(), 0);
}

/// What the child process of [`writes_survive_sigkill_after_one_window`] runs: write,
/// wait well past one commit window without flushing, say so, and wait to be killed.
#[tokio::test]
async fn sigkill_child_process() {
    let Ok(path) = std::env::var("FISHCHAT_SIGKILL_CHILD_DB") else {
        return; // run directly by the test harness: nothing to do
    };
    let store = EmbeddedStore::open(
        Path::new(&path),
        EmbeddedOptions {
            commit_window: Duration::from_millis(20),
        },
    )
    .unwrap();
    fill(&store).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!("FISHCHAT-CHILD-READY");
    tokio::time::sleep(Duration::from_secs(60)).await;
    unreachable!("the parent test should have killed this process");
}

#[test]
fn writes_survive_sigkill_after_one_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["sigkill_child_process", "--nocapture", "--test-threads=1"])
        .env("FISHCHAT_SIGKILL_CHILD_DB", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ready = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("FISHCHAT-CHILD-READY"));
    child.kill().unwrap(); // SIGKILL: no destructor, no flush
    child.wait().unwrap();
    assert!(
        ready,
        "the child process never reported that it had written"
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async { check_filled(&open(&path)).await });
}

/// Topics stored before invitations existed have no `invite_only` field: they read as open.
#[tokio::test]
async fn a_topic_stored_without_invite_only_reads_as_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("store.redb"));
    let old = br#"{"name":"old","creator":"alice","home":"127.0.0.1:19000","created_at_ms":7}"#;
    let txn = store.inner.db.begin_write().unwrap();
    txn.open_table(TOPICS)
        .unwrap()
        .insert("old", old.as_slice())
        .unwrap();
    txn.commit().unwrap();
    assert_eq!(
        store.topic("old").await.unwrap(),
        Some(topic("old", "alice"))
    );
    let mut closed = topic("closed", "alice");
    closed.invite_only = true;
    assert!(store.create_topic(&closed).await.unwrap());
    assert_eq!(store.topic("closed").await.unwrap(), Some(closed));
}

/// A push claims its uuid in the same transaction as its other writes, so a batch of many
/// pushes stays one commit; a push refused as another sender's leaves no trace, not even in
/// the inbox length or the seq counter.
#[tokio::test]
async fn a_refused_push_in_a_batch_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("store.redb"));
    let claiming = |to: &str, n: u64| StoredMessage {
        claims_uuid: true,
        ..msg(to, n)
    };
    let mut stolen = claiming("carol", 1);
    stolen.from = "mallory".into();
    let answers = store
        .apply_batch(&[
            InboxOp::Push(claiming("bob", 1)),
            InboxOp::Push(stolen),
            InboxOp::Push(claiming("bob", 2)),
        ])
        .await;
    assert_eq!(
        answers,
        [
            Ok(None),
            Err(StoreError::IdTaken("uuid-1".into())),
            Ok(None)
        ]
    );
    assert_eq!(store.pending_count("carol").await.unwrap(), 0);
    assert_eq!(store.pending_total().await.unwrap(), Some(2));
    assert_eq!(
        store.pending("bob").await.unwrap(),
        [msg("bob", 1), msg("bob", 2)]
    );
    // Acked, the id stays alice's.
    store.ack("bob", "uuid-1").await.unwrap().unwrap();
    assert!(!store.claim_message_id("uuid-1", "mallory").await.unwrap());
    assert!(store.claim_message_id("uuid-1", "alice").await.unwrap());
}
