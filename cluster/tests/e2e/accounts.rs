//! Accounts: who may use an id. Claiming by `REGISTER`, signing in by password and by device
//! token, devices revoked and passwords changed, the cluster's policy (`open`, `claimed`,
//! `required`), the limits on failed sign-ins, and message ids that belong to their sender.
//! Topic ownership is in `accounts/topics.rs`.

mod topics;

use std::time::{Duration, Instant};

use fishchat_cluster::client::{Client, ClientError, Event, SignedIn};
use fishchat_cluster::protocol::inspect::UserResult;
use fishchat_cluster::protocol::{AuthPolicy, Command, ErrorCode, InspectQuery, Registration};

use crate::harness::*;
use crate::original::{env, OriginalClient};

pub const PASSWORD: &str = "correct horse battery";

/// A fishchat-level connection to msg_server `i`, not logged in.
pub async fn connect(c: &TestCluster, i: usize) -> Client {
    Client::connect(&c.file().msg_servers[i])
        .await
        .expect("connect")
}

/// Claims `id` with [`PASSWORD`] and signs in on msg_server `i`: a first device.
pub async fn claim(c: &TestCluster, i: usize, id: &str) -> (Client, SignedIn) {
    let mut client = connect(c, i).await;
    client.register(id, PASSWORD).await.expect("register");
    let signed = client
        .sign_in(id, PASSWORD, Some("first"))
        .await
        .expect("sign in");
    (client, signed)
}

/// Signs `id` in on msg_server `i` with `credential`.
pub async fn sign_in(
    c: &TestCluster,
    i: usize,
    id: &str,
    credential: &str,
) -> Result<(Client, SignedIn), ClientError> {
    let mut client = connect(c, i).await;
    let signed = client.sign_in(id, credential, Some("another")).await?;
    Ok((client, signed))
}

/// An operator's connection: the cluster secret presented.
pub async fn operator(c: &TestCluster) -> Client {
    let mut op = connect(c, 0).await;
    op.auth(SECRET).await.expect("auth");
    op
}

async fn user(c: &TestCluster, id: &str) -> UserResult {
    let op = operator(c).await;
    serde_json::from_value(op.inspect(InspectQuery::User(id.into())).await.unwrap()).unwrap()
}

fn refused<T>(r: Result<T, ClientError>, code: ErrorCode) -> String {
    match r {
        Err(ClientError::Server { code: got, detail }) if got == code => detail,
        Err(e) => panic!("expected {code}, got {e}"),
        Ok(_) => panic!("expected {code}, but it succeeded"),
    }
}

/// Waits for the connection to be told it was signed out, then closed.
async fn signed_out(client: &mut Client) -> String {
    let mut told = None;
    loop {
        match client.next_event_within(WAIT).await {
            Ok(Event::Error { code, detail }) => {
                assert_eq!(code, ErrorCode::SignedOut, "{detail}");
                told = Some(detail);
            }
            Ok(Event::Closed { .. }) | Err(ClientError::Closed) => {
                return told.expect("told why before the connection closed")
            }
            Ok(Event::Beat(_)) => {}
            other => panic!("expected to be signed out, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_impostor_cannot_use_a_claimed_id_at_either_level_and_its_inbox_is_untouched() {
    let c = start(2).await;
    let (bob, signed) = claim(&c, 0, "bob").await;
    bob.disconnect();
    let alice = login(&c, 1, "alice").await;
    alice.sender().send_p2p("bob", "one").unwrap();
    alice.sender().send_p2p("bob", "two").unwrap();
    let mut alice = alice;
    assert_eq!(alice.sync().await.unwrap(), None);

    // The fishchat level is told why.
    let mut impostor = connect(&c, 1).await;
    let detail = refused(impostor.login("bob").await, ErrorCode::AuthRequired);
    assert!(detail.contains("LOGIN"), "{detail}");
    // The original level is closed without a frame.
    let mut original = OriginalClient::connect(&c.file().msg_servers[0], "bob").await;
    original.send(&env("SEND_CLIENT_ID", &["bob"])).await;
    original.expect_closed_silently().await;

    assert_eq!(user(&c, "bob").await.pending, 2, "bob's inbox is untouched");
    assert!(user(&c, "bob").await.sessions.is_empty());

    // The real bob, by his token, gets both.
    let (mut bob, again) = sign_in(&c, 1, "bob", &signed.token).await.unwrap();
    assert_eq!(
        again.device_id, signed.device_id,
        "a token login reuses its device"
    );
    assert_eq!(next_p2p(&mut bob).await.0, "one");
    assert_eq!(next_p2p(&mut bob).await.0, "two");
}

#[tokio::test]
async fn password_and_token_sign_ins_work_on_two_devices_at_once() {
    let c = start(2).await;
    let (phone, first) = claim(&c, 0, "bob").await;
    let (laptop, second) = sign_in(&c, 1, "bob", PASSWORD).await.unwrap();
    assert_ne!(
        first.device_id, second.device_id,
        "a password sign-in is a new device"
    );
    assert_ne!(first.token, second.token);
    let (again, third) = sign_in(&c, 1, "bob", &first.token).await.unwrap();
    assert_eq!(third.device_id, first.device_id);

    let devices = laptop.devices().await.unwrap().devices;
    assert_eq!(devices.len(), 2, "{devices:?}");
    assert!(devices
        .iter()
        .any(|d| d.device_id == second.device_id && d.current));
    assert!(devices
        .iter()
        .any(|d| d.device_id == first.device_id && !d.current && d.name == "first"));

    let alice = login(&c, 0, "alice").await;
    alice.sender().send_p2p("bob", "to every device").unwrap();
    for mut client in [phone, laptop, again] {
        assert_eq!(next_p2p(&mut client).await.0, "to every device");
    }
}

#[tokio::test]
async fn a_revoked_device_is_signed_out_and_its_token_refused() {
    let c = start(2).await;
    let (mut phone, first) = claim(&c, 0, "bob").await;
    let (mut laptop, _) = sign_in(&c, 1, "bob", PASSWORD).await.unwrap();
    laptop.revoke(&first.device_id).await.unwrap();
    // Through the router: the phone is on the other msg_server.
    let why = signed_out(&mut phone).await;
    assert!(why.contains("revoked"), "{why}");
    refused(
        sign_in(&c, 0, "bob", &first.token).await,
        ErrorCode::AuthFailed,
    );
    refused(
        laptop.revoke(&first.device_id).await,
        ErrorCode::NoSuchDevice,
    );
    assert_eq!(laptop.devices().await.unwrap().devices.len(), 1);
}

#[tokio::test]
async fn passwd_revokes_the_other_devices_unless_asked_not_to() {
    let c = start(1).await;
    let (mut a, first) = claim(&c, 0, "bob").await;
    let (mut b, second) = sign_in(&c, 0, "bob", PASSWORD).await.unwrap();
    refused(
        a.passwd("wrong password", "new password 1", false).await,
        ErrorCode::AuthFailed,
    );
    refused(a.passwd(PASSWORD, "short", false).await, ErrorCode::BadArgs);

    a.passwd(PASSWORD, "new password 1", false).await.unwrap();
    signed_out(&mut b).await;
    refused(
        sign_in(&c, 0, "bob", &second.token).await,
        ErrorCode::AuthFailed,
    );
    refused(sign_in(&c, 0, "bob", PASSWORD).await, ErrorCode::AuthFailed);
    sign_in(&c, 0, "bob", &first.token)
        .await
        .expect("the device that changed it stays");
    let (_, third) = sign_in(&c, 0, "bob", "new password 1").await.unwrap();

    a.passwd("new password 1", "new password 2", true)
        .await
        .unwrap();
    sign_in(&c, 0, "bob", &third.token)
        .await
        .expect("kept with keep-devices");
    assert!(
        a.sync().await.unwrap().is_none(),
        "the connection that changed it stays"
    );
}

#[tokio::test]
async fn logout_revokes_this_device_only() {
    let c = start(1).await;
    let (mut a, first) = claim(&c, 0, "bob").await;
    let (_b, second) = sign_in(&c, 0, "bob", PASSWORD).await.unwrap();
    a.logout().await.unwrap();
    refused(
        sign_in(&c, 0, "bob", &first.token).await,
        ErrorCode::AuthFailed,
    );
    sign_in(&c, 0, "bob", &second.token)
        .await
        .expect("the other device stays");
    // Logged out, the connection may sign in again.
    a.sign_in("bob", PASSWORD, None).await.unwrap();
}

#[tokio::test]
async fn an_unclaimed_id_still_works_for_an_original_client() {
    let c = start(2).await;
    let mut carol = OriginalClient::at(&c.file().msg_servers[0], "carol").await;
    carol.login().await;
    let mut dave = OriginalClient::at(&c.file().msg_servers[1], "dave").await;
    dave.login().await;
    carol.send_p2p("dave", "hello").await;
    assert_eq!(dave.next_p2p().await.0, "hello");
}

#[tokio::test]
async fn registering_an_id_that_waits_delivers_its_messages_to_the_new_owner() {
    let c = start(1).await;
    let alice = login(&c, 0, "alice").await;
    alice.sender().send_p2p("erin", "waiting for you").unwrap();
    let mut alice = alice;
    alice.sync().await.unwrap();
    // Someone uses erin unclaimed meanwhile, and does not ack.
    let mut squatter = connect(&c, 0).await;
    squatter.login("erin").await.unwrap();
    assert_eq!(next_p2p(&mut squatter).await.0, "waiting for you");

    let (mut erin, _) = claim(&c, 0, "erin").await;
    let why = signed_out(&mut squatter).await;
    assert!(why.contains("claimed"), "{why}");
    let (msg, from, _, offline) = next_p2p(&mut erin).await;
    assert_eq!(
        (msg.as_str(), from.as_str(), offline),
        ("waiting for you", "alice", true)
    );
    refused(
        connect(&c, 0).await.login("erin").await,
        ErrorCode::AuthRequired,
    );
    let other = connect(&c, 0).await;
    refused(
        other.register("erin", "another password").await,
        ErrorCode::IdTaken,
    );
}

#[tokio::test]
async fn a_failed_sign_in_says_only_that_it_failed() {
    let c = start(1).await;
    claim(&c, 0, "bob").await;
    let wrong = refused(
        sign_in(&c, 0, "bob", "not the password").await,
        ErrorCode::AuthFailed,
    );
    let nobody = refused(
        sign_in(&c, 0, "nobody", "not the password").await,
        ErrorCode::AuthFailed,
    );
    assert_eq!(wrong, nobody, "no word of whether the id has an account");
    refused(
        sign_in(&c, 0, "bob", "fct1_notatoken").await,
        ErrorCode::AuthFailed,
    );
}

#[tokio::test]
async fn fifty_wrong_passwords_for_one_id_do_not_slow_anyone_else() {
    let c = start(1).await;
    claim(&c, 0, "bob").await;
    claim(&c, 0, "carol").await;
    let alice = login(&c, 0, "alice").await;
    let mut dave = login(&c, 0, "dave").await;

    // What carol's sign-in and an alice -> dave round trip take on a quiet server.
    let quiet_sign_in = time_sign_in(&c, "carol").await;

    let attacker = {
        let addr = c.file().msg_servers[0].clone();
        tokio::spawn(async move {
            let mut conn = Client::connect(&addr).await.unwrap();
            let mut limited = 0;
            for i in 0..50 {
                match conn
                    .sign_in("bob", &format!("guess number {i}"), None)
                    .await
                {
                    Err(ClientError::Server {
                        code: ErrorCode::RateLimited,
                        ..
                    }) => limited += 1,
                    Err(ClientError::Server {
                        code: ErrorCode::AuthFailed,
                        ..
                    }) => {}
                    other => panic!("a wrong password got {other:?}"),
                }
            }
            limited
        })
    };

    let mut worst_trip = Duration::ZERO;
    let mut worst_sign_in = Duration::ZERO;
    for i in 0..10 {
        let t = Instant::now();
        alice
            .sender()
            .send_p2p("dave", &format!("ping {i}"))
            .unwrap();
        let (_, _, uuid, _) = next_p2p(&mut dave).await;
        dave.sender().ack(&uuid).unwrap();
        worst_trip = worst_trip.max(t.elapsed());
        worst_sign_in = worst_sign_in.max(time_sign_in(&c, "carol").await);
    }
    let limited = attacker.await.unwrap();
    assert!(
        limited >= 40,
        "only {limited} of 50 guesses were rate-limited"
    );
    // A p2p round trip stays a round trip; carol's sign-in at most waits for the one
    // guess being hashed before hers (the limiter keeps the rest from ever queueing).
    assert!(
        worst_trip < Duration::from_millis(500),
        "a p2p round trip took {worst_trip:?}"
    );
    let bound = quiet_sign_in * 3 + Duration::from_millis(500);
    assert!(
        worst_sign_in < bound,
        "carol's sign-in took {worst_sign_in:?} under attack, {quiet_sign_in:?} quiet"
    );
}

async fn time_sign_in(c: &TestCluster, id: &str) -> Duration {
    let t = Instant::now();
    sign_in(c, 0, id, PASSWORD).await.expect("sign in");
    t.elapsed()
}

#[tokio::test]
async fn under_required_every_id_needs_an_account() {
    let c = start_with(1, |o| o.msg_server.auth = AuthPolicy::Required).await;
    let addr = c.file().msg_servers[0].clone();
    let detail = refused(
        connect(&c, 0).await.login("newcomer").await,
        ErrorCode::AuthRequired,
    );
    assert!(detail.contains("every id"), "{detail}");
    let mut original = OriginalClient::connect(&addr, "newcomer").await;
    original.send(&env("SEND_CLIENT_ID", &["newcomer"])).await;
    original.expect_closed_silently().await;

    let client = connect(&c, 0).await;
    let status = client.account_status("newcomer").await.unwrap();
    assert!(!status.claimed);
    assert_eq!(status.auth, AuthPolicy::Required);
    claim(&c, 0, "newcomer").await;
    assert!(client.account_status("newcomer").await.unwrap().claimed);
}

#[tokio::test]
async fn closed_registration_leaves_accounts_to_operators() {
    let c = start_with(1, |o| o.msg_server.registration = Registration::Closed).await;
    let client = connect(&c, 0).await;
    let detail = refused(
        client.register("frank", PASSWORD).await,
        ErrorCode::Forbidden,
    );
    assert!(detail.contains("fishchat-admin user add"), "{detail}");
    let mut op = operator(&c).await;
    op.user_add("frank", PASSWORD).await.unwrap();
    refused(op.user_add("frank", PASSWORD).await, ErrorCode::IdTaken);
    sign_in(&c, 0, "frank", PASSWORD)
        .await
        .expect("an operator's account signs in");
    // Without the secret, no operator command.
    let mut nobody = connect(&c, 0).await;
    refused(
        nobody.user_add("gina", PASSWORD).await,
        ErrorCode::Forbidden,
    );
}

#[tokio::test]
async fn operators_reset_delete_and_kick() {
    let c = start(2).await;
    let (mut bob, signed) = claim(&c, 0, "bob").await;
    let mut op = operator(&c).await;

    let info = user(&c, "bob").await;
    let account = info.account.expect("bob is claimed");
    assert_eq!(account.devices.len(), 1);
    assert_eq!(account.devices[0].device_id, signed.device_id);
    let text = serde_json::to_string(&account).unwrap();
    assert!(
        !text.contains(&signed.token) && !text.contains("argon2"),
        "{text}"
    );

    op.user_passwd("bob", "reset password").await.unwrap();
    signed_out(&mut bob).await;
    refused(
        sign_in(&c, 0, "bob", &signed.token).await,
        ErrorCode::AuthFailed,
    );
    let (mut bob, _) = sign_in(&c, 1, "bob", "reset password").await.unwrap();

    // Kicked everywhere (bob is on the other msg_server), but still claimed.
    op.kick_user("bob").await.unwrap();
    signed_out(&mut bob).await;
    assert!(user(&c, "bob").await.account.is_some());

    // Something waits for bob when the account goes: it is not handed on.
    let mut alice = login(&c, 0, "alice").await;
    alice.sender().send_p2p("bob", "for the old bob").unwrap();
    alice.sync().await.unwrap();
    assert_eq!(user(&c, "bob").await.pending, 1);
    op.user_del("bob").await.unwrap();
    assert_eq!(
        user(&c, "bob").await.pending,
        0,
        "the deleted account's inbox is emptied"
    );
    refused(op.user_del("bob").await, ErrorCode::NoSuchAccount);
    assert!(user(&c, "bob").await.account.is_none());
    connect(&c, 0)
        .await
        .login("bob")
        .await
        .expect("unclaimed again");
}

#[tokio::test]
async fn a_message_id_belongs_to_its_sender() {
    let c = start(1).await;
    let mut alice = login(&c, 0, "alice").await;
    let mut mallory = login(&c, 0, "mallory").await;
    let mut bob = login(&c, 0, "bob").await;
    let uuid = "0b5c9a9e-8e1f-4d3a-9d5e-6f2a1b3c4d5e".to_string();
    let send = |from: &str, to: &str, msg: &str| Command::SendMessageP2p {
        to: to.into(),
        msg: msg.into(),
        from: Some(from.into()),
        uuid: Some(uuid.clone()),
        sent_at_ms: None,
    };
    alice
        .sender()
        .send(&send("alice", "bob", "from alice"))
        .unwrap();
    assert_eq!(alice.sync().await.unwrap(), None);
    assert_eq!(next_p2p(&mut bob).await.0, "from alice");

    // Another sender's message with that id is refused, to the same receiver or another,
    // p2p or to a topic: never taken and silently dropped as a copy.
    mallory
        .sender()
        .send(&send("mallory", "bob", "from mallory"))
        .unwrap();
    let (code, detail) = mallory.sync().await.unwrap().expect("refused");
    assert_eq!(code, ErrorCode::BadArgs, "{detail}");
    assert!(detail.contains(&uuid), "{detail}");
    mallory
        .sender()
        .send(&send("mallory", "carol", "from mallory"))
        .unwrap();
    assert_eq!(
        mallory.sync().await.unwrap().map(|e| e.0),
        Some(ErrorCode::BadArgs)
    );
    mallory.create_topic("news").await.unwrap();
    mallory
        .sender()
        .send(&Command::SendMessageTopic {
            topic: "news".into(),
            msg: "from mallory".into(),
            from: Some("mallory".into()),
            uuid: Some(uuid.clone()),
        })
        .unwrap();
    assert_eq!(
        mallory.sync().await.unwrap().map(|e| e.0),
        Some(ErrorCode::BadArgs)
    );
    assert_quiet(&mut bob).await;

    // Its sender may use it again (a resend after a reconnect).
    alice
        .sender()
        .send(&send("alice", "carol", "from alice again"))
        .unwrap();
    assert_eq!(alice.sync().await.unwrap(), None);
}

#[tokio::test]
async fn accounts_need_the_cluster_secret() {
    use fishchat_cluster::config::MsgServerConfig;
    use tokio_util::sync::CancellationToken;
    let dir = tempfile::tempdir().unwrap();
    let store: std::sync::Arc<dyn fishchat_cluster::store::Store> = std::sync::Arc::new(
        fishchat_cluster::store::EmbeddedStore::open(
            &dir.path().join("store.redb"),
            Default::default(),
        )
        .unwrap(),
    );
    // Claimed (the default) without a secret: refused at start, naming the fix.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = fishchat_cluster::roles::msg_server::run(
        listener,
        MsgServerConfig::default(),
        store.clone(),
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("needs the cluster secret"),
        "{err}"
    );

    // Open, without a secret: it runs, and no connection is an operator.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let cfg = MsgServerConfig {
        auth: AuthPolicy::Open,
        ..MsgServerConfig::default()
    };
    let stop = CancellationToken::new();
    let server = tokio::spawn(fishchat_cluster::roles::msg_server::run(
        listener,
        cfg,
        store,
        stop.clone(),
    ));
    let mut anyone = Client::connect(&addr).await.unwrap();
    // Subscribing needs no secret here, as in the original ...
    anyone
        .request(&Command::SubscribeChannel {
            channel: "/sysctrl/send".into(),
            subscriber: "x".into(),
            secret: None,
        })
        .await
        .unwrap();
    // ... but that makes nobody an operator.
    let detail = refused(anyone.user_add("bob", PASSWORD).await, ErrorCode::Forbidden);
    assert!(detail.contains("no cluster secret"), "{detail}");
    stop.cancel();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_uuid_seen_in_a_topic_cannot_hide_another_senders_message() {
    let c = start(1).await;
    let mut alice = login(&c, 0, "alice").await;
    let mut mallory = login(&c, 0, "mallory").await;
    let mut bob = login(&c, 0, "bob").await;
    alice.create_topic("club").await.unwrap();
    mallory.join_topic("club").await.unwrap();
    bob.join_topic("club").await.unwrap();
    alice.sender().send_topic("club", "hello club").unwrap();
    // The server made this uuid; every member saw it.
    let uuid = match next(&mut mallory).await {
        Event::Topic(m) => m.uuid.expect("the fishchat level has the uuid"),
        other => panic!("expected the topic message, got {other:?}"),
    };
    match next(&mut bob).await {
        Event::Topic(m) => assert_eq!(m.uuid.as_deref(), Some(uuid.as_str())),
        other => panic!("expected the topic message, got {other:?}"),
    }
    // A p2p message with that uuid is another sender's message: bob gets it, live.
    mallory
        .sender()
        .send(&Command::SendMessageP2p {
            to: "bob".into(),
            msg: "same uuid, another message".into(),
            from: Some("mallory".into()),
            uuid: Some(uuid.clone()),
            sent_at_ms: None,
        })
        .unwrap();
    assert_eq!(mallory.sync().await.unwrap(), None);
    let (msg, from, got, offline) = next_p2p(&mut bob).await;
    assert_eq!(
        (msg.as_str(), from.as_str(), got.as_str(), offline),
        (
            "same uuid, another message",
            "mallory",
            uuid.as_str(),
            false
        )
    );
}
