//! `SUBSCRIBE_CHANNEL`, and the cluster secret that makes a connection internal (checked by
//! `AUTH` too, see [`super::inspect`]).
//!
//! The subscribers themselves are kept, and published to, by the server
//! ([`super::server::Channels`], [`super::server::Server::publish`]).

use super::peer::{Peer, Reject};
use super::server::Server;
use super::stats;
use crate::protocol::{Channel, ErrorCode};

/// `SUBSCRIBE_CHANNEL [channel, subscriber_id, secret?]`.
pub(crate) fn subscribe(
    server: &Server,
    peer: &mut Peer,
    channel: &str,
    subscriber: &str,
    secret: Option<String>,
) -> Result<(), Reject> {
    check_secret(
        server,
        peer,
        secret.as_deref(),
        "SUBSCRIBE_CHANNEL [channel, subscriber_id, secret]",
    )?;
    let ch: Channel = channel
        .parse()
        .map_err(|e: crate::protocol::channel::UnknownChannel| {
            Reject::new(ErrorCode::BadArgs, e.to_string())
        })?;
    make_internal(server, peer);
    if peer.subscribed.contains(&ch) {
        return Ok(());
    }
    peer.subscribed.push(ch);
    server
        .channels
        .add(ch, peer.conn_id, peer.outbox.clone(), peer.level);
    tracing::debug!(server = %server.addr, peer = %peer.addr, subscriber, channel = %ch, "subscribed");
    if ch == Channel::Monitor {
        // A new watcher gets a beat at once rather than after a whole period.
        let _ = peer.outbox.send(stats::beat_frame(server));
    }
    Ok(())
}

/// Checks a presented cluster secret: where the cluster has one, a missing (`usage` says
/// how to give it) or wrong secret is `FORBIDDEN`. Shared by `SUBSCRIBE_CHANNEL` and `AUTH`.
pub(crate) fn check_secret(
    server: &Server,
    peer: &Peer,
    secret: Option<&str>,
    usage: &str,
) -> Result<(), Reject> {
    let Some(want) = &server.cfg.common.secret else {
        return Ok(());
    };
    match secret {
        None => Err(Reject::new(
            ErrorCode::Forbidden,
            format!("this cluster needs its secret: {usage}"),
        )),
        Some(s) if !constant_time_eq(s.as_bytes(), want.as_bytes()) => {
            // Summed per source address, at most a line a minute: one connection sending
            // wrong secrets in a loop must not fill the disk with warnings.
            let key = format!("secret:{}", crate::auth::source_key(peer.addr.ip()));
            if let Some(n) = server.client_errors.failed(&key, std::time::Instant::now()) {
                tracing::warn!(server = %server.addr, peer = %peer.addr, refused = n, "refused: wrong cluster secret");
            }
            Err(Reject::new(ErrorCode::Forbidden, "wrong cluster secret"))
        }
        Some(_) => Ok(()),
    }
}

/// The connection presented the secret: it may send internal commands, and gets the larger
/// queue internal links need.
pub(crate) fn make_internal(server: &Server, peer: &mut Peer) {
    if !peer.internal {
        peer.internal = true;
        peer.outbox.set_limit(server.cfg.internal_queue);
        peer.outbox.set_byte_limit(server.cfg.internal_queue_bytes);
    }
}

/// Compares secrets without leaking through timing how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
