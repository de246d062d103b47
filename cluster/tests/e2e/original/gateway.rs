//! The gateway at the original level: `REQ_MSG_SERVER` is answered exactly as the
//! original answered it, and anything else gets no `ERROR`.

use fishchat_cluster::protocol::Body;
use tokio::io::AsyncWriteExt;

use super::{env, locate, GRACE};
use crate::harness::*;
use fishchat_cluster::client::role_status;

#[tokio::test]
async fn the_gateway_answers_an_original_client_exactly_and_closes() {
    let c = start(2).await;
    for _ in 0..3 {
        let addr = locate(&c.file().gateway).await;
        assert!(c.file().msg_servers.contains(&addr), "{addr}");
    }
}

#[tokio::test]
async fn garbage_at_the_gateway_gets_no_error() {
    let c = start(1).await;
    let gateway = c.file().gateway.clone();
    let garbage = [
        b"{not json".to_vec(),
        env("FLY_TO_THE_MOON", &[]),
        env("SEND_CLIENT_ID", &["x"]),
        env("SYNC", &["t"]),
        env("ROLE_STATUS", &[]),
    ];

    // Garbage alone: silence or a close, never a frame.
    let mut raw = Raw::connect(&gateway).await;
    // The gateway may close at the first garbage already; a failed write is no failure.
    let _ = raw.stream.write_all(&frames(&garbage)).await;
    match raw.next_body_within(GRACE).await {
        Next::Silent | Next::Closed => {}
        Next::Body(b) => panic!("expected no answer, got {}", String::from_utf8_lossy(&b)),
    }

    // Garbage, then the request, in one write: the answer to the request at most.
    let mut raw = Raw::connect(&gateway).await;
    let mut then_ask = garbage.to_vec();
    then_ask.push(env("REQ_MSG_SERVER", &[]));
    let _ = raw.stream.write_all(&frames(&then_ask)).await;
    match raw.next_body_within(WAIT).await {
        Next::Closed => {}
        Next::Body(b) => {
            let text = String::from_utf8_lossy(&b).into_owned();
            match Body::parse(&b) {
                Ok(Body::Envelope(e)) if e.cmd == "SELECT_MSG_SERVER_FOR_CLIENT" => {
                    assert_eq!(e.args, [c.file().msg_servers[0].clone()], "{text}")
                }
                _ => panic!("expected SELECT_MSG_SERVER_FOR_CLIENT at most, got {text}"),
            }
            assert!(matches!(raw.next_body_within(WAIT).await, Next::Closed));
        }
        Next::Silent => panic!("the gateway neither answered nor closed"),
    }

    // Every frame dropped is counted, while its connection is still open.
    let status = role_status(&gateway).await.unwrap();
    let drops = status["original_drops"].as_u64().unwrap();
    assert!(drops >= garbage.len() as u64, "{status}");
}

/// Bodies framed, for one write.
fn frames(bodies: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for body in bodies {
        bytes.extend_from_slice(&(body.len() as u32).to_be_bytes());
        bytes.extend_from_slice(body);
    }
    bytes
}
