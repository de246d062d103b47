//! The same bad input at the fishchat level (a first frame `HELLO`): each keeps its
//! `ERROR` code, and our commands their answers.

use std::collections::HashSet;

use fishchat_cluster::protocol::{Command, ErrorCode};

use super::bad_input::{after_login, after_login_cluster, before_login, AfterLogin, Answer, Bad};
use crate::harness::*;

/// Sends each bad input and checks its answer, then a barrier: nothing else came.
async fn expect_answers(raw: &mut Raw, table: Vec<Bad>) {
    for (i, b) in table.into_iter().enumerate() {
        raw.send_body(&b.body).await;
        match (b.fishchat, raw.recv().await) {
            (Answer::Error(code), Some(Command::Error { code: got, detail })) => {
                assert_eq!(got, code, "{}: {detail}", b.what)
            }
            (Answer::Frame(name), Some(got)) if got.name() == name => {}
            (want, got) => panic!("{}: expected {want:?}, got {got:?}", b.what),
        }
        let token = format!("after {i}");
        raw.send(&Command::Sync {
            token: token.clone(),
        })
        .await;
        assert_eq!(
            raw.recv().await,
            Some(Command::SyncDone { token }),
            "{}: one answer only",
            b.what
        );
    }
}

#[tokio::test]
async fn every_bad_input_keeps_its_error_at_the_fishchat_level() {
    let AfterLogin {
        c,
        servers,
        owner: _owner,
        mut bob,
        bob_uuid,
    } = after_login_cluster().await;

    let mut raw = Raw::fishchat(&servers[0]).await;
    expect_answers(&mut raw, before_login()).await;
    raw.send(&Command::SendClientId { id: "orig".into() }).await;
    expect_answers(&mut raw, after_login(&bob_uuid)).await;
    // A second id on one connection is refused, and the connection stays open.
    raw.send(&Command::SendClientId {
        id: "someone-else".into(),
    })
    .await;
    raw.expect_error(ErrorCode::Forbidden).await;
    raw.send(&Command::Sync {
        token: "end".into(),
    })
    .await;
    assert_eq!(
        raw.recv().await,
        Some(Command::SyncDone {
            token: "end".into()
        })
    );
    assert_quiet(&mut bob).await;
    assert_eq!(c.store().pending_count("bob").await.unwrap(), 1);
}

#[test]
fn the_bad_input_table_covers_every_error_code() {
    let mut codes: HashSet<ErrorCode> = before_login()
        .into_iter()
        .chain(after_login("u"))
        .filter_map(|b| match b.fishchat {
            Answer::Error(code) => Some(code),
            Answer::Frame(_) => None,
        })
        .collect();
    // Covered at the fishchat level elsewhere: errors.rs's store that is down (through
    // the SDK) and its over-long frames (through `Raw::fishchat`).
    codes.insert(ErrorCode::Unavailable);
    codes.insert(ErrorCode::FrameTooLong);
    // The account codes answer commands of ours (unknown at the original level, so not in
    // the table), each checked in accounts.rs: a wrong password, a claimed id's
    // SEND_CLIENT_ID, a taken id, a flood of guesses, a revoked device, a deleted account, a session ended.
    codes.extend([
        ErrorCode::AuthFailed,
        ErrorCode::AuthRequired,
        ErrorCode::IdTaken,
        ErrorCode::RateLimited,
        ErrorCode::NoSuchDevice,
        ErrorCode::NoSuchAccount,
        ErrorCode::SignedOut,
    ]);
    let missing: Vec<_> = ErrorCode::ALL
        .into_iter()
        .filter(|c| !codes.contains(c))
        .collect();
    assert!(missing.is_empty(), "no bad input gets {missing:?}");
}

#[tokio::test]
async fn hello_settles_on_the_lower_version() {
    let c = start(1).await;
    let mut raw = Raw::connect(&c.file().msg_servers[0]).await;
    // A later version's HELLO, with an argument this version does not know.
    raw.send_body(&super::env(
        "HELLO",
        &["7", "future-client", "something-new"],
    ))
    .await;
    match raw.recv().await {
        Some(Command::HelloOk { version, .. }) => assert_eq!(version, 1),
        other => panic!("expected HELLO_OK, got {other:?}"),
    }
    raw.send(&Command::Sync { token: "t".into() }).await;
    assert_eq!(
        raw.recv().await,
        Some(Command::SyncDone { token: "t".into() }),
        "at the fishchat level"
    );
}

#[tokio::test]
async fn the_gateway_at_the_fishchat_level_answers_errors() {
    let c = start(1).await;
    let mut raw = Raw::fishchat(&c.file().gateway).await;
    raw.send_body(b"{not json").await;
    raw.expect_error(ErrorCode::BadJson).await;
    raw.send(&Command::SendClientId { id: "x".into() }).await;
    raw.expect_error(ErrorCode::WrongRole).await;
    raw.send(&Command::ReqMsgServer).await;
    assert_eq!(
        raw.recv().await,
        Some(Command::SelectMsgServerForClient {
            addr: c.file().msg_servers[0].clone()
        })
    );
}
