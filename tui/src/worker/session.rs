//! One logged-in connection: requests sent with their tickets, answers and events turned
//! into [`Update`]s in the order the server sent them, the heartbeat, and what is reported
//! when the connection ends.

use std::collections::VecDeque;
use std::time::Duration;

use fishchat_cluster::client::{
    Answered, Client, ClientError, ClientSender, Event, Outcome, Ticket,
};
use fishchat_cluster::protocol::{Command, ErrorCode};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::config::WorkerConfig;
use crate::net::{Request, Update};

/// How a session ended.
pub(super) enum End {
    /// The UI is gone.
    Stopped,
    /// The UI asked for a new connection.
    Reconnect,
    Lost(String),
}

/// What a request we sent stands for.
#[derive(Debug)]
enum Op {
    Send {
        uuid: String,
    },
    /// A command the user typed: `what` as typed (for a refusal), `ok` what its success
    /// tells the UI.
    Command {
        what: String,
        ok: Success,
    },
    Ack {
        uuid: String,
    },
    Ping,
}

/// What a command's success tells the UI.
#[derive(Debug)]
enum Success {
    /// This, whatever the answer.
    Say(Update),
    /// The `DEVICE_LIST` that answers it.
    Devices,
    /// The `TOPIC_MEMBER_LIST` that answers it.
    Members,
}

/// A request as the user typed it, for what the UI says of it: "/join rust".
pub(super) fn typed(r: &Request) -> String {
    match r {
        Request::SendP2p { to, .. } => format!("a message to {to}"),
        Request::SendTopic { topic, .. } => format!("a message to #{topic}"),
        Request::Create {
            topic,
            invite_only: false,
        } => format!("/create {topic}"),
        Request::Create {
            topic,
            invite_only: true,
        } => format!("/create {topic} invite"),
        Request::Join { topic } => format!("/join {topic}"),
        Request::Invite { topic, id } => format!("/invite {id} (#{topic})"),
        Request::Kick { topic, id } => format!("/kick {id} (#{topic})"),
        Request::Leave { topic } => format!("/leave #{topic}"),
        Request::Members { topic } => format!("/members #{topic}"),
        Request::Devices => "/devices".into(),
        Request::Revoke { device_id } => format!("/revoke {device_id}"),
        Request::Passwd { .. } => "/passwd".into(),
        Request::Logout => "/logout".into(),
        Request::Ack { uuid } => format!("acknowledging {uuid}"),
        Request::Reconnect => "reconnecting".into(),
    }
}

/// One logged-in connection.
pub(super) struct Session<'a> {
    cfg: &'a WorkerConfig,
    client: Client,
    sender: ClientSender,
    tx: &'a mpsc::UnboundedSender<Update>,
    /// Our requests not yet answered, oldest first, with when each was sent. The server
    /// answers them in order; one whose send failed has no ticket.
    ops: VecDeque<(Op, Instant, Option<Ticket>)>,
    /// What the server said when it signed this session out (`ERROR AUTH_REQUIRED
    /// "signed out: ..."`, just before it closes the connection).
    signed_out: Option<String>,
}

impl<'a> Session<'a> {
    pub(super) fn new(
        cfg: &'a WorkerConfig,
        client: Client,
        tx: &'a mpsc::UnboundedSender<Update>,
    ) -> Session<'a> {
        Session {
            cfg,
            sender: client.sender(),
            client,
            tx,
            ops: VecDeque::new(),
            signed_out: None,
        }
    }

    /// Why the server signed this session out, where it did.
    pub(super) fn signed_out(&self) -> Option<String> {
        self.signed_out.clone()
    }

    fn say(&self, u: Update) {
        let _ = self.tx.send(u);
    }

    pub(super) async fn run(&mut self, rx: &mut mpsc::UnboundedReceiver<Request>) -> End {
        let mut heartbeat = tokio::time::interval(self.cfg.heartbeat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let end = loop {
            let deadline = self
                .ops
                .front()
                .map(|(_, at, _)| *at + self.cfg.answer_timeout);
            let oldest = oldest_answer(&mut self.ops);
            tokio::select! {
                // An answer that is in is taken before the events after it: the UI hears
                // answers and events in the order the server sent them.
                biased;
                answered = oldest => {
                    // What the server sent before the answer is heard first, as it was sent.
                    let mut lost = None;
                    while self.client.events_read() < answered.after_events {
                        match self.client.next_event().await {
                            None => lost = Some("the connection closed".to_string()),
                            Some(Event::Closed { reason }) => lost = Some(reason),
                            Some(ev) => self.on_event(ev),
                        }
                        if lost.is_some() {
                            break;
                        }
                    }
                    self.answered(answered.outcome);
                    if let Some(reason) = lost {
                        break End::Lost(reason);
                    }
                }
                ev = self.client.next_event() => match ev {
                    None => break End::Lost("the connection closed".into()),
                    Some(Event::Closed { reason }) => break End::Lost(reason),
                    Some(ev) => self.on_event(ev),
                },
                r = rx.recv() => match r {
                    None => {
                        self.goodbye().await;
                        return End::Stopped;
                    }
                    Some(Request::Reconnect) => break End::Reconnect,
                    Some(req) => {
                        if self.on_request(req).is_err() {
                            break End::Lost("the connection closed".into());
                        }
                    }
                },
                _ = heartbeat.tick() => {
                    let ticket = self.sender.sync();
                    if self.op(Op::Ping, ticket).is_err() {
                        break End::Lost("the connection closed".into());
                    }
                }
                _ = sleep_until(deadline), if deadline.is_some() => {
                    break End::Lost(format!(
                        "{} did not answer for {:?}",
                        self.client.server(),
                        self.cfg.answer_timeout
                    ));
                }
            }
        };
        self.client.disconnect();
        let why = match &end {
            End::Lost(r) => r.clone(),
            _ => "reconnecting".to_string(),
        };
        for (op, _, _) in std::mem::take(&mut self.ops) {
            match op {
                Op::Send { uuid } => self.say(Update::NotSent { uuid }),
                Op::Command { what, .. } => self.say(Update::Refused {
                    what,
                    error: format!("the connection was lost before an answer ({why}); try again"),
                }),
                Op::Ack { .. } | Op::Ping => {}
            }
        }
        end
    }

    fn on_request(&mut self, req: Request) -> Result<(), ()> {
        let id = Some(self.cfg.id.clone());
        let what = typed(&req);
        let command = |ok: Success| Op::Command {
            what: what.clone(),
            ok,
        };
        let (cmd, op) = match req {
            Request::SendP2p { to, text, uuid } => (
                Command::SendMessageP2p {
                    to,
                    msg: text,
                    from: id,
                    uuid: Some(uuid.clone()),
                    sent_at_ms: None,
                },
                Op::Send { uuid },
            ),
            Request::SendTopic { topic, text, uuid } => (
                Command::SendMessageTopic {
                    topic,
                    msg: text,
                    from: id,
                    uuid: Some(uuid.clone()),
                },
                Op::Send { uuid },
            ),
            Request::Create { topic, invite_only } => (
                Command::CreateTopic {
                    topic: topic.clone(),
                    invite_only,
                },
                command(Success::Say(Update::Created { topic, invite_only })),
            ),
            Request::Join { topic } => (
                Command::JoinTopic {
                    topic: topic.clone(),
                    id: self.cfg.id.clone(),
                },
                command(Success::Say(Update::Joined { topic })),
            ),
            Request::Invite { topic, id } => (
                Command::InviteTopic {
                    topic: topic.clone(),
                    id: id.clone(),
                },
                command(Success::Say(Update::Invited { topic, id })),
            ),
            Request::Kick { topic, id } => (
                Command::KickTopic {
                    topic: topic.clone(),
                    id: id.clone(),
                },
                command(Success::Say(Update::Kicked { topic, id })),
            ),
            Request::Leave { topic } => (
                Command::LeaveTopic {
                    topic: topic.clone(),
                },
                command(Success::Say(Update::Left { topic })),
            ),
            Request::Members { topic } => {
                (Command::TopicMembers { topic }, command(Success::Members))
            }
            Request::Devices => (Command::Devices, command(Success::Devices)),
            Request::Revoke { device_id } => (
                Command::Revoke {
                    device_id: device_id.clone(),
                },
                command(Success::Say(Update::Revoked { device_id })),
            ),
            Request::Passwd {
                old,
                new,
                keep_devices,
            } => (
                Command::Passwd {
                    old,
                    new,
                    keep_devices,
                },
                command(Success::Say(Update::PasswordChanged {
                    kept_devices: keep_devices,
                })),
            ),
            Request::Logout => (Command::Logout, command(Success::Say(Update::LoggedOut))),
            Request::Ack { uuid } => (
                Command::P2pAck {
                    id: self.cfg.id.clone(),
                    uuid: uuid.clone(),
                },
                Op::Ack { uuid },
            ),
            Request::Reconnect => return Ok(()),
        };
        let ticket = self.sender.request(&cmd);
        self.op(op, ticket)
    }

    /// Keeps `op` until it is answered. One whose request could not be sent is kept too,
    /// so that it is reported as not sent along with the rest when the session ends.
    fn op(&mut self, op: Op, ticket: Result<Ticket, ClientError>) -> Result<(), ()> {
        let (ticket, sent) = match ticket {
            Ok(t) => (Some(t), Ok(())),
            Err(_) => (None, Err(())),
        };
        self.ops.push_back((op, Instant::now(), ticket));
        sent
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::P2p(m) => self.say(Update::P2p(m)),
            Event::Topic(m) => self.say(Update::Topic(m)),
            Event::Delivered { uuid, to } => self.say(Update::Delivered { uuid, to }),
            // The server is about to close the connection: the worker says why once the
            // next login shows whether it is for good.
            Event::Error {
                code: ErrorCode::SignedOut,
                detail,
            } => {
                tracing::info!(%detail, "signed out by the server");
                self.signed_out = Some(detail);
            }
            // Errors that answer a request go to its ticket: this one belongs to none.
            Event::Error { code, detail } => self.say(Update::Error {
                text: describe(code, &detail),
            }),
            Event::TopicLocated { addr, topic } => {
                tracing::debug!(%topic, home = %addr, "topic located")
            }
            Event::Beat(_) => {}
            // By name only: an answer that came too late may hold a token.
            Event::Command(c) => tracing::debug!(cmd = c.name(), "ignored"),
            other => tracing::debug!(event = ?other, "ignored"),
        }
    }

    /// The oldest request was answered.
    fn answered(&mut self, outcome: Outcome) {
        let Some((op, at, _)) = self.ops.pop_front() else {
            return;
        };
        let (answer, error) = match outcome {
            Ok(answer) => (answer, None),
            Err(ClientError::Server { code, detail }) => (None, Some(describe(code, &detail))),
            // The connection is ending: the read of its events says why, and what is
            // still waiting is reported then.
            Err(e) => {
                tracing::debug!(?op, error = %e, "no answer");
                self.ops.push_front((op, at, None));
                return;
            }
        };
        let u = match (op, error) {
            (Op::Send { uuid }, None) => Update::Sent { uuid },
            (Op::Send { uuid }, Some(error)) => Update::SendFailed { uuid, error },
            (Op::Command { what, ok }, None) => match succeeded(ok, answer) {
                Ok(u) => u,
                Err(error) => Update::Refused { what, error },
            },
            (Op::Command { what, .. }, Some(error)) => Update::Refused { what, error },
            (Op::Ack { uuid }, Some(error)) => Update::Error {
                text: format!("acknowledging {uuid}: {error}"),
            },
            (Op::Ack { .. }, None) => return,
            (Op::Ping, None) => Update::Rtt(at.elapsed()),
            (Op::Ping, Some(text)) => Update::Error { text },
        };
        self.say(u);
    }

    /// The UI is gone: make sure the server has what was sent (acks above all), then close.
    async fn goodbye(&mut self) {
        if let Ok(ticket) = self.sender.sync() {
            let _ = tokio::time::timeout(Duration::from_secs(1), ticket).await;
        }
        self.sender.close();
    }
}

/// What a command that succeeded tells the UI, read from its answer where it has one.
fn succeeded(ok: Success, answer: Option<Command>) -> Result<Update, String> {
    let unreadable = |what: &str, e: serde_json::Error| {
        format!("the server's {what} is unreadable ({e}); is it the same fishchat version?")
    };
    match (ok, answer) {
        (Success::Say(u), _) => Ok(u),
        (Success::Devices, Some(Command::DeviceList { data, .. })) => serde_json::from_value(data)
            .map(Update::Devices)
            .map_err(|e| unreadable("DEVICE_LIST", e)),
        (Success::Members, Some(Command::TopicMemberList { data, .. })) => {
            serde_json::from_value(data)
                .map(Update::Members)
                .map_err(|e| unreadable("TOPIC_MEMBER_LIST", e))
        }
        (_, other) => Err(format!(
            "the server answered {}",
            other.map_or("nothing", |c| c.name())
        )),
    }
}

/// The outcome of the oldest request still waiting; never resolves while none waits (or
/// while the oldest could not be sent: the session is ending then).
async fn oldest_answer(ops: &mut VecDeque<(Op, Instant, Option<Ticket>)>) -> Answered {
    match ops.front_mut() {
        Some((_, _, Some(ticket))) => ticket.answered().await,
        _ => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// An `ERROR` for people: what the code means, then the server's detail.
pub fn describe(code: ErrorCode, detail: &str) -> String {
    let what = match code {
        ErrorCode::NoSuchTopic => "no such topic",
        ErrorCode::TopicExists => "that topic exists already",
        ErrorCode::Forbidden => "not allowed",
        ErrorCode::Unavailable => "the server cannot do that now; try again later",
        ErrorCode::NotLoggedIn => "not logged in",
        ErrorCode::BadArgs => "the server refused the arguments",
        ErrorCode::AuthFailed => "wrong password",
        ErrorCode::AuthRequired => "this needs an account",
        ErrorCode::RateLimited => "too many tries",
        ErrorCode::NoSuchDevice => "no such device",
        ErrorCode::NoSuchAccount => "no such account",
        ErrorCode::IdTaken => "that id has an account already",
        _ => "",
    };
    match (what, detail.is_empty()) {
        ("", true) => code.to_string(),
        ("", false) => format!("{code}: {detail}"),
        (w, true) => format!("{w} ({code})"),
        (w, false) => format!("{w} ({code}: {detail})"),
    }
}
