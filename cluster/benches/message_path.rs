//! Micro-benchmarks of what every p2p message costs a msg_server, piece by piece: framing,
//! parsing the client's `SEND_MESSAGE_P2P`, encoding the `RESP_MESSAGE_P2P` it delivers,
//! and the embedded store's push and ack (alone, and as a batch shares one commit).
//!
//! `cargo bench -p fishchat-cluster --bench message_path`. The whole path, sockets and
//! all, is measured by `fishchat-admin bench` (docs/benchmarks.md).

use bytes::BytesMut;
use divan::{black_box, Bencher};
use fishchat_cluster::protocol::frame::encode_frame;
use fishchat_cluster::protocol::P2pMessage;
use fishchat_cluster::protocol::{Body, Command, FrameCodec};
use fishchat_cluster::store::{EmbeddedOptions, EmbeddedStore, InboxOp, InboxStore, StoredMessage};
use tokio_util::codec::Decoder;

fn main() {
    divan::main();
}

/// What a client sends: a 64-byte message to `bob`.
fn send_body() -> Vec<u8> {
    let frame = Command::SendMessageP2p {
        to: "bob".into(),
        msg: format!("t=123456789;s=7;q=42;{}", "x".repeat(43)),
        from: Some("alice".into()),
        uuid: None,
        sent_at_ms: None,
    }
    .to_frame();
    frame[4..].to_vec()
}

fn resp() -> Command {
    Command::RespMessageP2p(P2pMessage {
        msg: format!("t=123456789;s=7;q=42;{}", "x".repeat(43)),
        from: "alice".into(),
        uuid: "0b5a1c6e-8f35-4f0e-9d0b-2d0a9c8f7e61".into(),
        sent_at_ms: Some(1_700_000_000_000),
        offline: false,
    })
}

mod codec {
    use super::*;

    /// Splitting 64 frames out of one read.
    #[divan::bench]
    fn decode_64_frames(b: Bencher) {
        let body = send_body();
        let mut wire = BytesMut::new();
        for _ in 0..64 {
            wire.extend_from_slice(&encode_frame(&body));
        }
        b.bench_local(|| {
            let mut buf = wire.clone();
            let mut codec = FrameCodec::default();
            let mut n = 0;
            while let Ok(Some(f)) = codec.decode(&mut buf) {
                n += black_box(f).len();
            }
            n
        });
    }

    #[divan::bench]
    fn parse_envelope(b: Bencher) {
        let body = send_body();
        b.bench_local(|| Body::parse(black_box(&body)).unwrap());
    }

    /// The general way, through a `serde_json::Value`: what a bare monitor beat takes, and
    /// what every body took before `Body::parse` read envelopes straight in.
    #[divan::bench]
    fn parse_envelope_through_value(b: Bencher) {
        let body = send_body();
        b.bench_local(|| {
            let v: serde_json::Value = serde_json::from_slice(black_box(&body)).unwrap();
            serde_json::from_value::<fishchat_cluster::protocol::Envelope>(v).unwrap()
        });
    }

    #[divan::bench]
    fn parse_command(b: Bencher) {
        let body = send_body();
        b.bench_local(|| Command::from_body(black_box(&body)).unwrap());
    }

    #[divan::bench]
    fn encode_resp_message(b: Bencher) {
        let c = resp();
        b.bench_local(|| black_box(&c).to_frame());
    }
}

mod store {
    use super::*;

    fn message(n: u64) -> StoredMessage {
        StoredMessage {
            uuid: format!("0b5a1c6e-8f35-4f0e-9d0b-{n:012}"),
            from: "alice".into(),
            to: format!("bob{}", n % 16),
            msg: "x".repeat(64),
            sent_at_ms: n,
            claims_uuid: false,
        }
    }

    /// One message pushed and acked, each waiting for its own commit: the cost of a
    /// client that sends one message at a time.
    #[divan::bench(sample_count = 30, sample_size = 20)]
    fn push_then_ack_one_at_a_time(b: Bencher) {
        let dir = tempfile::tempdir().unwrap();
        let store =
            EmbeddedStore::open(&dir.path().join("s.redb"), EmbeddedOptions::default()).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut n = 0;
        b.bench_local(|| {
            n += 1;
            let m = message(n);
            rt.block_on(async {
                store.push(&m).await.unwrap();
                store.ack(&m.to, &m.uuid).await.unwrap();
            })
        });
    }

    /// 64 messages pushed in one batch, then acked in one batch, as a msg_server writes a
    /// run of pipelined sends (and its receiver's acks): the cost per message when divided
    /// by 64.
    #[divan::bench(sample_count = 30, sample_size = 5)]
    fn push_then_ack_64_in_one_batch(b: Bencher) {
        let dir = tempfile::tempdir().unwrap();
        let store =
            EmbeddedStore::open(&dir.path().join("s.redb"), EmbeddedOptions::default()).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut n = 0;
        b.bench_local(|| {
            let batch: Vec<StoredMessage> = (0..64)
                .map(|_| {
                    n += 1;
                    message(n)
                })
                .collect();
            let acks: Vec<InboxOp> = batch
                .iter()
                .map(|m| InboxOp::Ack {
                    id: m.to.clone(),
                    uuid: m.uuid.clone(),
                })
                .collect();
            let pushes: Vec<InboxOp> = batch.into_iter().map(InboxOp::Push).collect();
            rt.block_on(async {
                for r in store.apply_batch(&pushes).await {
                    r.unwrap();
                }
                for r in store.apply_batch(&acks).await {
                    r.unwrap().unwrap();
                }
            })
        });
    }
}
