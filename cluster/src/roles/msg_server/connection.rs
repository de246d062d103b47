//! One connection: read frames, act on each in order, answer `ERROR` where it cannot.
//!
//! Commands on one connection are handled one after another, so a client's messages keep
//! their order and `SYNC` is a true barrier. Nothing a client sends can end anything but
//! its own connection.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use tokio::net::TcpStream;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use super::sessions::LocalConn;
use super::{p2p, topics, Reject, Server};
use crate::conn::Outbox;
use crate::protocol::{Channel, Command, ErrorCode, FrameCodec, FrameError};

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
    let mut frames = FramedRead::new(rd, FrameCodec::new(server.cfg.common.max_frame));
    let mut conn = Conn {
        id,
        peer,
        outbox,
        client: None,
        internal: false,
        subscribed: Vec::new(),
    };
    let idle = server.cfg.scan_dead_session_timeout * 2;
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
        let body: Bytes = match next {
            Err(_) => {
                tracing::info!(conn = id, %peer, client = ?conn.client.as_ref().map(|c| &c.id), "dropping silent session");
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(FrameError::TooLong { len, max }))) => {
                tracing::warn!(conn = id, %peer, len, max, "closing connection: frame too long");
                conn.send(&Command::error(
                    ErrorCode::FrameTooLong,
                    format!("frame of {len} bytes is over the maximum of {max}; closing"),
                ));
                conn.outbox.close();
                break;
            }
            Ok(Some(Err(FrameError::Io(e)))) => {
                tracing::debug!(conn = id, %peer, error = %e, "read failed");
                break;
            }
            Ok(Some(Ok(body))) => body,
        };
        if let Err(reject) = handle(&server, &mut conn, &body).await {
            tracing::debug!(conn = id, %peer, code = %reject.code, detail = %reject.detail, "rejected");
            conn.send(&reject.to_command());
        }
    }
    server.channels.unsubscribe_all(&conn);
    if let Some(client) = conn.client.take() {
        super::sessions::logout(&server, &conn, client).await;
    }
    // Let queued frames (an ERROR before a close) go out; the writer ends itself.
    conn.outbox.close();
}

async fn handle(server: &Arc<Server>, conn: &mut Conn, body: &[u8]) -> Result<(), Reject> {
    let cmd = Command::from_body(body).map_err(|e| Reject::new(e.code(), e.to_string()))?;
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
        Command::SubscribeChannel {
            channel,
            subscriber,
            secret,
        } => server
            .channels
            .subscribe(server, conn, &channel, &subscriber, secret),

        Command::SendMessageP2p {
            to,
            msg,
            from,
            uuid,
        } => {
            let me = conn.me()?.clone();
            p2p::send(server, &me, to, msg, from, uuid).await
        }
        Command::P2pAck { id, uuid } => {
            let me = conn.me()?.clone();
            p2p::ack(server, &me, &id, &uuid).await
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
