//! The client SDK: find a msg_server through the gateway, log in, send and receive.
//!
//! [`Client`] owns the connection and its stream of [`Event`]s; [`ClientSender`] is a
//! cheap clone that sends from anywhere (the TUI's worker, a benchmark's sender task).
//! Sends never wait on the network: frames go to the connection's outbox.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fishchat_cluster::client::ClientError> {
//! use fishchat_cluster::client::{Client, Event};
//! let mut alice = Client::login_via_gateway("127.0.0.1:17000", "alice").await?;
//! alice.sender().send_p2p("bob", "hello")?;
//! while let Some(ev) = alice.next_event().await {
//!     if let Event::P2p { uuid, .. } = &ev { alice.sender().ack(uuid)?; }
//! }
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Map, Value};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use crate::outbox::Outbox;
use crate::protocol::events::MonitorBeat;
use crate::protocol::{Body, Command, ErrorCode, FrameCodec, FrameError, DEFAULT_MAX_FRAME};

/// How long a request waits for its answer by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What can go wrong talking to the cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the connection is closed")]
    Closed,
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("server refused: {code} {detail}")]
    Server { code: ErrorCode, detail: String },
    #[error("unexpected answer: {0}")]
    Unexpected(String),
}

impl ClientError {
    /// The server's error code, where the server refused.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Server { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// Something the server sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `RESP_MESSAGE_P2P`: a message for us. Ack it with [`ClientSender::ack`].
    P2p {
        msg: String,
        from: String,
        uuid: String,
        sent_at_ms: Option<u64>,
        /// Queued while we were away (or delivered before and not acked).
        offline: bool,
    },
    /// `RESP_MESSAGE_TOPIC`.
    Topic {
        topic: String,
        msg: String,
        from: String,
        uuid: Option<String>,
        sent_at_ms: Option<u64>,
    },
    /// `P2P_DELIVERED`: `to` acked the message `uuid` we sent.
    Delivered { uuid: String, to: String },
    /// `LOCATE_TOPIC_MSG_ADDR`: the answer to a join.
    TopicLocated { addr: String, topic: String },
    /// `ERROR`.
    Error { code: ErrorCode, detail: String },
    /// A bare monitor beat on `/sysctrl/monitor`.
    Beat(Map<String, Value>),
    /// Any other command (channel events for subscribers, answers to raw requests).
    Command(Command),
    /// The connection ended; no event follows.
    Closed { reason: String },
}

impl Event {
    /// The beat's typed view, for `Event::Beat`.
    pub fn beat(&self) -> Option<MonitorBeat> {
        match self {
            Event::Beat(m) => serde_json::from_value(Value::Object(m.clone())).ok(),
            _ => None,
        }
    }

    fn from_command(c: Command) -> Event {
        match c {
            Command::RespMessageP2p {
                msg,
                from,
                uuid,
                sent_at_ms,
                offline,
            } => Event::P2p {
                msg,
                from,
                uuid,
                sent_at_ms,
                offline,
            },
            Command::RespMessageTopic {
                topic,
                msg,
                from,
                uuid,
                sent_at_ms,
            } => Event::Topic {
                topic,
                msg,
                from,
                uuid,
                sent_at_ms,
            },
            Command::P2pDelivered { uuid, to, .. } => Event::Delivered { uuid, to },
            Command::LocateTopicMsgAddr { addr, topic } => Event::TopicLocated { addr, topic },
            Command::Error { code, detail } => Event::Error { code, detail },
            other => Event::Command(other),
        }
    }
}

/// Sends on a client's connection. Clone it freely.
#[derive(Clone)]
pub struct ClientSender {
    outbox: Outbox,
    id: Option<String>,
}

impl ClientSender {
    /// Sends any command.
    pub fn send(&self, cmd: &Command) -> Result<(), ClientError> {
        self.outbox
            .send(cmd.to_frame())
            .map_err(|_| ClientError::Closed)
    }

    /// `SEND_MESSAGE_P2P [to, msg, from]`.
    pub fn send_p2p(&self, to: &str, msg: &str) -> Result<(), ClientError> {
        self.send(&Command::SendMessageP2p {
            to: to.into(),
            msg: msg.into(),
            from: self.id.clone(),
            uuid: None,
        })
    }

    /// Sends a p2p message with a uuid of our choosing, returned so that a later
    /// `P2P_DELIVERED` can be matched to it.
    pub fn send_p2p_tracked(&self, to: &str, msg: &str) -> Result<String, ClientError> {
        let uuid = uuid::Uuid::new_v4().to_string();
        self.send(&Command::SendMessageP2p {
            to: to.into(),
            msg: msg.into(),
            from: Some(self.id.clone().unwrap_or_default()),
            uuid: Some(uuid.clone()),
        })?;
        Ok(uuid)
    }

    /// `P2P_ACK [my_id, uuid]`.
    pub fn ack(&self, uuid: &str) -> Result<(), ClientError> {
        self.send(&Command::P2pAck {
            id: self.id.clone().unwrap_or_default(),
            uuid: uuid.into(),
        })
    }

    /// `SEND_MESSAGE_TOPIC [topic, msg]`.
    pub fn send_topic(&self, topic: &str, msg: &str) -> Result<(), ClientError> {
        self.send(&Command::SendMessageTopic {
            topic: topic.into(),
            msg: msg.into(),
            from: None,
            uuid: None,
        })
    }

    /// `SEND_PING ["PING"]`.
    pub fn ping(&self) -> Result<(), ClientError> {
        self.send(&Command::SendPing)
    }

    /// Closes the connection after what is queued is written.
    pub fn close(&self) {
        self.outbox.close();
    }
}

/// A connection to a msg_server (or any role) and the events it brings.
pub struct Client {
    sender: ClientSender,
    events: mpsc::Receiver<Event>,
    stash: VecDeque<Event>,
    server: String,
    timeout: Duration,
    next_token: u64,
    cut: CancellationToken,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.cut.cancel();
    }
}

impl Client {
    /// Connects to `addr` without logging in.
    pub async fn connect(addr: &str) -> Result<Client, ClientError> {
        Self::connect_with(addr, DEFAULT_MAX_FRAME).await
    }

    /// Connects, accepting frames up to `max_frame` bytes.
    pub async fn connect_with(addr: &str, max_frame: usize) -> Result<Client, ClientError> {
        let connect = tokio::time::timeout(DEFAULT_TIMEOUT, TcpStream::connect(addr));
        let stream = match connect.await {
            Ok(Ok(s)) => s,
            Ok(Err(source)) => {
                return Err(ClientError::Connect {
                    addr: addr.to_string(),
                    source,
                })
            }
            Err(_) => {
                return Err(ClientError::Connect {
                    addr: addr.to_string(),
                    source: std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"),
                })
            }
        };
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        let cut = CancellationToken::new();
        let outbox = Outbox::spawn(wr, usize::MAX, cut.clone());
        let (tx, events) = mpsc::channel(1024);
        tokio::spawn(read_loop(
            FramedRead::new(rd, FrameCodec::new(max_frame)),
            tx,
            cut.clone(),
        ));
        Ok(Client {
            sender: ClientSender { outbox, id: None },
            events,
            stash: VecDeque::new(),
            server: addr.to_string(),
            timeout: DEFAULT_TIMEOUT,
            next_token: 0,
            cut,
        })
    }

    /// Asks the gateway for a msg_server: `REQ_MSG_SERVER` → `SELECT_MSG_SERVER_FOR_CLIENT`.
    pub async fn locate(gateway: &str) -> Result<String, ClientError> {
        let mut c = Client::connect(gateway).await?;
        c.sender.send(&Command::ReqMsgServer)?;
        match c.next_event_within(DEFAULT_TIMEOUT).await? {
            Event::Command(Command::SelectMsgServerForClient { addr }) => Ok(addr),
            Event::Error { code, detail } => Err(ClientError::Server { code, detail }),
            Event::Closed { reason } => Err(ClientError::Unexpected(format!(
                "the gateway closed the connection without an answer ({reason})"
            ))),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// Finds a msg_server through the gateway and logs in there as `id`.
    pub async fn login_via_gateway(gateway: &str, id: &str) -> Result<Client, ClientError> {
        let addr = Client::locate(gateway).await?;
        let mut c = Client::connect(&addr).await?;
        c.login(id).await?;
        Ok(c)
    }

    /// Connects to a msg_server and logs in as `id`.
    pub async fn login_at(msg_server: &str, id: &str) -> Result<Client, ClientError> {
        let mut c = Client::connect(msg_server).await?;
        c.login(id).await?;
        Ok(c)
    }

    /// `SEND_CLIENT_ID [id]`, confirmed. Offline messages follow as events.
    pub async fn login(&mut self, id: &str) -> Result<(), ClientError> {
        self.request(&Command::SendClientId { id: id.into() })
            .await?;
        self.sender.id = Some(id.to_string());
        Ok(())
    }

    /// `CREATE_TOPIC [topic]`, confirmed.
    pub async fn create_topic(&mut self, topic: &str) -> Result<(), ClientError> {
        self.request(&Command::CreateTopic {
            topic: topic.into(),
        })
        .await
    }

    /// `JOIN_TOPIC [topic, id]`, confirmed; returns the topic's home msg_server.
    pub async fn join_topic(&mut self, topic: &str) -> Result<String, ClientError> {
        let id = self.id().unwrap_or_default().to_string();
        self.request(&Command::JoinTopic {
            topic: topic.into(),
            id,
        })
        .await?;
        let pos = self
            .stash
            .iter()
            .rposition(|e| matches!(e, Event::TopicLocated { topic: t, .. } if t == topic));
        match pos.and_then(|p| self.stash.remove(p)) {
            Some(Event::TopicLocated { addr, .. }) => Ok(addr),
            _ => Err(ClientError::Unexpected(
                "JOIN_TOPIC got no LOCATE_TOPIC_MSG_ADDR".into(),
            )),
        }
    }

    /// `SUBSCRIBE_CHANNEL [channel, subscriber, secret]`, confirmed.
    pub async fn subscribe(
        &mut self,
        channel: &str,
        subscriber: &str,
        secret: Option<&str>,
    ) -> Result<(), ClientError> {
        self.request(&Command::SubscribeChannel {
            channel: channel.into(),
            subscriber: subscriber.into(),
            secret: secret.map(str::to_string),
        })
        .await
    }

    /// Sends `cmd`, then a `SYNC`, and waits for its `SYNC_DONE`. An `ERROR` that arrives
    /// in between is the answer to `cmd` and is returned; other events are kept for
    /// [`Client::next_event`].
    pub async fn request(&mut self, cmd: &Command) -> Result<(), ClientError> {
        self.sender.send(cmd)?;
        match self.sync().await? {
            Some((code, detail)) => Err(ClientError::Server { code, detail }),
            None => Ok(()),
        }
    }

    /// A barrier: waits until the server has acted on everything sent before. Returns the
    /// first `ERROR` received meanwhile, if any (it is not kept as an event).
    pub async fn sync(&mut self) -> Result<Option<(ErrorCode, String)>, ClientError> {
        self.next_token += 1;
        let token = format!("sync-{}", self.next_token);
        self.sender.send(&Command::Sync {
            token: token.clone(),
        })?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut error = None;
        loop {
            let ev = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .map_err(|_| ClientError::Timeout(self.timeout))?;
            match ev {
                None => return Err(ClientError::Closed),
                Some(Event::Command(Command::SyncDone { token: t })) if t == token => {
                    return Ok(error)
                }
                Some(Event::Error { code, detail }) if error.is_none() => {
                    error = Some((code, detail))
                }
                Some(Event::Closed { .. }) => return Err(ClientError::Closed),
                Some(other) => self.stash.push_back(other),
            }
        }
    }

    /// The next event; `None` once the connection has ended and every event was read.
    pub async fn next_event(&mut self) -> Option<Event> {
        if let Some(e) = self.stash.pop_front() {
            return Some(e);
        }
        self.events.recv().await
    }

    /// The next event within `timeout`.
    pub async fn next_event_within(&mut self, timeout: Duration) -> Result<Event, ClientError> {
        match tokio::time::timeout(timeout, self.next_event()).await {
            Ok(Some(e)) => Ok(e),
            Ok(None) => Err(ClientError::Closed),
            Err(_) => Err(ClientError::Timeout(timeout)),
        }
    }

    /// A sender for this connection.
    pub fn sender(&self) -> ClientSender {
        self.sender.clone()
    }

    /// The logged-in id.
    pub fn id(&self) -> Option<&str> {
        self.sender.id.as_deref()
    }

    /// The address this client is connected to.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// How long requests wait for an answer.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Ends the connection at once.
    pub fn disconnect(&self) {
        self.cut.cancel();
    }
}

async fn read_loop(
    mut frames: FramedRead<tokio::net::tcp::OwnedReadHalf, FrameCodec>,
    tx: mpsc::Sender<Event>,
    cut: CancellationToken,
) {
    let reason = loop {
        let next = tokio::select! {
            _ = cut.cancelled() => break "closed by this client".to_string(),
            n = frames.next() => n,
        };
        let body = match next {
            None => break "closed by the server".to_string(),
            Some(Err(FrameError::TooLong { len, max })) => {
                break format!("the server sent a frame of {len} bytes, over our maximum of {max}")
            }
            Some(Err(FrameError::Io(e))) => break e.to_string(),
            Some(Ok(b)) => b,
        };
        let event = match Body::parse(&body) {
            Ok(Body::Bare(map)) => Event::Beat(map),
            Ok(Body::Envelope(env)) => match Command::from_envelope(env) {
                Ok(c) => Event::from_command(c),
                Err(e) => {
                    tracing::warn!(error = %e, "ignoring a command this client does not understand");
                    continue;
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "ignoring a malformed frame");
                continue;
            }
        };
        if tx.send(event).await.is_err() {
            break "client dropped".to_string();
        }
    };
    cut.cancel();
    let _ = tx.send(Event::Closed { reason }).await;
}
