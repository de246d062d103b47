//! The one conformance suite every [`Store`] backend must pass.
//!
//! [`run`] runs every check and panics, naming the check and what differed, at the first
//! failure. Each check is also a `pub async fn` of its own, named after what it checks, for a
//! backend that wants one test per check.
//!
//! The suite is safe against a shared backend that already holds data, and may run several
//! times at once against the same store: every id, topic and server it touches carries a fresh
//! uuid prefix, listings are checked only for the entries the check made (plus their global
//! order), and nothing is ever deleted that the check did not create. It is compiled for this
//! crate's tests and with the `conformance` feature, so that integration tests can run it
//! against Redis, MongoDB, ...; never in a release build.
//!
//! The contracts checked are the doc comments of the traits in [`super`].
//!
//! One file, longer than the others, on purpose: it is test code, one contract read top to
//! bottom in the order of the traits, every check built from the helpers at its top.

use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::Arc;

use uuid::Uuid;

use super::{
    Account, ClientRecord, Device, InboxOp, SessionLoc, Store, StoreError, StoreResult,
    StoredMessage, TopicRecord,
};

/// Runs every check against `store`, one after another.
///
/// # Panics
///
/// At the first check that fails, with the check's name and what was expected.
pub async fn run(store: Arc<dyn Store>) {
    let s = &store;
    backend_names_itself_and_flushes(s).await;

    session_add_and_remove_are_idempotent(s).await;
    sessions_of_an_id_span_servers_in_order(s).await;
    clear_server_clears_only_that_server(s).await;
    all_sessions_lists_every_connection_by_id(s).await;

    create_topic_adds_creator_and_refuses_duplicates(s).await;
    members_are_ordered_and_added_once(s).await;
    missing_topic_is_no_such_topic(s).await;
    topics_lists_every_topic_by_name(s).await;
    invite_only_is_kept(s).await;
    remove_member_removes_once(s).await;
    invitations_are_ordered_given_once_and_taken_back(s).await;

    inbox_keeps_push_order(s).await;
    duplicate_uuid_is_ignored(s).await;
    ack_returns_and_removes_only_that_message(s).await;
    ack_of_unknown_uuid_is_none(s).await;
    inboxes_of_different_ids_are_independent(s).await;
    concurrent_pushes_land_exactly_once(s).await;
    a_batch_applies_in_order(s).await;
    pending_total_counts_at_least_this_checks_messages(s).await;
    a_message_id_is_its_first_senders_for_good(s).await;
    a_push_of_another_senders_id_is_refused_and_changes_nothing(s).await;
    a_batch_refuses_another_senders_id_alone(s).await;
    a_server_made_uuid_is_neither_claimed_nor_checked(s).await;

    clients_put_replace_get_and_list(s).await;

    accounts_are_created_once_read_and_listed_by_id(s).await;
    set_password_replaces_only_the_hash(s).await;
    delete_account_takes_its_devices_with_it(s).await;
    put_device_adds_replaces_and_needs_an_account(s).await;
    devices_are_ordered_by_creation_then_id(s).await;
    remove_device_forgets_only_that_device(s).await;
    touch_device_changes_only_a_present_devices_last_use(s).await;
    concurrent_device_changes_of_one_account_all_land(s).await;
    touch_device_racing_remove_never_brings_it_back(s).await;
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/// A prefix no other run, and no other check, will use.
fn unique(check: &str) -> String {
    format!("conformance-{}-{check}", Uuid::new_v4().simple())
}

/// The value of a store call that must succeed.
#[track_caller]
fn ok<T>(check: &str, call: &str, result: StoreResult<T>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("conformance check `{check}`: {call} failed: {e}"),
    }
}

#[track_caller]
fn same<T: PartialEq + Debug>(check: &str, what: &str, got: T, want: T) {
    assert_eq!(got, want, "conformance check `{check}`: {what}");
}

#[track_caller]
fn sorted_by<T, K: Ord + Debug>(check: &str, what: &str, items: &[T], key: impl Fn(&T) -> K) {
    for pair in items.windows(2) {
        let (a, b) = (key(&pair[0]), key(&pair[1]));
        assert!(
            a <= b,
            "conformance check `{check}`: {what} is not in order: {a:?} comes before {b:?}"
        );
    }
}

fn loc(server: &str, conn: u64) -> SessionLoc {
    SessionLoc {
        server: server.to_owned(),
        conn,
    }
}

/// A message with a random uuid, so that uuid order is not push order.
fn message(from: &str, to: &str, n: usize) -> StoredMessage {
    StoredMessage {
        uuid: Uuid::new_v4().to_string(),
        from: from.to_owned(),
        to: to.to_owned(),
        msg: format!("message {n} from {from}"),
        sent_at_ms: 1_700_000_000_000 + n as u64,
        claims_uuid: false,
    }
}

/// [`message`] with a uuid its sender chose: its push claims the uuid.
fn claiming(from: &str, to: &str, n: usize) -> StoredMessage {
    StoredMessage {
        claims_uuid: true,
        ..message(from, to, n)
    }
}

/// `m` as a backend gives it back: `claims_uuid` is not stored.
fn read_back(m: &StoredMessage) -> StoredMessage {
    StoredMessage {
        claims_uuid: false,
        ..m.clone()
    }
}

fn topic_record(name: &str, creator: &str, home: &str) -> TopicRecord {
    TopicRecord {
        name: name.to_owned(),
        creator: creator.to_owned(),
        home: home.to_owned(),
        created_at_ms: 1_700_000_000_000,
        invite_only: false,
    }
}

fn invite_only_topic(name: &str, creator: &str) -> TopicRecord {
    TopicRecord {
        invite_only: true,
        ..topic_record(name, creator, "127.0.0.1:19000")
    }
}

/// An account with a hash shaped like the real ones (they are opaque to the store).
fn account_record(id: &str, salt: &str, at: u64) -> Account {
    Account {
        id: id.to_owned(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1${salt}$aGFzaGhhc2hoYXNo"),
        created_at_ms: at,
    }
}

fn device(device_id: &str, created_at_ms: u64, last_used_ms: u64) -> Device {
    Device {
        device_id: device_id.to_owned(),
        name: format!("{device_id}'s phone"),
        token_hash: format!("{:064x}", created_at_ms * 7919 + last_used_ms),
        created_at_ms,
        last_used_ms,
    }
}

fn client_record(id: &str, server: &str, alive: bool, at: u64) -> ClientRecord {
    ClientRecord {
        id: id.to_owned(),
        client_addr: format!("10.0.0.1:{}", 40_000 + at % 1000),
        msg_server: server.to_owned(),
        alive,
        last_seen_ms: at,
    }
}

// ---------------------------------------------------------------------------------------------
// Store.

/// `backend()` names the backend; `flush()` succeeds, with and without writes pending.
pub(crate) async fn backend_names_itself_and_flushes(store: &Arc<dyn Store>) {
    let check = "backend_names_itself_and_flushes";
    assert!(
        !store.backend().is_empty(),
        "conformance check `{check}`: backend() is empty"
    );
    ok(check, "flush with nothing written", store.flush().await);
    let p = unique(check);
    let id = format!("{p}-client");
    ok(
        check,
        "put_client",
        store.put_client(&client_record(&id, "s", true, 1)).await,
    );
    ok(check, "flush after a write", store.flush().await);
    ok(check, "flush twice", store.flush().await);
    same(
        check,
        "the client written before flush()",
        ok(check, "client", store.client(&id).await),
        Some(client_record(&id, "s", true, 1)),
    );
}

// ---------------------------------------------------------------------------------------------
// SessionStore.

/// Adding a connection twice records it once; removing it twice, or removing one never
/// added, is harmless.
pub(crate) async fn session_add_and_remove_are_idempotent(store: &Arc<dyn Store>) {
    let check = "session_add_and_remove_are_idempotent";
    let p = unique(check);
    let id = format!("{p}-id");
    let server = format!("{p}-server");

    same(
        check,
        "sessions of an unknown id",
        ok(check, "sessions", store.sessions(&id).await),
        vec![],
    );
    ok(
        check,
        "remove_session of one never added",
        store.remove_session(&id, &loc(&server, 9)).await,
    );

    ok(
        check,
        "add_session",
        store.add_session(&id, &loc(&server, 1)).await,
    );
    ok(
        check,
        "add_session again",
        store.add_session(&id, &loc(&server, 1)).await,
    );
    same(
        check,
        "sessions after adding one connection twice",
        ok(check, "sessions", store.sessions(&id).await),
        vec![loc(&server, 1)],
    );

    ok(
        check,
        "remove_session of another conn",
        store.remove_session(&id, &loc(&server, 2)).await,
    );
    same(
        check,
        "sessions after removing a conn that is not there",
        ok(check, "sessions", store.sessions(&id).await),
        vec![loc(&server, 1)],
    );

    ok(
        check,
        "remove_session",
        store.remove_session(&id, &loc(&server, 1)).await,
    );
    ok(
        check,
        "remove_session again",
        store.remove_session(&id, &loc(&server, 1)).await,
    );
    same(
        check,
        "sessions after removing the only connection",
        ok(check, "sessions", store.sessions(&id).await),
        vec![],
    );
}

/// One id may hold several connections across servers; `sessions` lists them by server then
/// connection, whatever order they were added in, and only that id's.
pub(crate) async fn sessions_of_an_id_span_servers_in_order(store: &Arc<dyn Store>) {
    let check = "sessions_of_an_id_span_servers_in_order";
    let p = unique(check);
    let (a, b, c) = (format!("{p}-a"), format!("{p}-b"), format!("{p}-c"));
    let id = format!("{p}-id");
    // An id that `id` is a prefix of, to catch prefix scans that run on.
    let longer = format!("{p}-id2");
    let shorter = format!("{p}-i");

    for l in [loc(&b, 2), loc(&a, 10), loc(&c, 0), loc(&a, 1), loc(&b, 3)] {
        ok(check, "add_session", store.add_session(&id, &l).await);
    }
    ok(
        check,
        "add_session (other id)",
        store.add_session(&longer, &loc(&a, 5)).await,
    );
    ok(
        check,
        "add_session (other id)",
        store.add_session(&shorter, &loc(&a, 6)).await,
    );

    same(
        check,
        "sessions, ordered by server then conn",
        ok(check, "sessions", store.sessions(&id).await),
        vec![loc(&a, 1), loc(&a, 10), loc(&b, 2), loc(&b, 3), loc(&c, 0)],
    );
    same(
        check,
        "sessions of an id that extends another",
        ok(check, "sessions", store.sessions(&longer).await),
        vec![loc(&a, 5)],
    );

    ok(
        check,
        "remove_session",
        store.remove_session(&id, &loc(&b, 2)).await,
    );
    same(
        check,
        "sessions after removing one of several",
        ok(check, "sessions", store.sessions(&id).await),
        vec![loc(&a, 1), loc(&a, 10), loc(&b, 3), loc(&c, 0)],
    );
    same(
        check,
        "sessions of another id are untouched",
        ok(check, "sessions", store.sessions(&shorter).await),
        vec![loc(&a, 6)],
    );
}

/// `clear_server` forgets every connection on that server, of every id, returns how many
/// there were, and leaves the other servers' connections alone.
pub(crate) async fn clear_server_clears_only_that_server(store: &Arc<dyn Store>) {
    let check = "clear_server_clears_only_that_server";
    let p = unique(check);
    let (s1, s2, s3) = (format!("{p}-s1"), format!("{p}-s2"), format!("{p}-s3"));
    // A server whose name extends s1's.
    let s1x = format!("{p}-s1x");
    let (x, y) = (format!("{p}-x"), format!("{p}-y"));

    ok(
        check,
        "add_session",
        store.add_session(&x, &loc(&s1, 1)).await,
    );
    ok(
        check,
        "add_session",
        store.add_session(&x, &loc(&s1, 2)).await,
    );
    ok(
        check,
        "add_session",
        store.add_session(&x, &loc(&s2, 1)).await,
    );
    ok(
        check,
        "add_session",
        store.add_session(&y, &loc(&s1, 3)).await,
    );
    ok(
        check,
        "add_session",
        store.add_session(&y, &loc(&s3, 4)).await,
    );
    ok(
        check,
        "add_session",
        store.add_session(&y, &loc(&s1x, 5)).await,
    );

    same(
        check,
        "clear_server's count",
        ok(check, "clear_server", store.clear_server(&s1).await),
        3,
    );
    same(
        check,
        "sessions of x after clearing s1",
        ok(check, "sessions", store.sessions(&x).await),
        vec![loc(&s2, 1)],
    );
    same(
        check,
        "sessions of y after clearing s1",
        ok(check, "sessions", store.sessions(&y).await),
        vec![loc(&s1x, 5), loc(&s3, 4)],
    );
    same(
        check,
        "clear_server's count the second time",
        ok(check, "clear_server", store.clear_server(&s1).await),
        0,
    );
    same(
        check,
        "clear_server's count for a server never seen",
        ok(
            check,
            "clear_server",
            store.clear_server(&format!("{p}-none")).await,
        ),
        0,
    );

    // A connection on a cleared server may come back.
    ok(
        check,
        "add_session after clear",
        store.add_session(&x, &loc(&s1, 7)).await,
    );
    same(
        check,
        "sessions of x after reconnecting to s1",
        ok(check, "sessions", store.sessions(&x).await),
        vec![loc(&s1, 7), loc(&s2, 1)],
    );
    let all = ok(check, "all_sessions", store.all_sessions().await);
    assert!(
        !all.iter().any(|(id, l)| id == &y && l.server == s1),
        "conformance check `{check}`: all_sessions still lists y on the cleared server"
    );
}

/// `all_sessions` lists every connection of every id, ordered by id.
pub(crate) async fn all_sessions_lists_every_connection_by_id(store: &Arc<dyn Store>) {
    let check = "all_sessions_lists_every_connection_by_id";
    let p = unique(check);
    let server = format!("{p}-server");
    let other = format!("{p}-other");
    let mut want = vec![
        (format!("{p}-b"), loc(&server, 1)),
        (format!("{p}-a"), loc(&server, 2)),
        (format!("{p}-c"), loc(&other, 3)),
        (format!("{p}-a"), loc(&other, 4)),
    ];
    for (id, l) in &want {
        ok(check, "add_session", store.add_session(id, l).await);
    }

    let all = ok(check, "all_sessions", store.all_sessions().await);
    sorted_by(check, "all_sessions", &all, |(id, _)| id.clone());
    let mut mine: Vec<_> = all
        .into_iter()
        .filter(|(id, _)| id.starts_with(&p))
        .collect();
    mine.sort();
    want.sort();
    same(check, "this check's entries in all_sessions", mine, want);
}

// ---------------------------------------------------------------------------------------------
// TopicStore.

/// `create_topic` stores the record with its creator as the only member and answers true;
/// creating it again answers false and changes nothing.
pub(crate) async fn create_topic_adds_creator_and_refuses_duplicates(store: &Arc<dyn Store>) {
    let check = "create_topic_adds_creator_and_refuses_duplicates";
    let p = unique(check);
    let name = format!("{p}-topic");
    let creator = format!("{p}-creator");
    let record = topic_record(&name, &creator, "127.0.0.1:19000");

    same(
        check,
        "topic before create",
        ok(check, "topic", store.topic(&name).await),
        None,
    );
    same(
        check,
        "create_topic",
        ok(check, "create_topic", store.create_topic(&record).await),
        true,
    );
    same(
        check,
        "topic after create",
        ok(check, "topic", store.topic(&name).await),
        Some(record.clone()),
    );
    same(
        check,
        "members after create",
        ok(check, "members", store.members(&name).await),
        vec![creator.clone()],
    );

    let rival = topic_record(&name, &format!("{p}-rival"), "127.0.0.1:19001");
    same(
        check,
        "create_topic of an existing topic",
        ok(check, "create_topic", store.create_topic(&rival).await),
        false,
    );
    same(
        check,
        "topic after a refused create",
        ok(check, "topic", store.topic(&name).await),
        Some(record),
    );
    same(
        check,
        "members after a refused create",
        ok(check, "members", store.members(&name).await),
        vec![creator],
    );
}

/// `add_member` answers true once and false for a member already there; `members` is
/// ordered by id and holds only that topic's.
pub(crate) async fn members_are_ordered_and_added_once(store: &Arc<dyn Store>) {
    let check = "members_are_ordered_and_added_once";
    let p = unique(check);
    let name = format!("{p}-t");
    // A topic whose name extends the first's, to catch prefix scans that run on.
    let longer = format!("{p}-t2");
    let (a, c, m, z) = (
        format!("{p}-a"),
        format!("{p}-c"),
        format!("{p}-m"),
        format!("{p}-z"),
    );

    ok(
        check,
        "create_topic",
        store.create_topic(&topic_record(&name, &m, "h")).await,
    );
    ok(
        check,
        "create_topic",
        store.create_topic(&topic_record(&longer, &z, "h")).await,
    );
    same(
        check,
        "add_member c",
        ok(check, "add_member", store.add_member(&name, &c).await),
        true,
    );
    same(
        check,
        "add_member a",
        ok(check, "add_member", store.add_member(&name, &a).await),
        true,
    );
    same(
        check,
        "add_member a again",
        ok(check, "add_member", store.add_member(&name, &a).await),
        false,
    );
    same(
        check,
        "add_member of the creator",
        ok(check, "add_member", store.add_member(&name, &m).await),
        false,
    );
    same(
        check,
        "members, ordered by id",
        ok(check, "members", store.members(&name).await),
        vec![a.clone(), c.clone(), m.clone()],
    );
    same(
        check,
        "members of the other topic",
        ok(check, "members", store.members(&longer).await),
        vec![z],
    );
}

/// `add_member`, `members`, `remove_member`, `set_invited` and `invited` of a topic that does
/// not exist fail with `NoSuchTopic(name)`; `topic` answers `None`; nothing is created by
/// asking.
pub(crate) async fn missing_topic_is_no_such_topic(store: &Arc<dyn Store>) {
    let check = "missing_topic_is_no_such_topic";
    let p = unique(check);
    let name = format!("{p}-missing");

    same(
        check,
        "topic",
        ok(check, "topic", store.topic(&name).await),
        None,
    );
    same(
        check,
        "add_member to a missing topic",
        store.add_member(&name, &format!("{p}-a")).await,
        Err(StoreError::NoSuchTopic(name.clone())),
    );
    same(
        check,
        "members of a missing topic",
        store.members(&name).await,
        Err(StoreError::NoSuchTopic(name.clone())),
    );
    same(
        check,
        "remove_member from a missing topic",
        store.remove_member(&name, &format!("{p}-a")).await,
        Err(StoreError::NoSuchTopic(name.clone())),
    );
    for invited in [true, false] {
        same(
            check,
            &format!("set_invited({invited}) on a missing topic"),
            store.set_invited(&name, &format!("{p}-a"), invited).await,
            Err(StoreError::NoSuchTopic(name.clone())),
        );
    }
    same(
        check,
        "invited of a missing topic",
        store.invited(&name).await,
        Err(StoreError::NoSuchTopic(name.clone())),
    );
    same(
        check,
        "topic after asking",
        ok(check, "topic", store.topic(&name).await),
        None,
    );
    let listed = ok(check, "topics", store.topics().await);
    assert!(
        !listed.iter().any(|t| t.name == name),
        "conformance check `{check}`: topics lists a topic that was never created"
    );
}

/// `topics` lists every topic, ordered by name.
pub(crate) async fn topics_lists_every_topic_by_name(store: &Arc<dyn Store>) {
    let check = "topics_lists_every_topic_by_name";
    let p = unique(check);
    let creator = format!("{p}-creator");
    let mut want: Vec<TopicRecord> = ["b", "c", "a"]
        .iter()
        .map(|n| topic_record(&format!("{p}-{n}"), &creator, "h"))
        .collect();
    for t in &want {
        ok(check, "create_topic", store.create_topic(t).await);
    }

    let all = ok(check, "topics", store.topics().await);
    sorted_by(check, "topics", &all, |t| t.name.clone());
    let mine: Vec<_> = all.into_iter().filter(|t| t.name.starts_with(&p)).collect();
    want.sort_by(|x, y| x.name.cmp(&y.name));
    same(check, "this check's topics in topics()", mine, want);
}

/// `invite_only` is stored and answered as given, by `topic` and by `topics`, and a refused
/// create does not change it.
pub(crate) async fn invite_only_is_kept(store: &Arc<dyn Store>) {
    let check = "invite_only_is_kept";
    let p = unique(check);
    let creator = format!("{p}-creator");
    let closed = invite_only_topic(&format!("{p}-closed"), &creator);
    let open = topic_record(&format!("{p}-open"), &creator, "127.0.0.1:19000");

    for t in [&closed, &open] {
        same(
            check,
            "create_topic",
            ok(check, "create_topic", store.create_topic(t).await),
            true,
        );
    }
    same(
        check,
        "an invite-only topic read back",
        ok(check, "topic", store.topic(&closed.name).await),
        Some(closed.clone()),
    );
    same(
        check,
        "an open topic read back",
        ok(check, "topic", store.topic(&open.name).await),
        Some(open.clone()),
    );
    let reopened = TopicRecord {
        invite_only: false,
        ..closed.clone()
    };
    same(
        check,
        "create_topic of the invite-only topic, open this time",
        ok(check, "create_topic", store.create_topic(&reopened).await),
        false,
    );
    same(
        check,
        "the invite-only topic after a refused create",
        ok(check, "topic", store.topic(&closed.name).await),
        Some(closed.clone()),
    );
    let mine: Vec<_> = ok(check, "topics", store.topics().await)
        .into_iter()
        .filter(|t| t.name.starts_with(&p))
        .collect();
    same(
        check,
        "this check's topics in topics()",
        mine,
        vec![closed, open],
    );
}

/// `remove_member` answers true once, false for an id that is no member (any more), leaves
/// the other members (and other topics) alone, and a removed member may be added again.
pub(crate) async fn remove_member_removes_once(store: &Arc<dyn Store>) {
    let check = "remove_member_removes_once";
    let p = unique(check);
    let name = format!("{p}-t");
    let longer = format!("{p}-t2");
    let (a, b, creator) = (format!("{p}-a"), format!("{p}-b"), format!("{p}-m"));
    ok(
        check,
        "create_topic",
        store
            .create_topic(&topic_record(&name, &creator, "h"))
            .await,
    );
    ok(
        check,
        "create_topic",
        store
            .create_topic(&topic_record(&longer, &creator, "h"))
            .await,
    );
    for id in [&a, &b] {
        ok(check, "add_member", store.add_member(&name, id).await);
    }
    ok(check, "add_member", store.add_member(&longer, &a).await);

    same(
        check,
        "remove_member of a member",
        ok(check, "remove_member", store.remove_member(&name, &a).await),
        true,
    );
    same(
        check,
        "remove_member of it again",
        ok(check, "remove_member", store.remove_member(&name, &a).await),
        false,
    );
    same(
        check,
        "remove_member of an id never a member",
        ok(
            check,
            "remove_member",
            store.remove_member(&name, &format!("{p}-never")).await,
        ),
        false,
    );
    same(
        check,
        "members after removing one",
        ok(check, "members", store.members(&name).await),
        vec![b.clone(), creator.clone()],
    );
    same(
        check,
        "members of the other topic",
        ok(check, "members", store.members(&longer).await),
        vec![a.clone(), creator.clone()],
    );
    same(
        check,
        "remove_member of the creator",
        ok(
            check,
            "remove_member",
            store.remove_member(&name, &creator).await,
        ),
        true,
    );
    same(
        check,
        "add_member of a removed member",
        ok(check, "add_member", store.add_member(&name, &a).await),
        true,
    );
    same(
        check,
        "members after removing the creator and adding one back",
        ok(check, "members", store.members(&name).await),
        vec![a, b],
    );
}

/// `set_invited` answers whether it changed anything: true to invite, false to invite again,
/// true to take an invitation back, false to take back one that is not there. `invited`
/// lists a topic's invitations ordered by id, apart from its members and from other topics.
pub(crate) async fn invitations_are_ordered_given_once_and_taken_back(store: &Arc<dyn Store>) {
    let check = "invitations_are_ordered_given_once_and_taken_back";
    let p = unique(check);
    let name = format!("{p}-t");
    let longer = format!("{p}-t2");
    let creator = format!("{p}-m");
    let (a, c, z) = (format!("{p}-a"), format!("{p}-c"), format!("{p}-z"));
    for t in [&name, &longer] {
        ok(
            check,
            "create_topic",
            store.create_topic(&invite_only_topic(t, &creator)).await,
        );
    }
    same(
        check,
        "invited of a new topic",
        ok(check, "invited", store.invited(&name).await),
        vec![],
    );

    for (id, want) in [(&z, true), (&a, true), (&c, true), (&z, false)] {
        same(
            check,
            "set_invited(true) answers whether it was new",
            ok(
                check,
                "set_invited",
                store.set_invited(&name, id, true).await,
            ),
            want,
        );
    }
    ok(
        check,
        "set_invited on the other topic",
        store.set_invited(&longer, &c, true).await,
    );
    same(
        check,
        "invited, ordered by id",
        ok(check, "invited", store.invited(&name).await),
        vec![a.clone(), c.clone(), z.clone()],
    );
    same(
        check,
        "members are not changed by invitations",
        ok(check, "members", store.members(&name).await),
        vec![creator.clone()],
    );

    same(
        check,
        "set_invited(false) of an invited id",
        ok(
            check,
            "set_invited",
            store.set_invited(&name, &c, false).await,
        ),
        true,
    );
    same(
        check,
        "set_invited(false) of it again",
        ok(
            check,
            "set_invited",
            store.set_invited(&name, &c, false).await,
        ),
        false,
    );
    same(
        check,
        "set_invited(false) of an id never invited",
        ok(
            check,
            "set_invited",
            store.set_invited(&name, &format!("{p}-never"), false).await,
        ),
        false,
    );
    same(
        check,
        "invited after taking one back",
        ok(check, "invited", store.invited(&name).await),
        vec![a, z],
    );
    same(
        check,
        "invited of the other topic",
        ok(check, "invited", store.invited(&longer).await),
        vec![c],
    );
}

// ---------------------------------------------------------------------------------------------
// InboxStore.

/// `pending` answers an inbox in push order (not uuid order), for many messages, and
/// `pending_count` agrees; acking them in order empties it.
pub(crate) async fn inbox_keeps_push_order(store: &Arc<dyn Store>) {
    let check = "inbox_keeps_push_order";
    let p = unique(check);
    let to = format!("{p}-to");
    let from = format!("{p}-from");

    same(
        check,
        "pending of an empty inbox",
        ok(check, "pending", store.pending(&to).await),
        vec![],
    );
    same(
        check,
        "pending_count of an empty inbox",
        ok(check, "pending_count", store.pending_count(&to).await),
        0,
    );

    let sent: Vec<_> = (0..150).map(|n| message(&from, &to, n)).collect();
    for m in &sent {
        ok(check, "push", store.push(m).await);
    }
    same(
        check,
        "pending, in push order",
        ok(check, "pending", store.pending(&to).await),
        sent.clone(),
    );
    same(
        check,
        "pending_count",
        ok(check, "pending_count", store.pending_count(&to).await),
        sent.len() as u64,
    );

    for (n, m) in sent.iter().enumerate() {
        same(
            check,
            "ack in order",
            ok(check, "ack", store.ack(&to, &m.uuid).await),
            Some(m.clone()),
        );
        if n == 74 {
            same(
                check,
                "pending after acking the first half",
                ok(check, "pending", store.pending(&to).await),
                sent[75..].to_vec(),
            );
        }
    }
    same(
        check,
        "pending after acking all",
        ok(check, "pending", store.pending(&to).await),
        vec![],
    );
    same(
        check,
        "pending_count after acking all",
        ok(check, "pending_count", store.pending_count(&to).await),
        0,
    );
}

/// Pushing a uuid already pending in that inbox adds nothing, even with another body, and
/// keeps the first one's place.
pub(crate) async fn duplicate_uuid_is_ignored(store: &Arc<dyn Store>) {
    let check = "duplicate_uuid_is_ignored";
    let p = unique(check);
    let to = format!("{p}-to");
    let from = format!("{p}-from");
    let first = message(&from, &to, 0);
    let second = message(&from, &to, 1);
    let mut rewritten = first.clone();
    rewritten.msg = "a different body".into();
    rewritten.sent_at_ms += 1;

    ok(check, "push", store.push(&first).await);
    ok(check, "push", store.push(&second).await);
    ok(check, "push of the same message", store.push(&first).await);
    ok(
        check,
        "push of the same uuid, another body",
        store.push(&rewritten).await,
    );
    same(
        check,
        "pending after duplicate pushes",
        ok(check, "pending", store.pending(&to).await),
        vec![first.clone(), second.clone()],
    );
    same(
        check,
        "pending_count",
        ok(check, "pending_count", store.pending_count(&to).await),
        2,
    );

    // Once acked it is no longer pending, so pushing it again is a new message, at the end.
    ok(check, "ack", store.ack(&to, &first.uuid).await);
    ok(check, "push after ack", store.push(&first).await);
    same(
        check,
        "pending after re-pushing an acked uuid",
        ok(check, "pending", store.pending(&to).await),
        vec![second, first],
    );
}

/// `ack` answers the message it removed and leaves the others in order; acking it again
/// answers `None`.
pub(crate) async fn ack_returns_and_removes_only_that_message(store: &Arc<dyn Store>) {
    let check = "ack_returns_and_removes_only_that_message";
    let p = unique(check);
    let to = format!("{p}-to");
    let from = format!("{p}-from");
    let [a, b, c] = [0, 1, 2].map(|n| message(&from, &to, n));
    for m in [&a, &b, &c] {
        ok(check, "push", store.push(m).await);
    }

    same(
        check,
        "ack of the middle one",
        ok(check, "ack", store.ack(&to, &b.uuid).await),
        Some(b.clone()),
    );
    same(
        check,
        "pending after acking the middle one",
        ok(check, "pending", store.pending(&to).await),
        vec![a.clone(), c.clone()],
    );
    same(
        check,
        "pending_count",
        ok(check, "pending_count", store.pending_count(&to).await),
        2,
    );
    same(
        check,
        "ack of it again",
        ok(check, "ack", store.ack(&to, &b.uuid).await),
        None,
    );
    same(
        check,
        "pending_count after a second ack",
        ok(check, "pending_count", store.pending_count(&to).await),
        2,
    );

    let d = message(&from, &to, 3);
    ok(check, "push", store.push(&d).await);
    same(
        check,
        "ack of the first one",
        ok(check, "ack", store.ack(&to, &a.uuid).await),
        Some(a),
    );
    same(
        check,
        "pending after more pushes and acks",
        ok(check, "pending", store.pending(&to).await),
        vec![c, d],
    );
}

/// `ack` of a uuid not pending in that inbox answers `None` and changes nothing, also where
/// the uuid is pending in another inbox.
pub(crate) async fn ack_of_unknown_uuid_is_none(store: &Arc<dyn Store>) {
    let check = "ack_of_unknown_uuid_is_none";
    let p = unique(check);
    let (to, other) = (format!("{p}-to"), format!("{p}-other"));
    let from = format!("{p}-from");

    same(
        check,
        "ack on an empty inbox",
        ok(
            check,
            "ack",
            store.ack(&to, &Uuid::new_v4().to_string()).await,
        ),
        None,
    );
    let mine = message(&from, &to, 0);
    let theirs = message(&from, &other, 1);
    ok(check, "push", store.push(&mine).await);
    ok(check, "push", store.push(&theirs).await);

    same(
        check,
        "ack of an unknown uuid",
        ok(
            check,
            "ack",
            store.ack(&to, &Uuid::new_v4().to_string()).await,
        ),
        None,
    );
    same(
        check,
        "ack of a uuid pending for another id",
        ok(check, "ack", store.ack(&to, &theirs.uuid).await),
        None,
    );
    same(
        check,
        "pending",
        ok(check, "pending", store.pending(&to).await),
        vec![mine],
    );
    same(
        check,
        "the other id's inbox",
        ok(check, "pending", store.pending(&other).await),
        vec![theirs],
    );
}

/// Each id has its own inbox: the same uuid may wait in two, acking one leaves the other, and
/// ids that extend one another do not leak into each other.
pub(crate) async fn inboxes_of_different_ids_are_independent(store: &Arc<dyn Store>) {
    let check = "inboxes_of_different_ids_are_independent";
    let p = unique(check);
    let (one, two, one_longer) = (format!("{p}-u"), format!("{p}-v"), format!("{p}-u2"));
    let from = format!("{p}-from");

    let shared_uuid = Uuid::new_v4().to_string();
    let mut to_one = message(&from, &one, 0);
    to_one.uuid = shared_uuid.clone();
    let mut to_two = message(&from, &two, 0);
    to_two.uuid = shared_uuid.clone();
    let to_longer = message(&from, &one_longer, 1);
    let to_one_more = message(&from, &one, 2);

    for m in [&to_one, &to_longer, &to_two, &to_one_more] {
        ok(check, "push", store.push(m).await);
    }
    same(
        check,
        "pending of the first id",
        ok(check, "pending", store.pending(&one).await),
        vec![to_one.clone(), to_one_more.clone()],
    );
    same(
        check,
        "pending of the second id, same uuid",
        ok(check, "pending", store.pending(&two).await),
        vec![to_two.clone()],
    );
    same(
        check,
        "pending of an id that extends the first",
        ok(check, "pending", store.pending(&one_longer).await),
        vec![to_longer],
    );
    same(
        check,
        "pending_count of the first id",
        ok(check, "pending_count", store.pending_count(&one).await),
        2,
    );

    same(
        check,
        "ack in the first inbox",
        ok(check, "ack", store.ack(&one, &shared_uuid).await),
        Some(to_one),
    );
    same(
        check,
        "the second inbox after acking the same uuid in the first",
        ok(check, "pending", store.pending(&two).await),
        vec![to_two],
    );
    same(
        check,
        "pending of the first id after its ack",
        ok(check, "pending", store.pending(&one).await),
        vec![to_one_more],
    );
}

/// Pushes racing from several tasks, each message pushed by two of them, all land exactly
/// once, and each task's messages keep their order.
pub(crate) async fn concurrent_pushes_land_exactly_once(store: &Arc<dyn Store>) {
    let check = "concurrent_pushes_land_exactly_once";
    const TASKS: usize = 8;
    const PER_TASK: usize = 50;
    let p = unique(check);
    let to = format!("{p}-to");

    // Set k is pushed by task k, then again by task k-1 after its own set.
    let sets: Vec<Vec<StoredMessage>> = (0..TASKS)
        .map(|k| {
            let from = format!("{p}-from{k}");
            (0..PER_TASK).map(|n| message(&from, &to, n)).collect()
        })
        .collect();
    let mut tasks = Vec::new();
    for k in 0..TASKS {
        let store = store.clone();
        let mine = sets[k].clone();
        let next = sets[(k + 1) % TASKS].clone();
        tasks.push(tokio::spawn(async move {
            for m in mine.iter().chain(&next) {
                store.push(m).await?;
            }
            StoreResult::Ok(())
        }));
    }
    for task in tasks {
        match task.await {
            Ok(result) => ok(check, "push from a task", result),
            Err(e) => panic!("conformance check `{check}`: a pushing task failed: {e}"),
        }
    }

    let pending = ok(check, "pending", store.pending(&to).await);
    same(
        check,
        "pending_count",
        ok(check, "pending_count", store.pending_count(&to).await),
        (TASKS * PER_TASK) as u64,
    );
    same(
        check,
        "number of pending messages",
        pending.len(),
        TASKS * PER_TASK,
    );
    let uuids: HashSet<_> = pending.iter().map(|m| m.uuid.as_str()).collect();
    same(
        check,
        "distinct uuids pending",
        uuids.len(),
        TASKS * PER_TASK,
    );
    for set in &sets {
        let order: Vec<_> = pending.iter().filter(|m| m.from == set[0].from).collect();
        same(
            check,
            "one sender's messages, in its push order",
            order,
            set.iter().collect::<Vec<_>>(),
        );
    }
}

/// `apply_batch` applies its ops as if one after another, each seeing the ones before it, and
/// answers each in its place: pushes keep their order, an ack finds a message pushed earlier
/// in the batch but not one pushed later, a duplicate push adds nothing, and an ack that finds
/// nothing does not stop the rest.
pub(crate) async fn a_batch_applies_in_order(store: &Arc<dyn Store>) {
    let check = "a_batch_applies_in_order";
    let p = unique(check);
    let to = format!("{p}-to");
    let other = format!("{p}-other");
    let from = format!("{p}-from");

    same(
        check,
        "answers to an empty batch",
        store.apply_batch(&[]).await,
        vec![],
    );

    let sent: Vec<_> = (0..40).map(|n| message(&from, &to, n)).collect();
    let (a, b) = (&sent[0], &sent[1]);
    let theirs = message(&from, &other, 99);
    let push = |m: &StoredMessage| InboxOp::Push(m.clone());
    let ack = |id: &str, m: &StoredMessage| InboxOp::Ack {
        id: id.to_owned(),
        uuid: m.uuid.clone(),
    };
    let mut ops = vec![
        ack(&to, a), // before its push: nothing to ack
        push(a),
        push(b),
        ack(&to, a), // after its push: found
        push(&theirs),
        push(b),        // pending already: ignored
        ack(&other, a), // another inbox: nothing
        push(a),        // acked: pushed again, now after b
    ];
    ops.extend(sent[2..].iter().map(push));
    let mut want = vec![None, None, None, Some(a.clone())];
    want.resize(ops.len(), None);

    let results = store.apply_batch(&ops).await;
    same(check, "one answer per op", results.len(), ops.len());
    let answers: Vec<_> = results
        .into_iter()
        .map(|r| ok(check, "an op of apply_batch", r))
        .collect();
    same(check, "answers, in the batch's order", answers, want);

    let mut pending = vec![b.clone(), a.clone()];
    pending.extend_from_slice(&sent[2..]);
    same(
        check,
        "pending after the batch, in its order",
        ok(check, "pending", store.pending(&to).await),
        pending.clone(),
    );
    same(
        check,
        "pending of the other inbox",
        ok(check, "pending", store.pending(&other).await),
        vec![theirs],
    );

    // A batch of acks, in another order than the pushes: each finds its message once.
    let mut acks: Vec<_> = pending.iter().rev().map(|m| ack(&to, m)).collect();
    acks.push(ack(&to, b));
    let mut want: Vec<_> = pending.iter().rev().cloned().map(Some).collect();
    want.push(None);
    let answers: Vec<_> = store
        .apply_batch(&acks)
        .await
        .into_iter()
        .map(|r| ok(check, "an ack of apply_batch", r))
        .collect();
    same(check, "answers to a batch of acks", answers, want);
    same(
        check,
        "pending after acking everything",
        ok(check, "pending_count", store.pending_count(&to).await),
        0,
    );
}

/// `pending_total`, where a backend answers it, counts every inbox: at least the messages
/// this check has pending (other runs on a shared store only add to it, or take away their
/// own), so only a lower bound can be checked here; the backend's own tests check the exact
/// count on a store of their own. `None` is allowed: the monitor then shows it as unknown.
pub(crate) async fn pending_total_counts_at_least_this_checks_messages(store: &Arc<dyn Store>) {
    let check = "pending_total_counts_at_least_this_checks_messages";
    let p = unique(check);
    let from = format!("{p}-from");
    let sent: Vec<_> = (0..7)
        .map(|n| message(&from, &format!("{p}-to{}", n % 3), n))
        .collect();
    for m in &sent {
        ok(check, "push", store.push(m).await);
    }
    let Some(total) = ok(check, "pending_total", store.pending_total().await) else {
        for m in &sent {
            ok(check, "ack", store.ack(&m.to, &m.uuid).await);
        }
        return;
    };
    assert!(
        total >= sent.len() as u64,
        "conformance check `{check}`: pending_total is {total} with {} messages of this check pending",
        sent.len()
    );
    for m in &sent {
        ok(check, "ack", store.ack(&m.to, &m.uuid).await);
    }
    let after = ok(check, "pending_total", store.pending_total().await);
    assert!(
        after.is_some(),
        "conformance check `{check}`: pending_total answered a count once, then None"
    );
}

/// `claim_message_id` gives a new uuid to its first sender for good: that sender may claim
/// it again, another may not, even once the message has been pushed and acked.
pub(crate) async fn a_message_id_is_its_first_senders_for_good(store: &Arc<dyn Store>) {
    let check = "a_message_id_is_its_first_senders_for_good";
    let p = unique(check);
    let (first, other) = (format!("{p}-first"), format!("{p}-other"));
    let uuid = Uuid::new_v4().to_string();

    let claims = [
        (&first, true, "a new uuid"),
        (&first, true, "the same sender again"),
        (&other, false, "another sender"),
        (&first, true, "the first sender after another's attempt"),
    ];
    for (from, want, what) in claims {
        same(
            check,
            &format!("claim_message_id by {what}"),
            ok(
                check,
                "claim_message_id",
                store.claim_message_id(&uuid, from).await,
            ),
            want,
        );
    }

    // A push by the owner of a claimed uuid is accepted; acking it frees nothing.
    let mut m = claiming(&first, &format!("{p}-to"), 0);
    m.uuid = uuid.clone();
    ok(
        check,
        "push of a uuid claimed by its sender",
        store.push(&m).await,
    );
    same(
        check,
        "ack",
        ok(check, "ack", store.ack(&m.to, &uuid).await),
        Some(read_back(&m)),
    );
    same(
        check,
        "claim_message_id by another sender once the message is acked",
        ok(
            check,
            "claim_message_id",
            store.claim_message_id(&uuid, &other).await,
        ),
        false,
    );

    // A push of a uuid its sender chose claims it as well.
    let pushed = claiming(&other, &format!("{p}-to"), 1);
    ok(check, "push", store.push(&pushed).await);
    same(
        check,
        "claim_message_id of a pushed uuid by another sender",
        ok(
            check,
            "claim_message_id",
            store.claim_message_id(&pushed.uuid, &first).await,
        ),
        false,
    );
    same(
        check,
        "claim_message_id of a pushed uuid by its sender",
        ok(
            check,
            "claim_message_id",
            store.claim_message_id(&pushed.uuid, &other).await,
        ),
        true,
    );
}

/// A push of a uuid that another sender has is refused with `IdTaken(uuid)` and pushes
/// nothing, to that inbox or any other; the first sender's message stays pending as it was.
pub(crate) async fn a_push_of_another_senders_id_is_refused_and_changes_nothing(
    store: &Arc<dyn Store>,
) {
    let check = "a_push_of_another_senders_id_is_refused_and_changes_nothing";
    let p = unique(check);
    let (to, elsewhere) = (format!("{p}-to"), format!("{p}-elsewhere"));
    let (first, other) = (format!("{p}-first"), format!("{p}-other"));
    let original = claiming(&first, &to, 0);
    ok(check, "push", store.push(&original).await);

    let forged_here = StoredMessage {
        from: other.clone(),
        msg: "a forged body".into(),
        ..original.clone()
    };
    let forged_elsewhere = StoredMessage {
        to: elsewhere.clone(),
        ..forged_here.clone()
    };
    for (m, what) in [
        (&forged_here, "to the same inbox"),
        (&forged_elsewhere, "to another inbox"),
    ] {
        same(
            check,
            &format!("push of another sender's uuid {what}"),
            store.push(m).await,
            Err(StoreError::IdTaken(original.uuid.clone())),
        );
    }
    same(
        check,
        "the first sender's message, still pending and untouched",
        ok(check, "pending", store.pending(&to).await),
        vec![read_back(&original)],
    );
    same(
        check,
        "pending_count of the first inbox",
        ok(check, "pending_count", store.pending_count(&to).await),
        1,
    );
    same(
        check,
        "the other inbox",
        ok(check, "pending", store.pending(&elsewhere).await),
        vec![],
    );
    same(
        check,
        "pending_count of the other inbox",
        ok(
            check,
            "pending_count",
            store.pending_count(&elsewhere).await,
        ),
        0,
    );

    // A uuid claimed without a push is refused to a push of another sender's all the same.
    let claimed = Uuid::new_v4().to_string();
    ok(
        check,
        "claim_message_id",
        store.claim_message_id(&claimed, &first).await,
    );
    let late = StoredMessage {
        uuid: claimed.clone(),
        ..claiming(&other, &elsewhere, 1)
    };
    same(
        check,
        "push of a uuid another sender claimed",
        store.push(&late).await,
        Err(StoreError::IdTaken(claimed)),
    );
    same(
        check,
        "the other inbox after a refused push",
        ok(check, "pending", store.pending(&elsewhere).await),
        vec![],
    );

    // The first sender may push its uuid again (a retry): it is pending already, so nothing
    // changes.
    ok(
        check,
        "push retried by its sender",
        store.push(&original).await,
    );
    same(
        check,
        "pending after the sender's retry",
        ok(check, "pending", store.pending(&to).await),
        vec![read_back(&original)],
    );
    same(
        check,
        "ack of the first sender's message",
        ok(check, "ack", store.ack(&to, &original.uuid).await),
        Some(read_back(&original)),
    );
}

/// In `apply_batch`, a push of another sender's uuid is refused with `IdTaken` in its place
/// and pushes nothing; the ops around it, before and after, land as they would without it.
pub(crate) async fn a_batch_refuses_another_senders_id_alone(store: &Arc<dyn Store>) {
    let check = "a_batch_refuses_another_senders_id_alone";
    let p = unique(check);
    let (to, elsewhere) = (format!("{p}-to"), format!("{p}-elsewhere"));
    let (first, other) = (format!("{p}-first"), format!("{p}-other"));
    let earlier = claiming(&first, &to, 0);
    ok(check, "push before the batch", store.push(&earlier).await);

    let a = claiming(&first, &to, 1);
    let b = claiming(&other, &elsewhere, 2);
    let c = claiming(&other, &to, 3);
    let forged = |m: &StoredMessage, to: &str| StoredMessage {
        from: other.clone(),
        to: to.to_owned(),
        msg: "a forged body".into(),
        ..m.clone()
    };
    let ops = vec![
        InboxOp::Push(a.clone()),
        InboxOp::Push(forged(&earlier, &elsewhere)), // claimed before the batch
        InboxOp::Push(b.clone()),
        InboxOp::Push(forged(&a, &to)), // claimed earlier in the batch
        InboxOp::Ack {
            id: to.clone(),
            uuid: earlier.uuid.clone(),
        },
        InboxOp::Push(c.clone()),
    ];
    let answers = store.apply_batch(&ops).await;
    same(
        check,
        "answers, in the batch's order",
        answers,
        vec![
            Ok(None),
            Err(StoreError::IdTaken(earlier.uuid.clone())),
            Ok(None),
            Err(StoreError::IdTaken(a.uuid.clone())),
            Ok(Some(read_back(&earlier))),
            Ok(None),
        ],
    );
    same(
        check,
        "pending after the batch",
        ok(check, "pending", store.pending(&to).await),
        vec![read_back(&a), read_back(&c)],
    );
    same(
        check,
        "pending of the other inbox after the batch",
        ok(check, "pending", store.pending(&elsewhere).await),
        vec![read_back(&b)],
    );
    same(
        check,
        "pending_count after the batch",
        ok(check, "pending_count", store.pending_count(&to).await),
        2,
    );
    for m in [&a, &b, &c] {
        ok(check, "ack", store.ack(&m.to, &m.uuid).await);
    }
}

/// A push whose uuid the server made (`claims_uuid: false`), alone or in a batch, claims
/// nothing (another sender may claim the uuid after it) and checks no claim (it is pushed
/// where another sender has the uuid).
pub(crate) async fn a_server_made_uuid_is_neither_claimed_nor_checked(store: &Arc<dyn Store>) {
    let check = "a_server_made_uuid_is_neither_claimed_nor_checked";
    let p = unique(check);
    let (to, elsewhere) = (format!("{p}-to"), format!("{p}-elsewhere"));
    let (first, other) = (format!("{p}-first"), format!("{p}-other"));

    // Pushed, alone and in a batch: no claim is left behind.
    let alone = message(&first, &to, 0);
    ok(check, "push", store.push(&alone).await);
    let batched = message(&first, &to, 1);
    same(
        check,
        "apply_batch of a push",
        store.apply_batch(&[InboxOp::Push(batched.clone())]).await,
        vec![Ok(None)],
    );
    for (m, what) in [(&alone, "pushed"), (&batched, "pushed in a batch")] {
        same(
            check,
            &format!("claim_message_id by another sender of a uuid {what} unclaimed"),
            ok(
                check,
                "claim_message_id",
                store.claim_message_id(&m.uuid, &other).await,
            ),
            true,
        );
    }

    // Another sender's uuid (claimed, or claimed by a push), pushed unclaimed: pushed.
    let claimed = Uuid::new_v4().to_string();
    ok(
        check,
        "claim_message_id",
        store.claim_message_id(&claimed, &other).await,
    );
    let theirs = claiming(&other, &to, 2);
    ok(check, "push that claims", store.push(&theirs).await);
    let over_claim = StoredMessage {
        uuid: claimed.clone(),
        ..message(&first, &elsewhere, 3)
    };
    ok(
        check,
        "push of a uuid another sender claimed, unclaimed",
        store.push(&over_claim).await,
    );
    let over_push = StoredMessage {
        uuid: theirs.uuid.clone(),
        ..message(&first, &elsewhere, 4)
    };
    same(
        check,
        "apply_batch of a push of a uuid another sender's push claimed, unclaimed",
        store.apply_batch(&[InboxOp::Push(over_push.clone())]).await,
        vec![Ok(None)],
    );
    same(
        check,
        "pending of the inbox pushed to",
        ok(check, "pending", store.pending(&elsewhere).await),
        vec![over_claim.clone(), over_push.clone()],
    );
    // The claims stand as they were.
    for (uuid, what) in [(&claimed, "claimed"), (&theirs.uuid, "claimed by a push")] {
        same(
            check,
            &format!("claim_message_id of a uuid {what}, by the pusher of it unclaimed"),
            ok(
                check,
                "claim_message_id",
                store.claim_message_id(uuid, &first).await,
            ),
            false,
        );
    }

    for m in [&alone, &batched, &theirs, &over_claim, &over_push] {
        ok(check, "ack", store.ack(&m.to, &m.uuid).await);
    }
}

// ---------------------------------------------------------------------------------------------
// ClientStore.

/// `put_client` inserts or replaces; `client` answers the latest; `clients` lists each once,
/// ordered by id.
pub(crate) async fn clients_put_replace_get_and_list(store: &Arc<dyn Store>) {
    let check = "clients_put_replace_get_and_list";
    let p = unique(check);
    let (a, b) = (format!("{p}-a"), format!("{p}-b"));

    same(
        check,
        "client never put",
        ok(check, "client", store.client(&a).await),
        None,
    );
    let b1 = client_record(&b, "s1", true, 10);
    let a1 = client_record(&a, "s1", true, 11);
    let a2 = client_record(&a, "s2", false, 12);
    ok(check, "put_client", store.put_client(&b1).await);
    ok(check, "put_client", store.put_client(&a1).await);
    same(
        check,
        "client after put",
        ok(check, "client", store.client(&a).await),
        Some(a1),
    );
    ok(check, "put_client replacing", store.put_client(&a2).await);
    same(
        check,
        "client after replace",
        ok(check, "client", store.client(&a).await),
        Some(a2.clone()),
    );

    let all = ok(check, "clients", store.clients().await);
    sorted_by(check, "clients", &all, |c| c.id.clone());
    let mine: Vec<_> = all.into_iter().filter(|c| c.id.starts_with(&p)).collect();
    same(
        check,
        "this check's clients in clients()",
        mine,
        vec![a2, b1],
    );
}

// ---------------------------------------------------------------------------------------------
// AccountStore.

/// `create_account` answers true once and false, changing nothing, for an id that has one;
/// `account` answers it; `accounts` lists each once, ordered by id.
pub(crate) async fn accounts_are_created_once_read_and_listed_by_id(store: &Arc<dyn Store>) {
    let check = "accounts_are_created_once_read_and_listed_by_id";
    let p = unique(check);
    // Created out of order, and one id extends another.
    let (b, a, a2) = (
        account_record(&format!("{p}-b"), "c2FsdGI", 3),
        account_record(&format!("{p}-a"), "c2FsdGE", 2),
        account_record(&format!("{p}-a2"), "c2FsdGEy", 1),
    );
    same(
        check,
        "account never created",
        ok(check, "account", store.account(&a.id).await),
        None,
    );
    for acc in [&b, &a2, &a] {
        same(
            check,
            "create_account of a new id",
            ok(check, "create_account", store.create_account(acc).await),
            true,
        );
    }
    same(
        check,
        "account after create",
        ok(check, "account", store.account(&a.id).await),
        Some(a.clone()),
    );
    let rival = account_record(&a.id, "cml2YWw", 99);
    same(
        check,
        "create_account of an id that has one",
        ok(check, "create_account", store.create_account(&rival).await),
        false,
    );
    same(
        check,
        "account after a refused create",
        ok(check, "account", store.account(&a.id).await),
        Some(a.clone()),
    );

    let all = ok(check, "accounts", store.accounts().await);
    sorted_by(check, "accounts", &all, |acc| acc.id.clone());
    let mine: Vec<_> = all
        .into_iter()
        .filter(|acc| acc.id.starts_with(&p))
        .collect();
    same(
        check,
        "this check's accounts in accounts()",
        mine,
        vec![a, a2, b],
    );
}

/// `set_password` replaces the hash, and nothing else (the creation time, the devices);
/// false, creating nothing, where there is no such account.
pub(crate) async fn set_password_replaces_only_the_hash(store: &Arc<dyn Store>) {
    let check = "set_password_replaces_only_the_hash";
    let p = unique(check);
    let id = format!("{p}-id");
    let new_hash = account_record(&id, "bmV3", 0).password_hash;
    same(
        check,
        "set_password without an account",
        ok(
            check,
            "set_password",
            store.set_password(&id, &new_hash).await,
        ),
        false,
    );
    same(
        check,
        "account after set_password without one",
        ok(check, "account", store.account(&id).await),
        None,
    );

    let acc = account_record(&id, "b2xk", 5);
    ok(check, "create_account", store.create_account(&acc).await);
    let phone = device(&format!("{p}-phone"), 6, 7);
    ok(check, "put_device", store.put_device(&id, &phone).await);
    same(
        check,
        "set_password",
        ok(
            check,
            "set_password",
            store.set_password(&id, &new_hash).await,
        ),
        true,
    );
    same(
        check,
        "account after set_password",
        ok(check, "account", store.account(&id).await),
        Some(Account {
            password_hash: new_hash.clone(),
            ..acc
        }),
    );
    same(
        check,
        "set_password to the same hash again",
        ok(
            check,
            "set_password",
            store.set_password(&id, &new_hash).await,
        ),
        true,
    );
    same(
        check,
        "devices after set_password",
        ok(check, "devices", store.devices(&id).await),
        vec![phone],
    );
}

/// `delete_account` removes the account and its devices, and only those; false where there
/// was none. An account made again with the same id starts without devices.
pub(crate) async fn delete_account_takes_its_devices_with_it(store: &Arc<dyn Store>) {
    let check = "delete_account_takes_its_devices_with_it";
    let p = unique(check);
    let (id, longer) = (format!("{p}-id"), format!("{p}-id2"));
    let acc = account_record(&id, "c2FsdA", 1);
    let kept = account_record(&longer, "c2FsdDI", 2);
    same(
        check,
        "delete_account of an id without one",
        ok(check, "delete_account", store.delete_account(&id).await),
        false,
    );
    for a in [&acc, &kept] {
        ok(check, "create_account", store.create_account(a).await);
    }
    let (d1, d2) = (device("d1", 10, 11), device("d2", 12, 13));
    for d in [&d1, &d2] {
        ok(check, "put_device", store.put_device(&id, d).await);
    }
    ok(check, "put_device", store.put_device(&longer, &d1).await);

    same(
        check,
        "delete_account",
        ok(check, "delete_account", store.delete_account(&id).await),
        true,
    );
    same(
        check,
        "account after delete",
        ok(check, "account", store.account(&id).await),
        None,
    );
    same(
        check,
        "devices after delete",
        ok(check, "devices", store.devices(&id).await),
        vec![],
    );
    same(
        check,
        "delete_account again",
        ok(check, "delete_account", store.delete_account(&id).await),
        false,
    );
    let listed = ok(check, "accounts", store.accounts().await);
    assert!(
        !listed.iter().any(|a| a.id == id),
        "conformance check `{check}`: accounts still lists a deleted account"
    );
    same(
        check,
        "an account whose id extends the deleted one's",
        ok(check, "account", store.account(&longer).await),
        Some(kept),
    );
    same(
        check,
        "devices of an account whose id extends the deleted one's",
        ok(check, "devices", store.devices(&longer).await),
        vec![d1],
    );

    ok(
        check,
        "create_account again",
        store.create_account(&acc).await,
    );
    same(
        check,
        "devices of an account made again with a deleted one's id",
        ok(check, "devices", store.devices(&id).await),
        vec![],
    );
}

/// `put_device` adds a device, or replaces the one with its `device_id`; false, adding
/// nothing, where there is no such account.
pub(crate) async fn put_device_adds_replaces_and_needs_an_account(store: &Arc<dyn Store>) {
    let check = "put_device_adds_replaces_and_needs_an_account";
    let p = unique(check);
    let id = format!("{p}-id");
    let phone = device("phone", 100, 100);
    same(
        check,
        "put_device without an account",
        ok(check, "put_device", store.put_device(&id, &phone).await),
        false,
    );
    same(
        check,
        "devices of an id without an account",
        ok(check, "devices", store.devices(&id).await),
        vec![],
    );

    ok(
        check,
        "create_account",
        store
            .create_account(&account_record(&id, "c2FsdA", 1))
            .await,
    );
    same(
        check,
        "devices of a new account",
        ok(check, "devices", store.devices(&id).await),
        vec![],
    );
    same(
        check,
        "put_device",
        ok(check, "put_device", store.put_device(&id, &phone).await),
        true,
    );
    same(
        check,
        "devices after put_device",
        ok(check, "devices", store.devices(&id).await),
        vec![phone.clone()],
    );
    let used = Device {
        name: "renamed".into(),
        last_used_ms: 250,
        ..phone.clone()
    };
    same(
        check,
        "put_device replacing",
        ok(check, "put_device", store.put_device(&id, &used).await),
        true,
    );
    let laptop = device("laptop", 200, 200);
    ok(check, "put_device", store.put_device(&id, &laptop).await);
    same(
        check,
        "devices after replacing one and adding another",
        ok(check, "devices", store.devices(&id).await),
        vec![used, laptop],
    );
}

/// `devices` answers an account's devices ordered by `created_at_ms`, then by `device_id`
/// where two were made at once: neither insertion order nor id order alone.
pub(crate) async fn devices_are_ordered_by_creation_then_id(store: &Arc<dyn Store>) {
    let check = "devices_are_ordered_by_creation_then_id";
    let p = unique(check);
    let id = format!("{p}-id");
    ok(
        check,
        "create_account",
        store
            .create_account(&account_record(&id, "c2FsdA", 1))
            .await,
    );
    let (c5, a9, b5, z1) = (
        device("c", 5, 50),
        device("a", 9, 9),
        device("b", 5, 60),
        device("z", 1, 70),
    );
    for d in [&c5, &a9, &b5, &z1] {
        ok(check, "put_device", store.put_device(&id, d).await);
    }
    same(
        check,
        "devices, by creation then id",
        ok(check, "devices", store.devices(&id).await),
        vec![z1, b5, c5, a9],
    );
}

/// `remove_device` forgets one device: true once, false for one not there (also where there
/// is no such account); the account's other devices stay.
pub(crate) async fn remove_device_forgets_only_that_device(store: &Arc<dyn Store>) {
    let check = "remove_device_forgets_only_that_device";
    let p = unique(check);
    let (id, other) = (format!("{p}-id"), format!("{p}-other"));
    for a in [&id, &other] {
        ok(
            check,
            "create_account",
            store.create_account(&account_record(a, "c2FsdA", 1)).await,
        );
    }
    let (d1, d2, d3) = (device("d1", 1, 1), device("d2", 2, 2), device("d3", 3, 3));
    for d in [&d1, &d2, &d3] {
        ok(check, "put_device", store.put_device(&id, d).await);
    }
    ok(check, "put_device", store.put_device(&other, &d2).await);

    same(
        check,
        "remove_device",
        ok(check, "remove_device", store.remove_device(&id, "d2").await),
        true,
    );
    same(
        check,
        "remove_device again",
        ok(check, "remove_device", store.remove_device(&id, "d2").await),
        false,
    );
    same(
        check,
        "remove_device of a device never put",
        ok(check, "remove_device", store.remove_device(&id, "d9").await),
        false,
    );
    same(
        check,
        "remove_device without an account",
        ok(
            check,
            "remove_device",
            store.remove_device(&format!("{p}-none"), "d1").await,
        ),
        false,
    );
    same(
        check,
        "devices after removing one",
        ok(check, "devices", store.devices(&id).await),
        vec![d1, d3],
    );
    same(
        check,
        "the same device id of another account",
        ok(check, "devices", store.devices(&other).await),
        vec![d2],
    );
}

/// Device changes racing from several tasks on one account all land: every device put is
/// there once, with its last write, and every device removed is gone (no change is lost to
/// another made at the same time).
pub(crate) async fn concurrent_device_changes_of_one_account_all_land(store: &Arc<dyn Store>) {
    let check = "concurrent_device_changes_of_one_account_all_land";
    const TASKS: u64 = 6;
    const PER_TASK: u64 = 6;
    let p = unique(check);
    let id = format!("{p}-id");
    ok(
        check,
        "create_account",
        store
            .create_account(&account_record(&id, "c2FsdA", 1))
            .await,
    );
    // Task k puts its devices, uses each again (a replace), and removes its first one.
    let mut tasks = Vec::new();
    for k in 0..TASKS {
        let (store, id) = (store.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..PER_TASK {
                let d = device(&format!("t{k}-d{n}"), k * PER_TASK + n, 0);
                store.put_device(&id, &d).await?;
                store
                    .put_device(
                        &id,
                        &Device {
                            last_used_ms: 99,
                            ..d
                        },
                    )
                    .await?;
            }
            store.remove_device(&id, &format!("t{k}-d0")).await
        }));
    }
    for task in tasks {
        match task.await {
            Ok(result) => same(
                check,
                "remove_device from a task",
                ok(check, "a task's device changes", result),
                true,
            ),
            Err(e) => panic!("conformance check `{check}`: a task failed: {e}"),
        }
    }
    let want: Vec<Device> = (0..TASKS)
        .flat_map(|k| {
            (1..PER_TASK).map(move |n| Device {
                last_used_ms: 99,
                ..device(&format!("t{k}-d{n}"), k * PER_TASK + n, 0)
            })
        })
        .collect();
    same(
        check,
        "devices after racing changes",
        ok(check, "devices", store.devices(&id).await),
        want,
    );
}

/// `touch_device` sets the `last_used_ms` of a device the account has, and nothing else of
/// it; false, changing nothing and adding nothing, for a device removed, for one never added,
/// for an id without an account and after `delete_account`.
pub(crate) async fn touch_device_changes_only_a_present_devices_last_use(store: &Arc<dyn Store>) {
    let check = "touch_device_changes_only_a_present_devices_last_use";
    let p = unique(check);
    let (id, other) = (format!("{p}-id"), format!("{p}-other"));
    same(
        check,
        "touch_device without an account",
        ok(
            check,
            "touch_device",
            store.touch_device(&id, "phone", 5).await,
        ),
        false,
    );
    for a in [&id, &other] {
        ok(
            check,
            "create_account",
            store.create_account(&account_record(a, "c2FsdA", 1)).await,
        );
    }
    let (phone, laptop, tablet) = (
        device("phone", 10, 10),
        device("laptop", 20, 20),
        device("tablet", 30, 30),
    );
    for d in [&phone, &laptop, &tablet] {
        ok(check, "put_device", store.put_device(&id, d).await);
    }
    // The same device id under another account, which must not see the touch.
    ok(check, "put_device", store.put_device(&other, &phone).await);

    same(
        check,
        "touch_device of a present device",
        ok(
            check,
            "touch_device",
            store.touch_device(&id, "phone", 1_700_000_000_123).await,
        ),
        true,
    );
    // Above 2^53: a backend that passes the number through a double loses its last digit.
    let late = (1 << 53) + 1;
    same(
        check,
        "touch_device of a present device, a late time",
        ok(
            check,
            "touch_device",
            store.touch_device(&id, "laptop", late).await,
        ),
        true,
    );
    let touched_phone = Device {
        last_used_ms: 1_700_000_000_123,
        ..phone.clone()
    };
    let touched_laptop = Device {
        last_used_ms: late,
        ..laptop.clone()
    };
    same(
        check,
        "devices after touch_device",
        ok(check, "devices", store.devices(&id).await),
        vec![
            touched_phone.clone(),
            touched_laptop.clone(),
            tablet.clone(),
        ],
    );
    same(
        check,
        "devices of another account with the same device id",
        ok(check, "devices", store.devices(&other).await),
        vec![phone.clone()],
    );

    same(
        check,
        "touch_device of a device never added",
        ok(
            check,
            "touch_device",
            store.touch_device(&id, "watch", 40).await,
        ),
        false,
    );
    same(
        check,
        "remove_device",
        ok(
            check,
            "remove_device",
            store.remove_device(&id, "tablet").await,
        ),
        true,
    );
    same(
        check,
        "touch_device of a removed device",
        ok(
            check,
            "touch_device",
            store.touch_device(&id, "tablet", 50).await,
        ),
        false,
    );
    same(
        check,
        "devices after touching a removed device and one never added",
        ok(check, "devices", store.devices(&id).await),
        vec![touched_phone, touched_laptop],
    );

    same(
        check,
        "delete_account",
        ok(check, "delete_account", store.delete_account(&id).await),
        true,
    );
    same(
        check,
        "touch_device after delete_account",
        ok(
            check,
            "touch_device",
            store.touch_device(&id, "phone", 60).await,
        ),
        false,
    );
    same(
        check,
        "devices after touching a deleted account's device",
        ok(check, "devices", store.devices(&id).await),
        vec![],
    );
    same(
        check,
        "account after touching a deleted account's device",
        ok(check, "account", store.account(&id).await),
        None,
    );
}

/// Sign-ins touching a device while it is removed: whichever order they land in, the device
/// is gone afterwards (a touch landing after the remove never adds it back), and the
/// account's other device is untouched.
pub(crate) async fn touch_device_racing_remove_never_brings_it_back(store: &Arc<dyn Store>) {
    let check = "touch_device_racing_remove_never_brings_it_back";
    const ROUNDS: u64 = 4;
    const TOUCHES: u64 = 6;
    let p = unique(check);
    let id = format!("{p}-id");
    ok(
        check,
        "create_account",
        store
            .create_account(&account_record(&id, "c2FsdA", 1))
            .await,
    );
    let keep = device("keep", 1, 1);
    ok(check, "put_device", store.put_device(&id, &keep).await);
    for round in 0..ROUNDS {
        let name = format!("d{round}");
        ok(
            check,
            "put_device",
            store.put_device(&id, &device(&name, 10 + round, 0)).await,
        );
        let mut tasks = Vec::new();
        // The remove is started in the middle of the touches.
        for t in 0..TOUCHES {
            let (s, i, n) = (store.clone(), id.clone(), name.clone());
            tasks.push(tokio::spawn(async move {
                s.touch_device(&i, &n, 100 + t).await
            }));
            if t == TOUCHES / 2 {
                let (s, i, n) = (store.clone(), id.clone(), name.clone());
                tasks.push(tokio::spawn(async move { s.remove_device(&i, &n).await }));
            }
        }
        for task in tasks {
            match task.await {
                Ok(result) => {
                    ok(check, "a touch or the remove", result);
                }
                Err(e) => panic!("conformance check `{check}`: a task failed: {e}"),
            }
        }
        same(
            check,
            "devices after touches racing a remove",
            ok(check, "devices", store.devices(&id).await),
            vec![keep.clone()],
        );
    }
}
