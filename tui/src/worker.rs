//! The network worker: one task that owns the connection, so the UI never awaits the
//! network.
//!
//! The UI sends [`Request`]s (never blocking: the channel is unbounded) and reads
//! [`Update`]s. The worker finds a msg_server through the gateway, logs in, and keeps the
//! session: every request is followed by a `SYNC`, so each `ERROR` is matched to the
//! request that caused it, and each send is confirmed ([`Update::Sent`]) or refused
//! ([`Update::SendFailed`]). A `SYNC` every [`WorkerConfig::heartbeat`] measures the round
//! trip and keeps the session alive; a connection that stops answering is dropped. When
//! the connection is lost the worker says so and reconnects with backoff.
//!
//! Every [`Request::SendP2p`] and [`Request::SendTopic`] gets exactly one answer:
//! [`Update::Sent`], [`Update::SendFailed`], or [`Update::NotSent`] (the connection was lost
//! first; the UI sends it again after the next [`Update::Connected`]).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use fishchat_cluster::client::{
    Answered, Client, ClientError, ClientSender, Event, Outcome, Ticket,
};
use fishchat_cluster::discovery::ClusterFile;
use fishchat_cluster::protocol::{Command, ErrorCode};
use rand::Rng;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::net::{Request, Update};

/// Where to find the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A gateway's address.
    Gateway(String),
    /// A `cluster.json` as `fishchat up` writes it; read again at every connection attempt,
    /// so a cluster restarted on other ports is found.
    ClusterFile(PathBuf),
}

impl Target {
    /// For the status line: "gateway 127.0.0.1:17000".
    pub fn describe(&self) -> String {
        match self {
            Target::Gateway(a) => format!("gateway {a}"),
            Target::ClusterFile(p) => format!("the cluster in {}", p.display()),
        }
    }
}

/// How the worker connects and keeps the connection.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub id: String,
    pub target: Target,
    /// How often to measure the round trip (and so keep the session alive).
    pub heartbeat: Duration,
    /// A connection that leaves a request unanswered this long is given up and reconnected.
    pub answer_timeout: Duration,
    /// The first wait before reconnecting; it doubles at each failure, up to `backoff_max`.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl WorkerConfig {
    pub fn new(id: impl Into<String>, target: Target) -> WorkerConfig {
        WorkerConfig {
            id: id.into(),
            target,
            heartbeat: Duration::from_secs(20),
            answer_timeout: Duration::from_secs(15),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(15),
        }
    }

    /// The wait before attempt `failures + 1`: doubling, capped, with ±20 % jitter so many
    /// clients cut at once do not come back at once.
    pub fn backoff(&self, failures: u32) -> Duration {
        let base = self
            .backoff_min
            .saturating_mul(1u32 << failures.min(16))
            .min(self.backoff_max);
        base.mul_f64(rand::rng().random_range(0.8..1.2))
    }
}

/// The running worker. Dropping it (or [`Worker::stop`]) ends the session.
pub struct Worker {
    requests: mpsc::UnboundedSender<Request>,
    /// Read by the UI loop.
    pub updates: mpsc::UnboundedReceiver<Update>,
    task: JoinHandle<()>,
}

impl Worker {
    /// Starts the worker on the current tokio runtime.
    pub fn spawn(cfg: WorkerConfig) -> Worker {
        let (requests, rx) = mpsc::unbounded_channel();
        let (tx, updates) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(cfg, rx, tx));
        Worker {
            requests,
            updates,
            task,
        }
    }

    /// Hands a request to the worker; never waits.
    pub fn request(&self, r: Request) {
        if self.requests.send(r).is_err() {
            tracing::warn!("the network worker has stopped; a request was dropped");
        }
    }

    /// Ends the session once the requests already handed over are sent, waiting at most
    /// `grace` for the server to take them.
    pub async fn stop(self, grace: Duration) {
        let Worker {
            requests, mut task, ..
        } = self;
        drop(requests);
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            tracing::warn!(?grace, "the network worker did not stop in time");
            task.abort();
        }
    }
}

async fn run(
    cfg: WorkerConfig,
    mut rx: mpsc::UnboundedReceiver<Request>,
    tx: mpsc::UnboundedSender<Update>,
) {
    let say = |u: Update| {
        let _ = tx.send(u);
    };
    let mut failures = 0u32;
    loop {
        say(Update::Connecting {
            via: cfg.target.describe(),
            attempt: failures + 1,
        });
        let reason = match connect(&cfg).await {
            Ok(client) => {
                failures = 0;
                tracing::info!(server = client.server(), id = %cfg.id, "connected");
                say(Update::Connected {
                    server: client.server().to_string(),
                });
                let mut session = Session::new(&cfg, client, &tx);
                match session.run(&mut rx).await {
                    End::Stopped => return,
                    End::Reconnect => continue,
                    End::Lost(reason) => reason,
                }
            }
            Err(reason) => {
                failures = failures.saturating_add(1);
                reason
            }
        };
        let retry_in = cfg.backoff(failures);
        tracing::info!(%reason, ?retry_in, "disconnected");
        say(Update::Disconnected {
            reason: reason.clone(),
            retry_in,
        });
        // Wait, answering requests as a disconnected client must.
        let wake = tokio::time::sleep(retry_in);
        tokio::pin!(wake);
        loop {
            tokio::select! {
                _ = &mut wake => break,
                r = rx.recv() => match r {
                    None => return,
                    Some(Request::Reconnect) => break,
                    Some(Request::SendP2p { uuid, .. } | Request::SendTopic { uuid, .. }) => {
                        say(Update::NotSent { uuid })
                    }
                    Some(Request::Create { topic }) => say(Update::Refused {
                        what: format!("/create {topic}"),
                        error: format!("not connected ({reason})"),
                    }),
                    Some(Request::Join { topic }) => say(Update::Refused {
                        what: format!("/join {topic}"),
                        error: format!("not connected ({reason})"),
                    }),
                    // The message stays in the inbox and comes back at the next login.
                    Some(Request::Ack { .. }) => {}
                },
            }
        }
    }
}

/// Finds a msg_server and logs in.
async fn connect(cfg: &WorkerConfig) -> Result<Client, String> {
    let gateway = match &cfg.target {
        Target::Gateway(a) => a.clone(),
        Target::ClusterFile(p) if !p.exists() => {
            return Err(format!(
                "no cluster file at {}: is `fishchat up` running? (or pass --gateway ADDR)",
                p.display()
            ))
        }
        Target::ClusterFile(p) => ClusterFile::read(p).map_err(|e| e.to_string())?.gateway,
    };
    let addr = Client::locate(&gateway)
        .await
        .map_err(|e| format!("gateway {gateway}: {e}"))?;
    let mut client = Client::connect(&addr).await.map_err(|e| e.to_string())?;
    client
        .login(&cfg.id)
        .await
        .map_err(|e| format!("login as {} at {addr}: {e}", cfg.id))?;
    Ok(client)
}

/// How a session ended.
enum End {
    /// The UI is gone.
    Stopped,
    /// The UI asked for a new connection.
    Reconnect,
    Lost(String),
}

/// What a request we sent stands for.
#[derive(Debug)]
enum Op {
    Send { uuid: String },
    Create { topic: String },
    Join { topic: String },
    Ack { uuid: String },
    Ping,
}

/// One logged-in connection.
struct Session<'a> {
    cfg: &'a WorkerConfig,
    client: Client,
    sender: ClientSender,
    tx: &'a mpsc::UnboundedSender<Update>,
    /// Our requests not yet answered, oldest first, with when each was sent. The server
    /// answers them in order; one whose send failed has no ticket.
    ops: VecDeque<(Op, Instant, Option<Ticket>)>,
}

impl<'a> Session<'a> {
    fn new(
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
        }
    }

    fn say(&self, u: Update) {
        let _ = self.tx.send(u);
    }

    async fn run(&mut self, rx: &mut mpsc::UnboundedReceiver<Request>) -> End {
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
                Op::Create { topic } => self.say(Update::Refused {
                    what: format!("/create {topic}"),
                    error: format!("the connection was lost before an answer ({why}); try again"),
                }),
                Op::Join { topic } => self.say(Update::Refused {
                    what: format!("/join {topic}"),
                    error: format!("the connection was lost before an answer ({why}); try again"),
                }),
                Op::Ack { .. } | Op::Ping => {}
            }
        }
        end
    }

    fn on_request(&mut self, req: Request) -> Result<(), ()> {
        let id = Some(self.cfg.id.clone());
        let (cmd, op) = match req {
            Request::SendP2p { to, text, uuid } => (
                Command::SendMessageP2p {
                    to,
                    msg: text,
                    from: id,
                    uuid: Some(uuid.clone()),
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
            Request::Create { topic } => (
                Command::CreateTopic {
                    topic: topic.clone(),
                },
                Op::Create { topic },
            ),
            Request::Join { topic } => (
                Command::JoinTopic {
                    topic: topic.clone(),
                    id: self.cfg.id.clone(),
                },
                Op::Join { topic },
            ),
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
            Event::P2p {
                msg,
                from,
                uuid,
                sent_at_ms,
                offline,
            } => self.say(Update::P2p {
                from,
                text: msg,
                uuid,
                sent_at_ms,
                offline,
            }),
            Event::Topic {
                topic,
                msg,
                from,
                uuid,
                sent_at_ms,
            } => self.say(Update::Topic {
                topic,
                from,
                text: msg,
                uuid,
                sent_at_ms,
            }),
            Event::Delivered { uuid, to } => self.say(Update::Delivered { uuid, to }),
            // Errors that answer a request go to its ticket: this one belongs to none.
            Event::Error { code, detail } => self.say(Update::Error {
                text: describe(code, &detail),
            }),
            Event::TopicLocated { addr, topic } => {
                tracing::debug!(%topic, home = %addr, "topic located")
            }
            Event::Beat(_) => {}
            other => tracing::debug!(event = ?other, "ignored"),
        }
    }

    /// The oldest request was answered.
    fn answered(&mut self, outcome: Outcome) {
        let Some((op, at, _)) = self.ops.pop_front() else {
            return;
        };
        let error = match outcome {
            Ok(_) => None,
            Err(ClientError::Server { code, detail }) => Some(describe(code, &detail)),
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
            (Op::Create { topic }, None) => Update::Created { topic },
            (Op::Join { topic }, None) => Update::Joined { topic },
            (Op::Create { topic }, Some(error)) => Update::Refused {
                what: format!("/create {topic}"),
                error,
            },
            (Op::Join { topic }, Some(error)) => Update::Refused {
                what: format!("/join {topic}"),
                error,
            },
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
        _ => "",
    };
    match (what, detail.is_empty()) {
        ("", true) => code.to_string(),
        ("", false) => format!("{code}: {detail}"),
        (w, true) => format!("{w} ({code})"),
        (w, false) => format!("{w} ({code}: {detail})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fishchat_cluster::local::{LocalCluster, LocalOptions, Ports};

    const WAIT: Duration = Duration::from_secs(15);

    async fn cluster(dir: &std::path::Path) -> LocalCluster {
        let mut o = LocalOptions::new(dir, "test-secret", Ports::any(1));
        o.msg_server.monitor_beat = Duration::from_millis(200);
        o.retry_max = Duration::from_millis(200);
        LocalCluster::start(o, |_| {})
            .await
            .expect("cluster starts")
    }

    fn config(id: &str, c: &LocalCluster) -> WorkerConfig {
        let mut cfg = WorkerConfig::new(id, Target::Gateway(c.file().gateway.clone()));
        cfg.heartbeat = Duration::from_millis(300);
        cfg.backoff_min = Duration::from_millis(50);
        cfg.backoff_max = Duration::from_millis(300);
        cfg
    }

    /// The next update that is not a round trip, within [`WAIT`].
    async fn next(w: &mut Worker) -> Update {
        loop {
            match tokio::time::timeout(WAIT, w.updates.recv()).await {
                Ok(Some(Update::Rtt(_))) => continue,
                Ok(Some(u)) => return u,
                Ok(None) => panic!("the worker stopped"),
                Err(_) => panic!("no update within {WAIT:?}"),
            }
        }
    }

    async fn connected(w: &mut Worker) -> String {
        loop {
            match next(w).await {
                Update::Connecting { .. } => continue,
                Update::Connected { server } => return server,
                other => panic!("expected to connect, got {other:?}"),
            }
        }
    }

    async fn next_p2p(c: &mut Client) -> (String, String, String) {
        loop {
            match c.next_event_within(WAIT).await.expect("an event") {
                Event::P2p {
                    msg, from, uuid, ..
                } => return (msg, from, uuid),
                Event::Beat(_) => continue,
                other => panic!("expected a p2p message, got {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn messages_flow_both_ways_and_delivery_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let c = cluster(dir.path()).await;
        let mut w = Worker::spawn(config("alice", &c));
        assert_eq!(connected(&mut w).await, c.file().msg_servers[0]);
        // The heartbeat measures a round trip.
        let rtt = match tokio::time::timeout(WAIT, w.updates.recv()).await {
            Ok(Some(Update::Rtt(d))) => d,
            other => panic!("expected a round trip, got {other:?}"),
        };
        assert!(rtt < WAIT);

        let mut bob = Client::login_via_gateway(&c.file().gateway, "bob")
            .await
            .unwrap();
        let uuid = uuid::Uuid::new_v4().to_string();
        w.request(Request::SendP2p {
            to: "bob".into(),
            text: "hello bob".into(),
            uuid: uuid.clone(),
        });
        assert_eq!(next(&mut w).await, Update::Sent { uuid: uuid.clone() });
        let (msg, from, got) = next_p2p(&mut bob).await;
        assert_eq!((msg.as_str(), from.as_str()), ("hello bob", "alice"));
        assert_eq!(got, uuid);
        bob.sender().ack(&got).unwrap();
        assert_eq!(
            next(&mut w).await,
            Update::Delivered {
                uuid,
                to: "bob".into()
            }
        );

        bob.sender().send_p2p("alice", "hi alice").unwrap();
        match next(&mut w).await {
            Update::P2p {
                from,
                text,
                offline,
                sent_at_ms,
                ..
            } => {
                assert_eq!((from.as_str(), text.as_str()), ("bob", "hi alice"));
                assert!(!offline);
                assert!(sent_at_ms.is_some());
            }
            other => panic!("expected bob's message, got {other:?}"),
        }
        w.stop(Duration::from_secs(2)).await;
    }

    #[tokio::test]
    async fn each_error_is_matched_to_the_request_that_caused_it() {
        let dir = tempfile::tempdir().unwrap();
        let c = cluster(dir.path()).await;
        let mut w = Worker::spawn(config("carol", &c));
        connected(&mut w).await;

        w.request(Request::Join {
            topic: "nowhere".into(),
        });
        w.request(Request::Create {
            topic: "rust".into(),
        });
        w.request(Request::Create {
            topic: "rust".into(),
        });
        let uuid = uuid::Uuid::new_v4().to_string();
        w.request(Request::SendTopic {
            topic: "nowhere".into(),
            text: "anyone?".into(),
            uuid: uuid.clone(),
        });
        let ok = uuid::Uuid::new_v4().to_string();
        w.request(Request::SendTopic {
            topic: "rust".into(),
            text: "hello rust".into(),
            uuid: ok.clone(),
        });

        match next(&mut w).await {
            Update::Refused { what, error } => {
                assert_eq!(what, "/join nowhere");
                assert!(error.contains("NO_SUCH_TOPIC"), "{error}");
            }
            other => panic!("expected the join to be refused, got {other:?}"),
        }
        assert_eq!(
            next(&mut w).await,
            Update::Created {
                topic: "rust".into()
            }
        );
        match next(&mut w).await {
            Update::Refused { what, error } => {
                assert_eq!(what, "/create rust");
                assert!(error.contains("TOPIC_EXISTS"), "{error}");
            }
            other => panic!("expected the second create to be refused, got {other:?}"),
        }
        match next(&mut w).await {
            Update::SendFailed { uuid: u, error } => {
                assert_eq!(u, uuid);
                assert!(error.contains("NO_SUCH_TOPIC"), "{error}");
            }
            other => panic!("expected the send to fail, got {other:?}"),
        }
        // The member's own message comes back with the uuid it chose, then is confirmed.
        let mut echoed = false;
        let mut sent = false;
        while !(echoed && sent) {
            match next(&mut w).await {
                Update::Topic {
                    topic, from, uuid, ..
                } => {
                    assert_eq!((topic.as_str(), from.as_str()), ("rust", "carol"));
                    assert_eq!(uuid.as_deref(), Some(ok.as_str()));
                    echoed = true;
                }
                Update::Sent { uuid } => {
                    assert_eq!(uuid, ok);
                    sent = true;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        w.stop(Duration::from_secs(2)).await;
    }

    #[tokio::test]
    async fn reconnects_after_the_msg_server_comes_back_and_answers_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = cluster(dir.path()).await;
        let mut w = Worker::spawn(config("dave", &c));
        connected(&mut w).await;

        c.stop_msg_server(0).await;
        match next(&mut w).await {
            Update::Disconnected { reason, .. } => assert!(!reason.is_empty()),
            other => panic!("expected to be disconnected, got {other:?}"),
        }
        // While down: a send is handed back, a join refused.
        let uuid = uuid::Uuid::new_v4().to_string();
        w.request(Request::SendP2p {
            to: "erin".into(),
            text: "later".into(),
            uuid: uuid.clone(),
        });
        w.request(Request::Join { topic: "t".into() });
        let mut not_sent = false;
        let mut refused = false;
        while !(not_sent && refused) {
            match next(&mut w).await {
                Update::NotSent { uuid: u } => {
                    assert_eq!(u, uuid);
                    not_sent = true;
                }
                Update::Refused { what, error } => {
                    assert_eq!(what, "/join t");
                    assert!(error.contains("not connected"), "{error}");
                    refused = true;
                }
                Update::Connecting { .. } | Update::Disconnected { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }

        c.restart_msg_server(0).await.unwrap();
        loop {
            match next(&mut w).await {
                Update::Connected { server } => {
                    assert_eq!(server, c.file().msg_servers[0]);
                    break;
                }
                Update::Connecting { .. } | Update::Disconnected { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        let mut erin = Client::login_via_gateway(&c.file().gateway, "erin")
            .await
            .unwrap();
        w.request(Request::SendP2p {
            to: "erin".into(),
            text: "now".into(),
            uuid: uuid.clone(),
        });
        assert_eq!(next(&mut w).await, Update::Sent { uuid: uuid.clone() });
        let (msg, _, got) = next_p2p(&mut erin).await;
        assert_eq!((msg.as_str(), got.as_str()), ("now", uuid.as_str()));
        w.stop(Duration::from_secs(2)).await;
    }

    #[tokio::test]
    async fn a_missing_cluster_file_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cluster.json");
        let mut cfg = WorkerConfig::new("frank", Target::ClusterFile(path.clone()));
        cfg.backoff_min = Duration::from_secs(30);
        cfg.backoff_max = Duration::from_secs(60);
        let mut w = Worker::spawn(cfg);
        match next(&mut w).await {
            Update::Connecting { via, attempt } => {
                assert!(via.contains("cluster.json"), "{via}");
                assert_eq!(attempt, 1);
            }
            other => panic!("unexpected {other:?}"),
        }
        match next(&mut w).await {
            Update::Disconnected { reason, retry_in } => {
                assert!(reason.contains(&path.display().to_string()), "{reason}");
                assert!(
                    reason.contains("fishchat up") && reason.contains("--gateway"),
                    "{reason}"
                );
                assert!(retry_in >= Duration::from_secs(24), "{retry_in:?}");
            }
            other => panic!("unexpected {other:?}"),
        }
        // Ctrl+R: try again at once.
        w.request(Request::Reconnect);
        match next(&mut w).await {
            Update::Connecting { attempt, .. } => assert_eq!(attempt, 2),
            other => panic!("unexpected {other:?}"),
        }
        w.stop(Duration::from_secs(2)).await;
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let mut cfg = WorkerConfig::new("x", Target::Gateway("a:1".into()));
        cfg.backoff_min = Duration::from_millis(100);
        cfg.backoff_max = Duration::from_secs(1);
        let within = |d: Duration, base_ms: f64| {
            let ms = d.as_secs_f64() * 1000.0;
            ms >= base_ms * 0.8 - 1e-6 && ms <= base_ms * 1.2 + 1e-6
        };
        assert!(within(cfg.backoff(0), 100.0));
        assert!(within(cfg.backoff(1), 200.0));
        assert!(within(cfg.backoff(3), 800.0));
        assert!(within(cfg.backoff(4), 1000.0));
        assert!(within(cfg.backoff(60), 1000.0));
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(
            describe(ErrorCode::NoSuchTopic, "no topic `x`"),
            "no such topic (NO_SUCH_TOPIC: no topic `x`)"
        );
        assert_eq!(describe(ErrorCode::BadJson, ""), "BAD_JSON");
    }
}
