//! The gateway hands out msg_servers that are up, the least loaded first.

use std::collections::HashMap;

use fishchat_cluster::client::Client;
use fishchat_cluster::protocol::{Command, ErrorCode};

use crate::harness::*;

#[tokio::test]
async fn answers_with_a_live_msg_server_and_closes() {
    let c = start(2).await;
    let mut raw = Raw::connect(&c.file().gateway).await;
    raw.send(&Command::ReqMsgServer).await;
    match raw.recv().await {
        Some(Command::SelectMsgServerForClient { addr }) => {
            assert!(c.file().msg_servers.contains(&addr), "{addr}")
        }
        other => panic!("expected SELECT_MSG_SERVER_FOR_CLIENT, got {other:?}"),
    }
    assert!(raw.closed().await, "the gateway closes after answering");
}

#[tokio::test]
async fn spreads_clients_over_the_msg_servers() {
    let c = start(2).await;
    let mut clients = Vec::new();
    let mut per_server: HashMap<String, usize> = HashMap::new();
    for i in 0..10 {
        let cl = Client::login_via_gateway(&c.file().gateway, &format!("u{i}"))
            .await
            .unwrap();
        *per_server.entry(cl.server().to_string()).or_default() += 1;
        clients.push(cl);
    }
    assert_eq!(per_server.len(), 2, "{per_server:?}");
    assert!(
        per_server.values().all(|n| *n == 5),
        "least loaded first: {per_server:?}"
    );
}

#[tokio::test]
async fn never_hands_out_a_msg_server_that_is_down() {
    let mut c = start(2).await;
    c.stop_msg_server(1).await;
    let up = c.file().msg_servers[0].clone();
    // The gateway's link notices the close at once; ask until it has.
    for _ in 0..20 {
        let addr = Client::locate(&c.file().gateway).await.unwrap();
        assert_eq!(addr, up);
    }
    c.stop_msg_server(0).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match Client::locate(&c.file().gateway).await {
            Err(e) if e.code() == Some(ErrorCode::Unavailable) => break,
            Ok(addr) => assert!(
                tokio::time::Instant::now() < deadline,
                "still handing out {addr}"
            ),
            Err(e) => panic!("{e}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // One comes back: the gateway's link finds it again by itself.
    c.restart_msg_server(1).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match Client::locate(&c.file().gateway).await {
            Ok(addr) => {
                assert_eq!(addr, c.file().msg_servers[1]);
                break;
            }
            Err(e) if e.code() == Some(ErrorCode::Unavailable) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the gateway never found the restarted msg_server"
                )
            }
            Err(e) => panic!("{e}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
