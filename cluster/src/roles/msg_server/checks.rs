//! What p2p and topic messages share: the checks a message passes before it is accepted
//! (its sender, its size, its uuid), and the key a message is known by to the sessions it is
//! written to, so that none is written to one twice.

use super::peer::{MessageKey, Reject, Session};
use super::server::Server;
use crate::protocol::ErrorCode;

/// What a message's frame needs beside its body and its names: command name, uuid, times,
/// the "offline" mark, JSON punctuation. Generous on purpose.
const FRAME_OVERHEAD: usize = 256;

/// A message whose frames would not fit under the maximum frame length is refused here,
/// at the sender: otherwise the frames made from it (with the names `names` beside it)
/// would be refused by every receiver, and a message kept in an inbox would cut its
/// receiver's connection at every login.
pub(crate) fn check_body(server: &Server, msg: &str, names: &[&str]) -> Result<(), Reject> {
    let around: usize = FRAME_OVERHEAD + names.iter().map(|n| json_len(n)).sum::<usize>();
    let max = server.cfg.common.max_frame.saturating_sub(around);
    let len = json_len(msg);
    if len > max {
        return Err(Reject::new(
            ErrorCode::BadArgs,
            format!("the message is {len} bytes once encoded; at most {max} fit in a frame"),
        ));
    }
    Ok(())
}

/// Length of `s` as a JSON string body, escaped the way the encoder escapes it.
fn json_len(s: &str) -> usize {
    s.bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum()
}

/// The sender is the logged-in id; a `from` that differs is refused.
pub(crate) fn check_sender(me: &Session, from: Option<&str>) -> Result<(), Reject> {
    match from {
        Some(f) if f != me.id => Err(Reject::new(
            ErrorCode::Forbidden,
            format!("you are logged in as {:?} and cannot send as {f:?}", me.id),
        )),
        _ => Ok(()),
    }
}

/// A client may choose its message's uuid (to match later `P2P_DELIVERED`); it must be a
/// UUID. Otherwise the server makes one.
pub(crate) fn client_uuid(uuid: Option<String>) -> Result<String, Reject> {
    match uuid {
        None => Ok(uuid::Uuid::new_v4().to_string()),
        Some(u) => uuid::Uuid::parse_str(&u)
            .map(|p| p.hyphenated().to_string())
            .map_err(|_| Reject::new(ErrorCode::BadArgs, format!("uuid {u:?} is not a UUID"))),
    }
}

/// How a message is known to the sessions it is written to (see [`MessageKey`]): by its
/// sender and uuid, and by its uuid alone.
pub(crate) fn message_key(from: &str, uuid: &str) -> MessageKey {
    use std::hash::{Hash, Hasher};
    let uuid = uuid_key(uuid);
    let mut h = std::collections::hash_map::DefaultHasher::new();
    from.hash(&mut h);
    MessageKey {
        seen: uuid ^ u128::from(h.finish()),
        uuid,
    }
}

/// A message uuid as a key (what an ack names). Our uuids parse; another server's strings
/// are hashed.
pub(crate) fn uuid_key(uuid: &str) -> u128 {
    match uuid::Uuid::parse_str(uuid) {
        Ok(u) => u.as_u128(),
        Err(_) => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            uuid.hash(&mut h);
            h.finish() as u128
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_senders_never_share_a_key_and_one_message_always_has_one() {
        let u = "0b5c9a9e-8e1f-4d3a-9d5e-6f2a1b3c4d5e";
        assert_eq!(message_key("alice", u), message_key("alice", u));
        assert_ne!(message_key("alice", u).seen, message_key("mallory", u).seen);
        assert_eq!(message_key("alice", u).uuid, message_key("mallory", u).uuid);
        assert_eq!(message_key("alice", u).uuid, uuid_key(&u.to_uppercase()));
    }
}
