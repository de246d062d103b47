//! What the store keeps across a restart of the whole cluster.

use fishchat_cluster::client::Event;
use fishchat_cluster::local::LocalCluster;

use crate::harness::*;
use fishchat_cluster::protocol::TopicMessage;

#[tokio::test]
async fn a_restart_keeps_offline_messages_topics_and_members() {
    let dir = tempfile::tempdir().unwrap();
    let c = LocalCluster::start(options(dir.path(), 2), |_| {})
        .await
        .unwrap();
    let mut alice = login(&c, 0, "alice").await;
    alice.create_topic("keep").await.unwrap();
    let mut bob = login(&c, 1, "bob").await;
    bob.join_topic("keep").await.unwrap();
    drop(bob);
    for i in 0..5 {
        alice.sender().send_p2p("zoe", &format!("z{i}")).unwrap();
    }
    alice.sync().await.unwrap();
    drop(alice);
    c.shutdown().await.unwrap();

    let c = LocalCluster::start(options(dir.path(), 2), |_| {})
        .await
        .unwrap();
    let mut zoe = login(&c, 1, "zoe").await;
    for i in 0..5 {
        let (msg, from, _, offline) = next_p2p(&mut zoe).await;
        assert_eq!(
            (msg, from.as_str(), offline),
            (format!("z{i}"), "alice", true)
        );
    }
    assert_eq!(
        c.store().members("keep").await.unwrap(),
        vec!["alice", "bob"]
    );
    let mut bob = login(&c, 0, "bob").await;
    let mut alice = login(&c, 1, "alice").await;
    bob.sender().send_topic("keep", "still here").unwrap();
    for cl in [&mut alice, &mut bob] {
        match next(cl).await {
            Event::Topic(TopicMessage { msg, .. }) => assert_eq!(msg, "still here"),
            other => panic!("{other:?}"),
        }
    }
    c.shutdown().await.unwrap();
}
