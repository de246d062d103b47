//! Requests and their answers: every request is followed by a `SYNC`, and its [`Ticket`]
//! resolves when the matching `SYNC_DONE` arrives.
//!
//! A server acts on one connection's commands in order, so whatever it answers to a
//! request (an `ERROR`, an answer such as `ROLE_STATUS_OK`) arrives after the `SYNC_DONE`
//! of the request before it and before its own. The connection's read loop
//! ([`super::read_loop`]) hands every incoming command to [`Pending::take`] first: answers
//! and errors go to the oldest request still waiting, the `SYNC_DONE` resolves it, and
//! everything else (messages, receipts, channel events) goes on as an event.
//!
//! An answer is resolved as soon as the read loop sees it, whether or not the events before
//! it were read yet; [`Ticket::answered`] says how many events came before it, for a caller
//! that handles answers and events in the order the server sent them (the chat client).
//!
//! This is the one place answers are matched to requests; the typed calls in
//! [`super::calls`] are built on it.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;

use super::ClientError;
use crate::outbox::Outbox;
use crate::protocol::{Command, ErrorCode};

/// What a request came to: the answer the server sent for it, if it sends one for that
/// command, or the `ERROR` that belongs to it (as [`ClientError::Server`]).
pub type Outcome = Result<Option<Command>, ClientError>;

/// An outcome, and how many events the connection had delivered before it.
#[derive(Debug)]
pub struct Answered {
    pub outcome: Outcome,
    /// Events that came before this answer on the wire: once [`super::Client::events_read`]
    /// reaches this, every event sent before the answer has been read.
    pub after_events: u64,
}

/// One request still waiting for its `SYNC_DONE`.
struct Waiting {
    token: String,
    answer: Option<Command>,
    error: Option<(ErrorCode, String)>,
    tx: oneshot::Sender<Answered>,
}

impl Waiting {
    fn resolve(self, after_events: u64) {
        let outcome = match self.error {
            Some((code, detail)) => Err(ClientError::Server { code, detail }),
            None => Ok(self.answer),
        };
        // The caller may have given up waiting; nothing more to do then.
        let _ = self.tx.send(Answered {
            outcome,
            after_events,
        });
    }
}

/// The requests of one connection that are waiting for their answers, oldest first.
#[derive(Default)]
pub(crate) struct Pending {
    queue: Mutex<VecDeque<Waiting>>,
    next_token: AtomicU64,
}

/// Commands that answer a request, as opposed to arriving on their own.
fn is_answer(cmd: &Command) -> bool {
    matches!(
        cmd,
        Command::HelloOk { .. }
            | Command::RoleStatusOk { .. }
            | Command::InspectResult { .. }
            | Command::SelectMsgServerForClient { .. }
            | Command::LocateTopicMsgAddr { .. }
            | Command::RegisterOk { .. }
            | Command::LoginOk { .. }
            | Command::DeviceList { .. }
            | Command::AccountInfo { .. }
            | Command::TopicMemberList { .. }
    )
}

impl Pending {
    fn queue(&self) -> MutexGuard<'_, VecDeque<Waiting>> {
        // Nothing panics while holding it: a poisoned queue would be a bug of ours.
        self.queue
            .lock()
            .expect("the pending queue is never poisoned")
    }

    /// Queues `cmd` (if any) and a `SYNC` on `outbox`, and returns the ticket for them.
    /// The queue is held while both go out, so the order of waiting requests is the
    /// order of their frames on the wire, whichever task sends.
    pub(crate) fn send(
        &self,
        outbox: &Outbox,
        cmd: Option<&Command>,
        timeout: Duration,
    ) -> Result<Ticket, ClientError> {
        let token = format!(
            "sync-{}",
            self.next_token.fetch_add(1, Ordering::Relaxed) + 1
        );
        let (tx, rx) = oneshot::channel();
        let mut queue = self.queue();
        if let Some(cmd) = cmd {
            outbox
                .send(cmd.to_frame())
                .map_err(|_| ClientError::Closed)?;
        }
        outbox
            .send(
                Command::Sync {
                    token: token.clone(),
                }
                .to_frame(),
            )
            .map_err(|_| ClientError::Closed)?;
        queue.push_back(Waiting {
            token,
            answer: None,
            error: None,
            tx,
        });
        Ok(Ticket { rx, timeout })
    }

    /// Takes what belongs to a waiting request; gives back what is an event of its own.
    /// `events` is how many events the connection has delivered so far.
    pub(crate) fn take(&self, cmd: Command, events: u64) -> Option<Command> {
        let mut queue = self.queue();
        match cmd {
            Command::SyncDone { token } => {
                let Some(pos) = queue.iter().position(|w| w.token == token) else {
                    // Not one of ours (a raw `SYNC` sent with `ClientSender::send`).
                    return Some(Command::SyncDone { token });
                };
                // Answers come in order: anything older was answered too.
                for older in queue.drain(..pos) {
                    tracing::warn!(token = %older.token, "a SYNC answered out of order");
                    older.resolve(events);
                }
                if let Some(w) = queue.pop_front() {
                    w.resolve(events);
                }
                None
            }
            Command::Error { code, detail } => match queue.front_mut() {
                Some(w) if w.error.is_none() => {
                    w.error = Some((code, detail));
                    None
                }
                _ => Some(Command::Error { code, detail }),
            },
            cmd if is_answer(&cmd) => match queue.front_mut() {
                Some(w) if w.answer.is_none() => {
                    w.answer = Some(cmd);
                    None
                }
                _ => Some(cmd),
            },
            other => Some(other),
        }
    }

    /// The connection has ended: every waiting request resolves. One that was answered
    /// already (the gateway closes right after naming a msg_server) gets its answer.
    pub(crate) fn close(&self, events: u64) {
        let mut queue = self.queue();
        for w in queue.drain(..) {
            if w.answer.is_some() || w.error.is_some() {
                w.resolve(events);
            } else {
                let _ = w.tx.send(Answered {
                    outcome: Err(ClientError::Closed),
                    after_events: events,
                });
            }
        }
    }
}

/// A request on its way: resolves to its [`Outcome`]. As a future it waits as long as it
/// takes; [`Ticket::answer`] waits for the client's request timeout at most.
#[must_use = "a ticket does nothing unless awaited"]
pub struct Ticket {
    rx: oneshot::Receiver<Answered>,
    timeout: Duration,
}

impl Ticket {
    /// The outcome with its place among the connection's events; waits as long as it
    /// takes (the caller keeps its own deadline).
    pub async fn answered(&mut self) -> Answered {
        (&mut self.rx).await.unwrap_or(Answered {
            outcome: Err(ClientError::Closed),
            after_events: u64::MAX,
        })
    }

    /// The outcome, within the client's request timeout.
    pub async fn answer(self) -> Outcome {
        let timeout = self.timeout;
        tokio::time::timeout(timeout, self)
            .await
            .unwrap_or(Err(ClientError::Timeout(timeout)))
    }

    /// Waits until the request was acted on; its answer, if any, is dropped.
    pub async fn done(self) -> Result<(), ClientError> {
        self.answer().await.map(drop)
    }
}

impl Future for Ticket {
    type Output = Outcome;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.map_or(Err(ClientError::Closed), |a| a.outcome))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_util::sync::CancellationToken;

    fn outbox() -> Outbox {
        Outbox::spawn(tokio::io::sink(), usize::MAX, CancellationToken::new())
    }

    fn sync_done(n: u64) -> Command {
        Command::SyncDone {
            token: format!("sync-{n}"),
        }
    }

    #[tokio::test]
    async fn answers_and_errors_go_to_the_oldest_waiting_request() {
        let (p, out) = (Pending::default(), outbox());
        let t = Duration::from_secs(1);
        let first = p.send(&out, Some(&Command::RoleStatus), t).unwrap();
        let second = p.send(&out, Some(&Command::SendPing), t).unwrap();
        let third = p.send(&out, None, t).unwrap();

        let status = Command::RoleStatusOk {
            role: "router".into(),
            data: serde_json::json!({}),
        };
        assert_eq!(p.take(status.clone(), 0), None);
        assert_eq!(p.take(sync_done(1), 0), None);
        let error = Command::error(ErrorCode::BadArgs, "no");
        assert_eq!(p.take(error, 0), None);
        // A second error before the answer is not this request's: it is an event.
        let again = Command::error(ErrorCode::Unavailable, "later");
        assert_eq!(p.take(again.clone(), 0), Some(again));
        // A message is never an answer.
        let msg = Command::SendPing;
        assert_eq!(p.take(msg.clone(), 1), Some(msg));
        assert_eq!(p.take(sync_done(2), 1), None);
        assert_eq!(p.take(sync_done(3), 1), None);

        let mut first = first;
        let answered = first.answered().await;
        assert_eq!(answered.after_events, 0);
        assert_eq!(answered.outcome.unwrap(), Some(status));
        assert_eq!(
            second.answer().await.unwrap_err().code(),
            Some(ErrorCode::BadArgs)
        );
        let mut third = third;
        let answered = third.answered().await;
        // The message came before its answer.
        assert_eq!(answered.after_events, 1);
        assert_eq!(answered.outcome.unwrap(), None);
    }

    #[tokio::test]
    async fn a_later_sync_done_answers_the_older_ones_too() {
        let (p, out) = (Pending::default(), outbox());
        let t = Duration::from_secs(1);
        let first = p.send(&out, None, t).unwrap();
        let second = p.send(&out, None, t).unwrap();
        assert_eq!(p.take(sync_done(2), 1), None);
        assert_eq!(first.answer().await.unwrap(), None);
        assert_eq!(second.answer().await.unwrap(), None);
        // Not ours: an event.
        assert_eq!(p.take(sync_done(9), 0), Some(sync_done(9)));
    }

    #[tokio::test]
    async fn closing_answers_what_was_answered_and_fails_the_rest() {
        let (p, out) = (Pending::default(), outbox());
        let t = Duration::from_secs(1);
        let located = p.send(&out, Some(&Command::ReqMsgServer), t).unwrap();
        let waiting = p.send(&out, None, t).unwrap();
        let answer = Command::SelectMsgServerForClient {
            addr: "127.0.0.1:1".into(),
        };
        assert_eq!(p.take(answer.clone(), 0), None);
        p.close(0);
        assert_eq!(located.answer().await.unwrap(), Some(answer));
        assert!(matches!(waiting.answer().await, Err(ClientError::Closed)));
    }

    #[tokio::test]
    async fn an_unanswered_ticket_times_out() {
        let (p, out) = (Pending::default(), outbox());
        let t = p.send(&out, None, Duration::from_millis(20)).unwrap();
        assert!(matches!(t.answer().await, Err(ClientError::Timeout(_))));
    }
}
