//! Refusing a command. At the fishchat level the client is answered `ERROR`. At the original
//! level it is sent nothing (the original's clients take any frame for a message, and crash
//! on ours): the refusal is counted (`original_drops`), logged and published as
//! `FRAME_DROPPED` on `/sysctrl/client-status`, at most once a second per connection and
//! [`super::server::Server::drop_reports`] a second in all, each report saying how many
//! frames it stands for. Reports quote at most a few hundred bytes of what the client sent.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::peer::{Peer, Reject};
use super::server::Server;
use crate::protocol::command::clip;
use crate::protocol::events::DropEvent;
use crate::protocol::{Channel, Command, Level, LevelFrames};

/// How often one connection's dropped frames are reported, at most.
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// Refuses a command `peer` sent (`cmd`, where the frame named one): `ERROR` or, at the
/// original level, a report.
pub(crate) fn refuse(server: &Server, peer: &Peer, cmd: Option<&str>, reject: Reject) {
    match peer.level {
        Level::Fishchat => {
            tracing::debug!(conn = peer.conn_id, peer = %peer.addr, code = %reject.code, detail = %reject.detail, "rejected");
            peer.send(&reject.to_command());
        }
        Level::Original => dropped(server, peer, cmd, &reject, false),
    }
}

/// An original-level client that cannot be served at all (a frame over the limit, a login
/// refused): reported, then disconnected without a word.
pub(crate) fn close_original(server: &Server, peer: &Peer, cmd: Option<&str>, reject: Reject) {
    dropped(server, peer, cmd, &reject, true);
    peer.ended.store(true, Ordering::Relaxed);
    peer.outbox.cut();
}

/// The connection is ending: reports the drops not reported yet.
pub(crate) fn report_left(server: &Server, peer: &Peer) {
    let (left, code) = {
        let mut d = lock(peer);
        (std::mem::take(&mut d.unreported), d.last_code)
    };
    if let (true, Some(code)) = (left > 0, code) {
        let detail = "frames dropped since the last report, as the connection ended";
        report(server, peer, None, &Reject::new(code, detail), left, false);
    }
}

fn lock(peer: &Peer) -> std::sync::MutexGuard<'_, super::peer::Dropped> {
    peer.dropped.lock().unwrap_or_else(|p| p.into_inner())
}

fn dropped(server: &Server, peer: &Peer, cmd: Option<&str>, reject: &Reject, closed: bool) {
    server.stats.original_drops.fetch_add(1, Ordering::Relaxed);
    let count = {
        let mut d = lock(peer);
        d.unreported += 1;
        d.last_code = Some(reject.code);
        let due = closed || d.last_report.is_none_or(|t| t.elapsed() >= REPORT_EVERY);
        // The server's budget is taken last, only by a report that is due.
        if !due || !server.drop_reports.take() {
            return;
        }
        d.last_report = Some(Instant::now());
        std::mem::take(&mut d.unreported)
    };
    report(server, peer, cmd, reject, count, closed);
}

fn report(
    server: &Server,
    peer: &Peer,
    cmd: Option<&str>,
    reject: &Reject,
    count: u64,
    closed: bool,
) {
    let client = peer.session.as_ref().map(|s| s.id.as_str()).unwrap_or("");
    let code = reject.code;
    // The refusals quote little of what the client sent; this keeps it so.
    let detail = clip(&reject.detail, 256);
    let detail = detail.as_str();
    tracing::info!(server = %server.addr, conn = peer.conn_id, peer = %peer.addr, client, cmd = cmd.unwrap_or(""), %code, detail, dropped = count, closed, "original-level frame dropped");
    if !server.channels.has(Channel::ClientStatus) {
        return;
    }
    let event = DropEvent {
        client_id: client.to_string(),
        client_addr: peer.addr.to_string(),
        msg_server_addr: server.addr.clone(),
        id: peer.conn_id.to_string(),
        cmd: cmd.unwrap_or("").to_string(),
        detail: detail.to_string(),
        dropped: count,
        closed,
    };
    server.publish(
        Channel::ClientStatus,
        LevelFrames::of(Command::FrameDropped {
            code,
            data: serde_json::to_value(event).unwrap_or_default(),
        }),
    );
}
