//! Many clients at once, and a client that stops reading.

use std::collections::HashSet;
use std::time::Duration;

use fishchat_cluster::client::{Client, Event};
use tokio::io::AsyncWriteExt;

use crate::harness::*;
use fishchat_cluster::protocol::P2pMessage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_clients_times_twenty_five_messages_exactly_once() {
    const N: usize = 40;
    const M: usize = 25;
    let c = start(2).await;
    let gateway = c.file().gateway.clone();
    // Concurrent logins through the gateway: the original crashed on these.
    let mut logins = Vec::new();
    for i in 0..N {
        let gw = gateway.clone();
        logins.push(tokio::spawn(async move {
            Client::login_via_gateway(&gw, &format!("load{i}"))
                .await
                .unwrap()
        }));
    }
    let mut clients = Vec::new();
    for l in logins {
        clients.push(l.await.unwrap());
    }
    let servers: HashSet<_> = clients.iter().map(|c| c.server().to_string()).collect();
    assert_eq!(servers.len(), 2, "clients on both msg_servers");

    // Everyone sends M messages to the next client, concurrently, and reads its own.
    let mut tasks = Vec::new();
    for (i, mut cl) in clients.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let to = format!("load{}", (i + 1) % N);
            let from = format!("load{}", (i + N - 1) % N);
            let tx = cl.sender();
            for k in 0..M {
                tx.send_p2p(&to, &format!("{i}:{k}")).unwrap();
            }
            let mut got = Vec::new();
            let mut uuids = HashSet::new();
            while got.len() < M {
                match cl.next_event_within(WAIT).await.unwrap() {
                    Event::P2p(P2pMessage {
                        msg, from: f, uuid, ..
                    }) => {
                        assert_eq!(f, from);
                        assert!(uuids.insert(uuid.clone()), "duplicate uuid {uuid}");
                        tx.ack(&uuid).unwrap();
                        got.push(msg);
                    }
                    Event::Delivered { .. } | Event::Beat(_) => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
            let sender = (i + N - 1) % N;
            let want: Vec<String> = (0..M).map(|k| format!("{sender}:{k}")).collect();
            assert_eq!(got, want, "in order, each once");
            cl.sync().await.unwrap();
            cl
        }));
    }
    let mut clients = Vec::new();
    for t in tasks {
        clients.push(t.await.unwrap());
    }
    // Nothing more arrives: no duplicates, late or otherwise.
    for cl in &mut clients {
        loop {
            match cl.next_event_within(Duration::from_millis(300)).await {
                Ok(Event::Delivered { .. }) | Ok(Event::Beat(_)) => continue,
                Ok(e) => panic!("unexpected extra {e:?}"),
                Err(_) => break,
            }
        }
    }
    for i in 0..N {
        assert_eq!(
            c.store().pending_count(&format!("load{i}")).await.unwrap(),
            0
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_and_others_carry_on() {
    let c = start_with(1, |o| o.msg_server.client_queue = 64).await;
    let addr = c.file().msg_servers[0].clone();
    // The sluggard logs in and never reads again.
    let mut raw = Raw::connect(&addr).await;
    raw.send(&fishchat_cluster::protocol::Command::SendClientId {
        id: "sluggard".into(),
    })
    .await;
    raw.stream.flush().await.unwrap();
    let mut alice = login(&c, 0, "alice").await;
    let mut bob = login(&c, 0, "bob").await;
    let big = "x".repeat(16 * 1024);
    let tx = alice.sender();
    // Enough to fill the socket buffers and the 64-frame queue many times over.
    for _ in 0..2000 {
        tx.send_p2p("sluggard", &big).unwrap();
    }
    alice.sync().await.unwrap();
    // The server cut it: its session is gone.
    let deadline = tokio::time::Instant::now() + WAIT;
    while !c.store().sessions("sluggard").await.unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slow client was never cut off"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Others were never held up and still are not.
    for i in 0..200 {
        tx.send_p2p("bob", &format!("n{i}")).unwrap();
    }
    for i in 0..200 {
        assert_eq!(next_p2p(&mut bob).await.0, format!("n{i}"));
    }
    // Nothing was lost for the sluggard: it is all in its inbox.
    assert_eq!(c.store().pending_count("sluggard").await.unwrap(), 2000);
}
