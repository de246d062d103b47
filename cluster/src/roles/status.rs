//! Request/answer connections, for roles whose listener answers a few commands: the
//! gateway (`REQ_MSG_SERVER`), and router and manager (`ROLE_STATUS`, for admins and the
//! monitor). Every role answers `HELLO`, `SYNC` and `SEND_PING` the same way.
//!
//! A connection is at the original level until its first frame is `HELLO` (see
//! [`crate::protocol::level`]): there it is sent only the original's frames, so a refusal
//! is counted and logged instead of answered `ERROR`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::accept::accept_loop;
use super::budget::Budget;
use super::hello;
use crate::outbox::Outbox;
use crate::protocol::command::clip;
use crate::protocol::level::{feature, is_hello};
use crate::protocol::{Command, ErrorCode, FrameCodec, FrameError, Level};

/// What these roles offer at the fishchat level.
const FEATURES: &[&str] = &[feature::SYNC, feature::ERRORS, feature::ROLE_STATUS];

/// What every connection of one listener shares: the role it serves, the frame limit, and
/// the count of frames from original-level connections dropped instead of answered `ERROR`
/// (its `ROLE_STATUS` shows it as `original_drops`).
#[derive(Clone)]
pub(crate) struct Listener {
    pub role: &'static str,
    pub max_frame: usize,
    drops: Arc<AtomicU64>,
    /// Log lines about dropped frames, a second, for all its connections together.
    reports: Arc<Budget>,
}

/// How many dropped frames one listener logs a second, at most.
const DROP_REPORTS_PER_SEC: u32 = 10;

impl Listener {
    pub fn new(role: &'static str, max_frame: usize) -> Listener {
        Listener {
            role,
            max_frame,
            drops: Arc::default(),
            reports: Arc::new(Budget::new(DROP_REPORTS_PER_SEC)),
        }
    }

    /// A frame from an original-level connection refused without a word: counted, and
    /// logged where the budget allows (`dropped`: this connection's count so far).
    fn dropped(&self, peer: Option<std::net::SocketAddr>, answer: &Command, dropped: u64) {
        self.drops.fetch_add(1, Ordering::Relaxed);
        if self.reports.take() {
            let answer = match answer {
                Command::Error { code, detail } => format!("{code} {}", clip(detail, 256)),
                other => other.name().to_string(),
            };
            tracing::info!(
                role = self.role,
                ?peer,
                answer,
                dropped,
                "original-level frame dropped"
            );
        }
    }

    /// `ROLE_STATUS_OK` with the role's `data`, and this listener's `original_drops` beside.
    pub fn role_status(&self, mut data: Value) -> Command {
        if let Some(map) = data.as_object_mut() {
            let drops = self.drops.load(Ordering::Relaxed);
            map.insert("original_drops".into(), drops.into());
        }
        Command::RoleStatusOk {
            role: self.role.into(),
            data,
        }
    }
}

/// How a handler answers one command.
pub(crate) enum Reply {
    Send(Command),
    /// Answer, then close the connection (the gateway after `SELECT_MSG_SERVER_FOR_CLIENT`).
    SendAndClose(Command),
    Nothing,
}

/// How long a finished connection may take to write its last frames.
pub(crate) const FINISH_GRACE: Duration = Duration::from_secs(5);

/// A connection silent this long is closed.
const IDLE: Duration = Duration::from_secs(100);

/// Answers that may wait for a client to read them, and their bytes.
const QUEUE: usize = 64;
const QUEUE_BYTES: usize = 8 * 1024 * 1024;

/// How long a full queue may go without a frame leaving it before the client is cut as
/// not reading.
const STALL: Duration = Duration::from_secs(10);

/// Reads commands from `stream` and answers each with `handler` until the peer closes,
/// the handler closes, or `cut` is cancelled.
pub(crate) async fn answer_loop<F>(
    stream: TcpStream,
    listener: &Listener,
    cut: CancellationToken,
    mut handler: F,
) where
    F: FnMut(Command) -> Reply,
{
    let peer = stream.peer_addr().ok();
    let (rd, wr) = stream.into_split();
    let outbox = Outbox::spawn(wr, QUEUE, cut.clone());
    outbox.set_byte_limit(QUEUE_BYTES);
    let mut frames = FramedRead::new(rd, FrameCodec::new(listener.max_frame));
    let mut level = Level::Original;
    let mut nth = 0u64;
    let mut dropped = 0u64;
    loop {
        let next = tokio::select! {
            _ = cut.cancelled() => break,
            n = tokio::time::timeout(IDLE, frames.next()) => n,
        };
        let reply = match next {
            Err(_) | Ok(None) | Ok(Some(Err(FrameError::Io(_)))) => break,
            Ok(Some(Err(FrameError::TooLong { len, max }))) => Reply::SendAndClose(Command::error(
                ErrorCode::FrameTooLong,
                format!("frame of {len} bytes is over the maximum of {max}; closing"),
            )),
            Ok(Some(Ok(body))) => {
                nth += 1;
                if nth == 1 && is_hello(&body) {
                    level = Level::Fishchat;
                }
                answer(listener.role, &body, level, nth, &mut handler)
            }
        };
        let (answer, close) = match reply {
            Reply::Send(c) => (Some(c), false),
            Reply::SendAndClose(c) => (Some(c), true),
            Reply::Nothing => (None, false),
        };
        if let Some(c) = answer {
            match c.to_frame_at(level) {
                Some(frame) => {
                    // A client that pipelines requests gets their answers at the pace it
                    // reads them; only one that stops reading (nothing leaves its queue for
                    // STALL) is cut.
                    if outbox.queued() + 1 >= QUEUE && !outbox.wait_room(QUEUE / 2, STALL).await {
                        break;
                    }
                    let _ = outbox.send(frame);
                }
                // What the original level has no frame for: an ERROR, dropped.
                None => {
                    dropped += 1;
                    listener.dropped(peer, &c, dropped);
                }
            }
        }
        if close {
            break;
        }
    }
    outbox.finish(FINISH_GRACE).await;
}

/// The reply to `body`, the `nth` frame of a connection at `level`: what every role answers
/// alike here, the rest by `handler`.
fn answer<F>(role: &str, body: &[u8], level: Level, nth: u64, handler: &mut F) -> Reply
where
    F: FnMut(Command) -> Reply,
{
    match Command::from_body_at(body, level) {
        Err(e) => Reply::Send(Command::error(e.code(), e.to_string())),
        Ok(Command::SendPing) | Ok(Command::Error { .. }) | Ok(Command::SyncDone { .. }) => {
            Reply::Nothing
        }
        Ok(Command::Hello { version, .. }) => match hello::answer(role, nth, version, FEATURES) {
            Ok(ok) => Reply::Send(ok),
            Err((code, detail)) => Reply::Send(Command::error(code, detail)),
        },
        Ok(Command::Sync { token }) => Reply::Send(Command::SyncDone { token }),
        Ok(c) => handler(c),
    }
}

/// The refusal for a command a role does not take.
pub(crate) fn wrong_role(role: &str, c: &Command) -> Reply {
    Reply::Send(Command::error(
        ErrorCode::WrongRole,
        format!("{} is not a command the {role} accepts", c.name()),
    ))
}

/// Serves `ROLE_STATUS` (answered with `status()`) on `listener` until `shutdown`.
pub(crate) async fn serve(
    listener: TcpListener,
    role: &'static str,
    max_frame: usize,
    status: Arc<dyn Fn() -> Value + Send + Sync>,
    shutdown: CancellationToken,
) {
    let tracker = TaskTracker::new();
    let shared = Listener::new(role, max_frame);
    accept_loop(listener, role, &shutdown, &tracker, |stream, _| {
        let status = status.clone();
        let shared = shared.clone();
        let cut = shutdown.child_token();
        async move {
            let answers = shared.clone();
            answer_loop(stream, &shared, cut, move |c| match c {
                Command::RoleStatus => Reply::Send(answers.role_status(status())),
                other => wrong_role(role, &other),
            })
            .await
        }
    })
    .await;
    super::drain(&tracker).await;
}

/// The end of a role's `run`: answers `ROLE_STATUS` on `listener` until `shutdown`, then
/// gives the role's own tasks `DRAIN_TIME` to finish.
pub(crate) async fn serve_then_drain(
    listener: TcpListener,
    role: &'static str,
    max_frame: usize,
    status: Arc<dyn Fn() -> Value + Send + Sync>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
) {
    let addr = listener.local_addr().ok();
    serve(listener, role, max_frame, status, shutdown).await;
    super::drain(&tracker).await;
    tracing::info!(addr = ?addr, "{role} stopped");
}
