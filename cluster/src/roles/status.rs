//! Request/answer connections, for roles whose listener answers a few commands: the
//! gateway (`REQ_MSG_SERVER`), and router and manager (`ROLE_STATUS`, for admins and the
//! monitor). Every role answers `SYNC` and `SEND_PING` the same way.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::accept::accept_loop;
use crate::outbox::Outbox;
use crate::protocol::{Command, ErrorCode, FrameCodec, FrameError};

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

/// Reads commands from `stream` and answers each with `handler` until the peer closes,
/// the handler closes, or `cut` is cancelled.
pub(crate) async fn answer_loop<F>(
    stream: TcpStream,
    max_frame: usize,
    cut: CancellationToken,
    mut handler: F,
) where
    F: FnMut(Command) -> Reply,
{
    let (rd, wr) = stream.into_split();
    let outbox = Outbox::spawn(wr, 64, cut.clone());
    let mut frames = FramedRead::new(rd, FrameCodec::new(max_frame));
    loop {
        let next = tokio::select! {
            _ = cut.cancelled() => break,
            n = tokio::time::timeout(IDLE, frames.next()) => n,
        };
        let body = match next {
            Err(_) | Ok(None) => break,
            Ok(Some(Err(FrameError::TooLong { len, max }))) => {
                let _ = outbox.send(
                    Command::error(
                        ErrorCode::FrameTooLong,
                        format!("frame of {len} bytes is over the maximum of {max}; closing"),
                    )
                    .to_frame(),
                );
                break;
            }
            Ok(Some(Err(FrameError::Io(_)))) => break,
            Ok(Some(Ok(b))) => b,
        };
        let reply = match Command::from_body(&body) {
            Err(e) => Reply::Send(Command::error(e.code(), e.to_string())),
            Ok(Command::SendPing) | Ok(Command::Error { .. }) | Ok(Command::SyncDone { .. }) => {
                Reply::Nothing
            }
            Ok(Command::Sync { token }) => Reply::Send(Command::SyncDone { token }),
            Ok(c) => handler(c),
        };
        match reply {
            Reply::Send(c) => {
                let _ = outbox.send(c.to_frame());
            }
            Reply::SendAndClose(c) => {
                let _ = outbox.send(c.to_frame());
                break;
            }
            Reply::Nothing => {}
        }
    }
    outbox.finish(FINISH_GRACE).await;
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
    accept_loop(listener, role, &shutdown, &tracker, |stream, _| {
        let status = status.clone();
        answer_loop(
            stream,
            max_frame,
            shutdown.child_token(),
            move |c| match c {
                Command::RoleStatus => Reply::Send(Command::RoleStatusOk {
                    role: role.into(),
                    data: status(),
                }),
                other => wrong_role(role, &other),
            },
        )
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
