//! Heartbeats and the dead-session scan.

use std::time::Duration;

use fishchat_cluster::protocol::Command;

use crate::harness::*;

#[tokio::test]
async fn a_silent_session_is_dropped_and_a_pinging_one_is_kept() {
    let c = start_with(1, |o| {
        o.msg_server.scan_dead_session_timeout = Duration::from_millis(150)
    })
    .await;
    let addr = c.file().msg_servers[0].clone();
    let mut silent = Raw::connect(&addr).await;
    silent
        .send(&Command::SendClientId { id: "quiet".into() })
        .await;
    // The silent one is at the original level, the pinger at ours (it ends with a SYNC).
    let mut pinger = Raw::fishchat(&addr).await;
    pinger
        .send(&Command::SendClientId {
            id: "chatty".into(),
        })
        .await;
    let ping = tokio::spawn(async move {
        for _ in 0..15 {
            pinger.send(&Command::SendPing).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        pinger
    });
    assert!(silent.closed().await, "a silent session is dropped");
    assert!(c.store().sessions("quiet").await.unwrap().is_empty());
    let mut pinger = ping.await.unwrap();
    // Two scan periods and more have passed: the pinging session is still there.
    assert_eq!(c.store().sessions("chatty").await.unwrap().len(), 1);
    pinger.send(&Command::Sync { token: "t".into() }).await;
    assert_eq!(
        pinger.recv().await,
        Some(Command::SyncDone { token: "t".into() })
    );
}
