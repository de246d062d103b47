//! The client SDK: find a msg_server through the gateway, log in, send and receive.
//!
//! [`Client`] owns the connection and its stream of [`Event`]s; [`ClientSender`] is a
//! cheap clone that sends from anywhere (the TUI's worker, a benchmark's sender task).
//! Sends never wait on the network: frames go to the connection's outbox.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fishchat_cluster::client::ClientError> {
//! use fishchat_cluster::client::{Client, Event};
//! use fishchat_cluster::protocol::P2pMessage;
//! let mut alice = Client::login_via_gateway("127.0.0.1:17000", "alice").await?;
//! alice.sender().send_p2p("bob", "hello")?;
//! while let Some(ev) = alice.next_event().await {
//!     if let Event::P2p(P2pMessage { uuid, .. }) = &ev { alice.sender().ack(uuid)?; }
//! }
//! # Ok(()) }
//! ```

mod calls;
mod connect;
mod event;
mod request;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use crate::outbox::Outbox;
use crate::protocol::level::VERSION;
use crate::protocol::{Body, Command, ErrorCode, FrameCodec, FrameError};

pub use calls::{role_status, AccountStatus, SignedIn};
pub use connect::{ConnectOptions, ServerHello};
pub use event::Event;
use request::Pending;
pub use request::{Answered, Outcome, Ticket};

/// How long a request waits for its answer by default.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Sends on a client's connection. Clone it freely.
#[derive(Clone)]
pub struct ClientSender {
    outbox: Outbox,
    id: Option<String>,
    pending: Arc<Pending>,
    timeout: Duration,
}

impl ClientSender {
    /// Sends any command.
    pub fn send(&self, cmd: &Command) -> Result<(), ClientError> {
        self.outbox
            .send(cmd.to_frame())
            .map_err(|_| ClientError::Closed)
    }

    /// Sends `cmd` followed by a `SYNC`: the ticket resolves to its answer, or to the
    /// `ERROR` that belongs to it, once the server has acted on it (see [`Ticket`]).
    pub fn request(&self, cmd: &Command) -> Result<Ticket, ClientError> {
        self.pending.send(&self.outbox, Some(cmd), self.timeout)
    }

    /// A bare `SYNC`: resolves once the server has acted on everything sent before, to
    /// the first `ERROR` that came meanwhile, if any.
    pub fn sync(&self) -> Result<Ticket, ClientError> {
        self.pending.send(&self.outbox, None, self.timeout)
    }

    /// `SEND_MESSAGE_P2P [to, msg, from]`.
    pub fn send_p2p(&self, to: &str, msg: &str) -> Result<(), ClientError> {
        self.send(&Command::SendMessageP2p {
            to: to.into(),
            msg: msg.into(),
            from: self.id.clone(),
            uuid: None,
            sent_at_ms: None,
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
            sent_at_ms: None,
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
    events: mpsc::UnboundedReceiver<Event>,
    /// How many events [`Client::next_event`] has handed out.
    events_read: u64,
    server: String,
    hello: ServerHello,
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
        Self::connect_with(addr, &ConnectOptions::default()).await
    }

    /// Connects, and opens the connection at the fishchat protocol level: `HELLO`, answered
    /// `HELLO_OK` (see [`Client::hello`]). A server that does not answer it is not a
    /// fishchat server (or not this version's).
    pub async fn connect_with(addr: &str, opts: &ConnectOptions) -> Result<Client, ClientError> {
        let mut client = Self::open(addr, opts.max_frame).await?;
        let hello = Command::Hello {
            version: VERSION,
            client: Some(opts.client_name.clone()),
        };
        match client.call(&hello).await {
            Ok(Command::HelloOk { version, .. }) if version == 0 || version > VERSION => {
                Err(ClientError::Unexpected(format!(
                    "{addr} settled on fishchat level version {version}; this client speaks 1 to {VERSION}"
                )))
            }
            Ok(Command::HelloOk {
                version,
                server,
                features,
            }) => {
                client.hello = ServerHello {
                    version,
                    server,
                    features,
                };
                Ok(client)
            }
            Ok(other) => Err(ClientError::Unexpected(format!(
                "HELLO was answered {}",
                other.name()
            ))),
            Err(ClientError::Timeout(t)) => Err(ClientError::Unexpected(format!(
                "{addr} did not answer HELLO within {t:?}: not a fishchat server?"
            ))),
            Err(ClientError::Server {
                code: ErrorCode::UnknownCmd,
                ..
            }) => Err(ClientError::Unexpected(format!(
                "{addr} does not know HELLO: a server from before fishchat's protocol levels"
            ))),
            Err(e) => Err(e),
        }
    }

    /// The TCP connection and its tasks, before `HELLO`.
    async fn open(addr: &str, max_frame: usize) -> Result<Client, ClientError> {
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
        // Unbounded: the read loop must reach every `SYNC_DONE`, however many events come
        // before it, so it never waits for the events to be read (a request awaited
        // before the events are would otherwise never be answered).
        let (tx, events) = mpsc::unbounded_channel();
        let pending = Arc::new(Pending::default());
        tokio::spawn(read_loop(
            FramedRead::new(rd, FrameCodec::new(max_frame)),
            tx,
            pending.clone(),
            cut.clone(),
        ));
        Ok(Client {
            sender: ClientSender {
                outbox,
                id: None,
                pending,
                timeout: DEFAULT_TIMEOUT,
            },
            events,
            events_read: 0,
            server: addr.to_string(),
            hello: ServerHello::default(),
            cut,
        })
    }

    /// Asks the gateway for a msg_server: `REQ_MSG_SERVER` → `SELECT_MSG_SERVER_FOR_CLIENT`.
    pub async fn locate(gateway: &str) -> Result<String, ClientError> {
        let c = Client::connect(gateway).await?;
        match c.call(&Command::ReqMsgServer).await {
            Ok(Command::SelectMsgServerForClient { addr }) => Ok(addr),
            Err(ClientError::Closed) => Err(ClientError::Unexpected(
                "the gateway closed the connection without an answer".into(),
            )),
            Err(e) => Err(e),
            Ok(other) => Err(ClientError::Unexpected(format!("{other:?}"))),
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
            invite_only: false,
        })
        .await
    }

    /// `JOIN_TOPIC [topic, id]`, confirmed; returns the topic's home msg_server.
    pub async fn join_topic(&mut self, topic: &str) -> Result<String, ClientError> {
        let id = self.id().unwrap_or_default().to_string();
        let cmd = Command::JoinTopic {
            topic: topic.into(),
            id,
        };
        match self.sender.request(&cmd)?.answer().await? {
            Some(Command::LocateTopicMsgAddr { addr, topic: t }) if t == topic => Ok(addr),
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
        self.sender.request(cmd)?.done().await
    }

    /// Sends `cmd` and returns the answer the server sends for it (`ROLE_STATUS_OK`,
    /// `INSPECT_RESULT`, ...), or the `ERROR` it got instead.
    pub async fn call(&self, cmd: &Command) -> Result<Command, ClientError> {
        self.sender
            .request(cmd)?
            .answer()
            .await?
            .ok_or_else(|| ClientError::Unexpected(format!("{} got no answer", cmd.name())))
    }

    /// A barrier: waits until the server has acted on everything sent before. Returns the
    /// first `ERROR` received meanwhile, if any (it is not kept as an event).
    pub async fn sync(&mut self) -> Result<Option<(ErrorCode, String)>, ClientError> {
        match self.sender.sync()?.answer().await {
            Ok(_) => Ok(None),
            Err(ClientError::Server { code, detail }) => Ok(Some((code, detail))),
            Err(e) => Err(e),
        }
    }

    /// The next event; `None` once the connection has ended and every event was read.
    pub async fn next_event(&mut self) -> Option<Event> {
        let ev = self.events.recv().await;
        self.events_read += u64::from(ev.is_some());
        ev
    }

    /// How many events [`Client::next_event`] has handed out: compare with
    /// [`Answered::after_events`] to read what came before an answer first.
    pub fn events_read(&self) -> u64 {
        self.events_read
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

    /// What the server answered to this connection's `HELLO`.
    pub fn hello(&self) -> &ServerHello {
        &self.hello
    }

    /// How long requests wait for an answer.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.sender.timeout = timeout;
    }

    /// Ends the connection at once.
    pub fn disconnect(&self) {
        self.cut.cancel();
    }
}

async fn read_loop(
    mut frames: FramedRead<tokio::net::tcp::OwnedReadHalf, FrameCodec>,
    tx: mpsc::UnboundedSender<Event>,
    pending: Arc<Pending>,
    cut: CancellationToken,
) {
    let mut delivered = 0u64;
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
                Ok(c) => match pending.take(c, delivered) {
                    Some(c) => Event::from_command(c),
                    None => continue,
                },
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
        if tx.send(event).is_err() {
            break "client dropped".to_string();
        }
        delivered += 1;
    };
    cut.cancel();
    pending.close(delivered);
    let _ = tx.send(Event::Closed { reason });
}
