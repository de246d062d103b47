//! One connection: read frames, act on each in order, answer `ERROR` where it cannot.
//!
//! Commands on one connection are handled one after another, so a client's messages keep
//! their order and `SYNC` is a true barrier. Nothing a client sends can end anything but
//! its own connection. The frames a client sent at once are taken together: consecutive
//! p2p sends and acks among them make one trip to the store, then take effect in order.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;

use super::sessions::LocalConn;
use super::{p2p, topics, Reject, Server};
use crate::outbox::Outbox;
use crate::protocol::{Channel, Command, ErrorCode, FrameCodec, FrameError};

/// The most frames acted on as one batch: what a client sent at once, up to this, and up
/// to a quarter of a client's queue, so that one batch of messages to one receiver never
/// fills the receiver's queue by itself (a full queue cuts it off as not reading).
const PIPELINE: usize = 256;

/// A connection's first read buffer: enough for a login and a ping.
const MIN_READ: usize = 512;
/// The most a connection reads at once.
const MAX_READ: usize = 64 * 1024;

/// A connection's incoming frames.
///
/// Memory is what bounds how many idle connections a server holds, so the read buffer
/// starts small and is kept small while the client sends little. A read that fills the
/// buffer doubles the next one (up to [`MAX_READ`]), so a busy client is read many frames
/// at a time; its bigger buffer is let go once every frame in it has been acted on.
struct Frames {
    rd: OwnedReadHalf,
    buf: BytesMut,
    codec: FrameCodec,
    /// How much the next read asks for.
    chunk: usize,
}

impl Frames {
    fn new(rd: OwnedReadHalf, codec: FrameCodec) -> Frames {
        Frames {
            rd,
            buf: BytesMut::new(),
            codec,
            chunk: MIN_READ,
        }
    }

    /// The next frame, reading as needed; `None` once the peer has closed.
    async fn next(&mut self) -> Option<Result<Bytes, FrameError>> {
        loop {
            if let Some(frame) = self.buffered() {
                return Some(frame);
            }
            if self.buf.capacity() - self.buf.len() < MIN_READ / 2 {
                self.buf.reserve(self.chunk);
            }
            let room = self.buf.capacity() - self.buf.len();
            match self.rd.read_buf(&mut self.buf).await {
                // A frame cut short by the close is dropped with the connection.
                Ok(0) => return None,
                Ok(n) if n == room => self.chunk = (self.chunk * 2).min(MAX_READ),
                Ok(_) => {}
                Err(e) => return Some(Err(e.into())),
            }
        }
    }

    /// A whole frame that has been read already, if there is one.
    fn buffered(&mut self) -> Option<Result<Bytes, FrameError>> {
        self.codec.decode(&mut self.buf).transpose()
    }

    /// Lets go of a grown read buffer once nothing is left in it.
    fn release(&mut self) {
        if self.buf.is_empty() && self.buf.capacity() > MIN_READ {
            self.buf = BytesMut::new();
        }
    }
}

/// What one connection is, as far as the server knows.
pub(crate) struct Conn {
    pub id: u64,
    pub peer: SocketAddr,
    pub outbox: Outbox,
    /// Set once logged in.
    pub client: Option<Arc<LocalConn>>,
    /// Presented the cluster secret (or none is configured): may send internal commands.
    pub internal: bool,
    pub subscribed: Vec<Channel>,
}

impl Conn {
    pub fn send(&self, cmd: &Command) {
        let _ = self.outbox.send(cmd.to_frame());
    }

    /// Answers a command this connection sent with `ERROR`.
    pub fn refuse(&self, reject: Reject) {
        tracing::debug!(conn = self.id, peer = %self.peer, code = %reject.code, detail = %reject.detail, "rejected");
        self.send(&reject.to_command());
    }

    pub fn me(&self) -> Result<&Arc<LocalConn>, Reject> {
        self.client
            .as_ref()
            .ok_or_else(|| Reject::new(ErrorCode::NotLoggedIn, "send SEND_CLIENT_ID [id] first"))
    }

    pub fn require_internal(&self, cmd: &str) -> Result<(), Reject> {
        if self.internal {
            Ok(())
        } else {
            Err(Reject::new(
                ErrorCode::Forbidden,
                format!("{cmd} is for cluster roles; subscribe with the cluster secret first"),
            ))
        }
    }
}

pub(crate) async fn serve(
    server: Arc<Server>,
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    cut: CancellationToken,
) {
    let (rd, wr) = stream.into_split();
    let outbox = Outbox::spawn(wr, server.cfg.client_queue, cut.clone());
    let mut frames = Frames::new(rd, FrameCodec::new(server.cfg.common.max_frame));
    let mut conn = Conn {
        id,
        peer,
        outbox,
        client: None,
        internal: false,
        subscribed: Vec::new(),
    };
    let idle = server.cfg.scan_dead_session_timeout * 2;
    let pipeline = PIPELINE.min(server.cfg.client_queue / 4).max(1);
    loop {
        let next = tokio::select! {
            _ = cut.cancelled() => {
                if conn.outbox.queued() > 0 || conn.client.is_some() {
                    tracing::debug!(conn = id, %peer, "connection cut");
                }
                break;
            }
            n = tokio::time::timeout(idle, frames.next()) => n,
        };
        let Ok(first) = next else {
            tracing::info!(conn = id, %peer, client = ?conn.client.as_ref().map(|c| &c.id), "dropping silent session");
            break;
        };
        // Every whole frame already here is taken with the first, so that a run of p2p
        // messages or acks shares one trip to the store (see [`p2p::Run`]).
        let mut bodies = Vec::new();
        let mut end = None;
        let mut next = Some(first);
        while let Some(n) = next.take() {
            match n {
                Some(Ok(body)) => bodies.push(body),
                other => {
                    end = Some(other);
                    break;
                }
            }
            if bodies.len() < pipeline {
                next = frames.buffered().map(Some);
            }
        }
        // Boxed: what acting on a batch needs is held only while it runs, not for as long
        // as the connection is open.
        Box::pin(handle_all(&server, &mut conn, bodies)).await;
        frames.release();
        match end {
            None | Some(Some(Ok(_))) => {}
            Some(None) => break,
            Some(Some(Err(FrameError::TooLong { len, max }))) => {
                tracing::warn!(conn = id, %peer, len, max, "closing connection: frame too long");
                conn.send(&Command::error(
                    ErrorCode::FrameTooLong,
                    format!("frame of {len} bytes is over the maximum of {max}; closing"),
                ));
                conn.outbox.close();
                break;
            }
            Some(Some(Err(FrameError::Io(e)))) => {
                tracing::debug!(conn = id, %peer, error = %e, "read failed");
                break;
            }
        }
    }
    server.channels.unsubscribe_all(&conn);
    if let Some(client) = conn.client.take() {
        super::sessions::logout(&server, &conn, client).await;
    }
    // Let queued frames (an ERROR before a close) go out, but not forever.
    conn.outbox.finish(crate::roles::status::FINISH_GRACE).await;
}

/// Acts on frames that arrived together, in order. Runs of p2p sends and acks go to the
/// store together ([`p2p::Run`]); every other command is handled on its own.
async fn handle_all(server: &Arc<Server>, conn: &mut Conn, bodies: Vec<Bytes>) {
    let mut run = p2p::Run::default();
    for body in bodies {
        let cmd = match Command::from_body(&body) {
            Ok(cmd) => cmd,
            Err(e) => {
                run.flush(server, conn).await;
                conn.refuse(Reject::new(e.code(), e.to_string()));
                continue;
            }
        };
        if let Some(cmd) = run.stage(server, conn, cmd) {
            run.flush(server, conn).await;
            if let Err(reject) = handle(server, conn, cmd).await {
                conn.refuse(reject);
            }
        }
    }
    run.flush(server, conn).await;
}

async fn handle(server: &Arc<Server>, conn: &mut Conn, cmd: Command) -> Result<(), Reject> {
    match cmd {
        Command::SendPing => Ok(()),
        Command::Sync { token } => {
            conn.send(&Command::SyncDone { token });
            Ok(())
        }
        Command::RoleStatus => {
            conn.send(&Command::RoleStatusOk {
                role: "msg_server".into(),
                data: serde_json::to_value(server.stats.snapshot(server)).unwrap_or_default(),
            });
            Ok(())
        }
        Command::SendClientId { id } => super::sessions::login(server, conn, id).await,
        Command::Auth { secret } => super::inspect::auth(server, conn, &secret),
        Command::Inspect { query } => super::inspect::inspect(server, conn, query).await,
        Command::SubscribeChannel {
            channel,
            subscriber,
            secret,
        } => server
            .channels
            .subscribe(server, conn, &channel, &subscriber, secret),

        cmd @ (Command::SendMessageP2p { .. } | Command::P2pAck { .. }) => {
            let mut run = p2p::Run::default();
            run.stage(server, conn, cmd);
            run.flush(server, conn).await;
            Ok(())
        }
        Command::CreateTopic { topic } => {
            let me = conn.me()?.clone();
            topics::create(server, &me, topic).await
        }
        Command::JoinTopic { topic, id } => {
            let me = conn.me()?.clone();
            topics::join(server, conn, &me, topic, id).await
        }
        Command::SendMessageTopic {
            topic,
            msg,
            from,
            uuid,
        } => {
            let me = conn.me()?.clone();
            topics::send(server, &me, topic, msg, from, uuid).await
        }

        Command::RouteMessageP2p {
            to,
            msg,
            from,
            uuid,
        } => {
            conn.require_internal("ROUTE_MESSAGE_P2P")?;
            p2p::routed(server, to, msg, from, uuid);
            Ok(())
        }
        Command::RouteMessageTopic {
            topic,
            msg,
            from,
            uuid,
            sent_at_ms,
        } => {
            conn.require_internal("ROUTE_MESSAGE_TOPIC")?;
            topics::routed(server, topic, msg, from, uuid, sent_at_ms).await
        }
        Command::P2pDelivered { uuid, to, from } => {
            conn.require_internal("P2P_DELIVERED")?;
            let from = from.ok_or_else(|| {
                Reject::new(ErrorCode::BadArgs, "P2P_DELIVERED: missing argument `from`")
            })?;
            p2p::delivered_routed(server, &uuid, &to, &from);
            Ok(())
        }

        // Answers and events travel from servers, never to them. Answering an ERROR or a
        // SYNC_DONE with another ERROR could bounce between two peers forever: ignore those.
        Command::Error { .. } | Command::SyncDone { .. } => Ok(()),
        other => Err(Reject::new(
            ErrorCode::WrongRole,
            format!("{} is not a command a msg_server accepts", other.name()),
        )),
    }
}
