//! `AUTH` and `INSPECT`: refused without the cluster secret; with it, what each msg_server
//! and the store know of sessions, topics and users.

use fishchat_cluster::client::{Client, Event};
use fishchat_cluster::protocol::inspect::*;
use fishchat_cluster::protocol::{Command, ErrorCode, InspectQuery};

use crate::harness::*;

/// Sends `INSPECT` and waits for its answer: the result's data, or the error code.
async fn inspect(c: &mut Client, query: InspectQuery) -> Result<serde_json::Value, ErrorCode> {
    c.sender()
        .send(&Command::Inspect {
            query: query.clone(),
        })
        .unwrap();
    match next(c).await {
        Event::Command(Command::InspectResult { query: q, data }) => {
            assert_eq!(q, query, "the answer echoes the query");
            Ok(data)
        }
        Event::Error { code, .. } => Err(code),
        other => panic!("expected INSPECT_RESULT, got {other:?}"),
    }
}

/// A connection to msg_server `i` that presented the secret.
async fn admin(c: &TestCluster, i: usize) -> Client {
    let mut a = Client::connect(&c.file().msg_servers[i]).await.unwrap();
    a.request(&Command::Auth {
        secret: SECRET.into(),
    })
    .await
    .expect("AUTH with the cluster secret");
    a
}

#[tokio::test]
async fn inspect_needs_the_secret() {
    let c = start(1).await;
    let _alice = login(&c, 0, "alice").await;
    let mut raw = Raw::fishchat(&c.file().msg_servers[0]).await;
    raw.send(&Command::Inspect {
        query: InspectQuery::Sessions,
    })
    .await;
    let detail = raw.expect_error(ErrorCode::Forbidden).await;
    assert!(
        detail.contains("AUTH"),
        "the refusal says what to do: {detail}"
    );
    raw.send(&Command::Auth {
        secret: "guess".into(),
    })
    .await;
    let detail = raw.expect_error(ErrorCode::Forbidden).await;
    assert!(detail.contains("secret"), "{detail}");
    // A wrong secret leaves the connection as it was.
    raw.send(&Command::Inspect {
        query: InspectQuery::User("alice".into()),
    })
    .await;
    raw.expect_error(ErrorCode::Forbidden).await;

    // A logged-in client is no more entitled than anyone else.
    let mut alice = login(&c, 0, "alice").await;
    assert_eq!(
        inspect(&mut alice, InspectQuery::Sessions).await,
        Err(ErrorCode::Forbidden)
    );

    raw.send(&Command::Auth {
        secret: SECRET.into(),
    })
    .await;
    raw.send(&Command::Sync { token: "t".into() }).await;
    assert_eq!(
        raw.recv().await,
        Some(Command::SyncDone { token: "t".into() }),
        "AUTH with the right secret has no answer"
    );
    raw.send(&Command::Inspect {
        query: InspectQuery::Sessions,
    })
    .await;
    match raw.recv().await {
        Some(Command::InspectResult {
            query: InspectQuery::Sessions,
            data,
        }) => {
            let r: SessionsResult = serde_json::from_value(data).unwrap();
            assert_eq!(r.total, 2, "alice's two connections: {r:?}");
        }
        other => panic!("expected INSPECT_RESULT, got {other:?}"),
    }
}

#[tokio::test]
async fn sessions_are_each_servers_own() {
    let c = start(2).await;
    let phone = login(&c, 0, "alice").await;
    let _laptop = login(&c, 0, "alice").await;
    let _bob = login(&c, 1, "bob").await;
    let _carol = login(&c, 0, "carol").await;

    let mut a0 = admin(&c, 0).await;
    let r: SessionsResult =
        serde_json::from_value(inspect(&mut a0, InspectQuery::Sessions).await.unwrap()).unwrap();
    assert_eq!(r.server, c.file().msg_servers[0]);
    let ids: Vec<&str> = r.sessions.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["alice", "alice", "carol"], "ordered by id: {r:?}");
    assert_eq!(r.total, 3);
    assert_ne!(r.sessions[0].conn, r.sessions[1].conn);
    for s in &r.sessions {
        assert!(s.client_addr.starts_with("127.0.0.1:"), "{s:?}");
        assert!(s.since_ms > 0);
    }

    let mut a1 = admin(&c, 1).await;
    let r: SessionsResult =
        serde_json::from_value(inspect(&mut a1, InspectQuery::Sessions).await.unwrap()).unwrap();
    let ids: Vec<&str> = r.sessions.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["bob"]);

    // A connection that closes leaves the table.
    phone.disconnect();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let r: SessionsResult =
            serde_json::from_value(inspect(&mut a0, InspectQuery::Sessions).await.unwrap())
                .unwrap();
        if r.total == 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "alice's closed connection is still listed: {r:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn topics_and_users_come_from_the_store() {
    let c = start(2).await;
    let (s0, s1) = (
        c.file().msg_servers[0].clone(),
        c.file().msg_servers[1].clone(),
    );
    let mut alice = login(&c, 0, "alice").await;
    alice.create_topic("news").await.unwrap();
    let mut bob = login(&c, 1, "bob").await;
    bob.join_topic("news").await.unwrap();
    alice.create_topic("quiet").await.unwrap();
    // carol is offline: the message waits in her inbox.
    alice.sender().send_p2p("carol", "are you there?").unwrap();
    alice.sync().await.unwrap();

    // Any msg_server answers for the whole store.
    let mut a = admin(&c, 1).await;
    let r: TopicsResult =
        serde_json::from_value(inspect(&mut a, InspectQuery::Topics).await.unwrap()).unwrap();
    assert_eq!(r.total, 2);
    let brief: Vec<(&str, &str, &str, u64)> = r
        .topics
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.creator.as_str(),
                t.home.as_str(),
                t.members,
            )
        })
        .collect();
    assert_eq!(
        brief,
        [
            ("news", "alice", s0.as_str(), 2),
            ("quiet", "alice", s0.as_str(), 1)
        ]
    );

    let r: TopicResult = serde_json::from_value(
        inspect(&mut a, InspectQuery::Topic("news".into()))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!((r.home.as_str(), r.total_members), (s0.as_str(), 2));
    let where_: Vec<(&str, Vec<&str>)> = r
        .members
        .iter()
        .map(|m| {
            (
                m.id.as_str(),
                m.sessions.iter().map(|l| l.server.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        where_,
        [("alice", vec![s0.as_str()]), ("bob", vec![s1.as_str()])]
    );
    assert_eq!(
        inspect(&mut a, InspectQuery::Topic("nope".into())).await,
        Err(ErrorCode::NoSuchTopic)
    );

    let r: UserResult = serde_json::from_value(
        inspect(&mut a, InspectQuery::User("carol".into()))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!((r.sessions.len(), r.pending), (0, 1), "{r:?}");
    assert_eq!(r.client, None, "carol never logged in");

    // The manager records bob's login a moment after it happens.
    let deadline = tokio::time::Instant::now() + WAIT;
    let r = loop {
        let r: UserResult = serde_json::from_value(
            inspect(&mut a, InspectQuery::User("bob".into()))
                .await
                .unwrap(),
        )
        .unwrap();
        if r.client.is_some() || tokio::time::Instant::now() >= deadline {
            break r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        r.sessions
            .iter()
            .map(|l| l.server.as_str())
            .collect::<Vec<_>>(),
        [s1.as_str()]
    );
    assert_eq!(r.pending, 0);
    let client = r.client.expect("the manager recorded bob");
    assert_eq!(
        (client.msg_server.as_str(), client.alive),
        (s1.as_str(), true)
    );

    // A malformed query is named.
    let mut raw = Raw::fishchat(&s0).await;
    raw.send(&Command::Auth {
        secret: SECRET.into(),
    })
    .await;
    raw.send_body(br#"{"CmdName":"INSPECT","Args":["everything"]}"#)
        .await;
    let detail = raw.expect_error(ErrorCode::BadArgs).await;
    assert!(
        detail.contains("sessions, topics, topic, user or accounts"),
        "{detail}"
    );
}
