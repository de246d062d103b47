//! msg_server: holds client connections, logs them in, carries p2p and topic messages,
//! keeps undelivered messages until acked, and publishes the internal channels.
//!
//! - [`connection`]: one connection's read loop and the command dispatch.
//! - [`sessions`]: the local table of logged-in connections; login and logout.
//! - [`p2p`]: person-to-person messages, acks, routed messages.
//! - [`topics`]: create, join, topic messages.
//! - [`channels`]: `SUBSCRIBE_CHANNEL` and publishing.
//! - [`stats`]: counters and the monitor beat.
//! - [`inspect`]: `AUTH` and `INSPECT`, for operator tools.

mod channels;
mod connection;
mod inspect;
mod p2p;
mod sessions;
mod stats;
mod topics;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::MsgServerConfig;
use crate::protocol::{Command, ErrorCode};
use crate::store::{Store, StoreError};

pub use stats::StatsSnapshot;

/// State shared by every connection of one msg_server.
pub(crate) struct Server {
    pub cfg: MsgServerConfig,
    /// The advertised address: this server's name in the session store.
    pub addr: String,
    pub store: Arc<dyn Store>,
    pub sessions: sessions::LocalSessions,
    pub channels: channels::Channels,
    pub stats: stats::Stats,
    next_conn: AtomicU64,
    pub started: Instant,
}

/// An `ERROR` to answer with.
#[derive(Debug)]
pub(crate) struct Reject {
    pub code: ErrorCode,
    pub detail: String,
}

impl Reject {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }

    pub fn to_command(&self) -> Command {
        Command::error(self.code, self.detail.clone())
    }
}

impl From<StoreError> for Reject {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchTopic(t) => {
                Reject::new(ErrorCode::NoSuchTopic, format!("no topic named {t:?}"))
            }
            other => Reject::new(ErrorCode::Unavailable, other.to_string()),
        }
    }
}

/// Serves a msg_server on `listener` until `shutdown` is cancelled.
///
/// At start it forgets the sessions a previous run of this address left in the store.
pub async fn run(
    listener: TcpListener,
    cfg: MsgServerConfig,
    store: Arc<dyn Store>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let addr = match &cfg.advertise {
        Some(a) => a.clone(),
        None => listener.local_addr()?.to_string(),
    };
    // Other roles and clients are sent to this address: 0.0.0.0 would send them nowhere.
    if addr
        .parse::<std::net::SocketAddr>()
        .is_ok_and(|a| a.ip().is_unspecified())
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("msg_server would advertise {addr}, which nobody can reach: set the address it is reached at (LocalIP)"),
        ));
    }
    match store.clear_server(&addr).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(server = %addr, stale = n, "forgot sessions of a previous run"),
        Err(e) => tracing::warn!(server = %addr, error = %e, "could not clear stale sessions"),
    }
    let topics_here = match store.topics().await {
        Ok(ts) => ts.iter().filter(|t| t.home == addr).count() as u64,
        Err(_) => 0,
    };
    let server = Arc::new(Server {
        addr: addr.clone(),
        store,
        sessions: sessions::LocalSessions::default(),
        channels: channels::Channels::default(),
        stats: stats::Stats::new(topics_here),
        next_conn: AtomicU64::new(1),
        started: Instant::now(),
        cfg,
    });
    tracing::info!(server = %addr, "msg_server listening");

    let tracker = TaskTracker::new();
    tracker.spawn(stats::beat_loop(server.clone(), shutdown.clone()));
    super::accept::accept_loop(
        listener,
        "msg_server",
        &shutdown,
        &tracker,
        |stream, peer| {
            let id = server.next_conn.fetch_add(1, Ordering::Relaxed);
            connection::serve(server.clone(), stream, peer, id, shutdown.child_token())
        },
    )
    .await;
    tracker.close();
    if tokio::time::timeout(super::DRAIN_TIME, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(server = %addr, "connections still open after the drain time");
    }
    tracing::info!(server = %addr, "msg_server stopped");
    Ok(())
}
