//! Frames a client sends at once: the p2p sends and acks among them go to the store
//! together, yet each takes effect in its turn and is answered as if it came alone.

use fishchat_cluster::protocol::{Command, ErrorCode};
use tokio::io::AsyncWriteExt;

use crate::harness::*;
use fishchat_cluster::protocol::P2pMessage;

async fn raw_login(addr: &str, id: &str) -> Raw {
    let mut raw = Raw::fishchat(addr).await;
    raw.send(&Command::SendClientId { id: id.into() }).await;
    raw.send(&Command::Sync { token: "in".into() }).await;
    assert_eq!(
        raw.recv().await,
        Some(Command::SyncDone { token: "in".into() })
    );
    raw
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_keeps_its_order_and_answers_a_refusal_in_its_place() {
    let c = start(1).await;
    let addr = c.file().msg_servers[0].clone();
    let mut alice = raw_login(&addr, "alice").await;
    let mut bob = raw_login(&addr, "bob").await;

    // One write: 100 messages, the 50th claiming to be from someone else, then a barrier.
    let mut burst = Vec::new();
    for i in 0..100 {
        let from = if i == 50 { "mallory" } else { "alice" };
        burst.extend_from_slice(
            &Command::SendMessageP2p {
                to: "bob".into(),
                msg: format!("m{i}"),
                from: Some(from.into()),
                uuid: None,
                sent_at_ms: None,
            }
            .to_frame(),
        );
    }
    burst.extend_from_slice(
        &Command::Sync {
            token: "burst".into(),
        }
        .to_frame(),
    );
    alice.stream.write_all(&burst).await.unwrap();
    alice.expect_error(ErrorCode::Forbidden).await;
    assert_eq!(
        alice.recv().await,
        Some(Command::SyncDone {
            token: "burst".into()
        }),
        "the barrier comes after every answer to the burst"
    );

    let mut uuids = Vec::new();
    for i in (0..100).filter(|i| *i != 50) {
        match bob.recv().await {
            Some(Command::RespMessageP2p(P2pMessage {
                msg, from, uuid, ..
            })) => {
                assert_eq!(
                    (msg.as_str(), from.as_str()),
                    (format!("m{i}").as_str(), "alice")
                );
                uuids.push(uuid);
            }
            other => panic!("expected m{i}, got {other:?}"),
        }
    }
    assert_eq!(c.store().pending_count("bob").await.unwrap(), 99);

    // Bob acks them all in one write: the inbox empties, alice hears of each in order.
    let mut acks = Vec::new();
    for u in &uuids {
        acks.extend_from_slice(
            &Command::P2pAck {
                id: "bob".into(),
                uuid: u.clone(),
            }
            .to_frame(),
        );
    }
    acks.extend_from_slice(
        &Command::Sync {
            token: "acked".into(),
        }
        .to_frame(),
    );
    bob.stream.write_all(&acks).await.unwrap();
    assert_eq!(
        bob.recv().await,
        Some(Command::SyncDone {
            token: "acked".into()
        })
    );
    for u in &uuids {
        match alice.recv().await {
            Some(Command::P2pDelivered { uuid, to, .. }) => {
                assert_eq!((&uuid, to.as_str()), (u, "bob"));
            }
            other => panic!("expected P2P_DELIVERED {u}, got {other:?}"),
        }
    }
    assert_eq!(c.store().pending_count("bob").await.unwrap(), 0);
}

/// Sends `n` `SYNC`s in one write, then reads every answer: they must all come, in order.
async fn pipelined_syncs(addr: &str, n: usize) {
    let raw = Raw::fishchat(addr).await;
    let mut burst = Vec::new();
    for i in 0..n {
        burst.extend_from_slice(
            &Command::Sync {
                token: i.to_string(),
            }
            .to_frame(),
        );
    }
    // Written while the answers are read: a client that reads may pipeline any number.
    let (mut rd, mut wr) = raw.stream.into_split();
    let writer = tokio::spawn(async move { wr.write_all(&burst).await.map(|_| wr) });
    let mut got = 0;
    let mut buf = Vec::new();
    while got < n {
        use tokio::io::AsyncReadExt;
        let mut chunk = [0u8; 64 * 1024];
        let read = tokio::time::timeout(WAIT, rd.read(&mut chunk))
            .await
            .unwrap_or_else(|_| panic!("{addr}: {got} of {n} answers, then nothing"))
            .unwrap();
        assert!(read > 0, "{addr} closed after {got} of {n} answers");
        buf.extend_from_slice(&chunk[..read]);
        while buf.len() >= 4 {
            let len = u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
            if buf.len() < 4 + len {
                break;
            }
            let cmd = Command::from_body(&buf[4..4 + len]).unwrap();
            buf.drain(..4 + len);
            assert_eq!(
                cmd,
                Command::SyncDone {
                    token: got.to_string()
                },
                "{addr}"
            );
            got += 1;
        }
    }
    let _wr = writer.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reading_client_may_pipeline_a_thousand_syncs_to_every_role() {
    let c = start(1).await;
    let f = c.file().clone();
    let mut roles = vec![
        f.gateway.clone(),
        f.router.clone(),
        f.manager.clone(),
        f.msg_servers[0].clone(),
    ];
    roles.extend(f.monitor.clone());
    for addr in roles {
        pipelined_syncs(&addr, 1000).await;
    }
    // More than a msg_server's whole queue (1024) in one go, too.
    pipelined_syncs(&f.msg_servers[0], 5000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_is_cut_by_the_bytes_waiting_for_it() {
    let c = start_with(1, |o| o.msg_server.client_queue_bytes = 1024 * 1024).await;
    let addr = c.file().msg_servers[0].clone();
    // bob logs in, then reads nothing more.
    let mut bob = raw_login(&addr, "bob").await;
    let alice = login(&c, 0, "alice").await;
    // 100 frames of 100 KB: far under the frame count (1024), far over 1 MiB once the
    // socket's own buffers are full.
    let text = "x".repeat(100 * 1024);
    for _ in 0..100 {
        alice.sender().send_p2p("bob", &text).unwrap();
    }
    let mut alice = alice;
    assert_eq!(alice.sync().await.unwrap(), None);
    assert!(bob.closed().await, "bob, not reading, was not cut");
    // Nothing is lost: what bob did not take waits in his inbox.
    assert_eq!(c.store().pending_count("bob").await.unwrap(), 100);
}
