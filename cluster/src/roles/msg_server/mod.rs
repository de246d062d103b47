//! msg_server: holds client connections, logs them in, carries p2p and topic messages,
//! keeps undelivered messages until acked, and publishes the internal channels.
//!
//! The modules, from the top down; each imports only modules below it:
//!
//! - this one: [`run`], the accept loop.
//! - [`connection`]: one connection's read loop; frames that arrived together go to dispatch.
//! - [`dispatch`]: each command to its handler.
//! - the handlers: [`login`] (`SEND_CLIENT_ID`, logout), [`p2p`] (person-to-person messages,
//!   acks, routed messages), [`topics`], [`channels`] (`SUBSCRIBE_CHANNEL`), [`inspect`]
//!   (`AUTH`, `INSPECT`), [`stats`] (`ROLE_STATUS` and the monitor beat).
//! - [`checks`]: what p2p and topic messages share (sender, size, uuid checks).
//! - [`server`]: the state every connection shares, and writing to sessions and channels.
//! - [`peer`]: one connection's state, its logged-in session, and `ERROR` answers.

mod account;
mod channels;
mod checks;
mod connection;
mod dispatch;
mod inspect;
mod login;
mod p2p;
mod peer;
mod refuse;
mod server;
mod stats;
mod topics;

use std::io;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::MsgServerConfig;
use crate::store::Store;

use self::server::Server;
pub use self::stats::StatsSnapshot;

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
    // Without a secret nothing tells an operator or a router from anyone: accounts would
    // protect nothing (anyone could subscribe to every message, or reset a password).
    if cfg.auth != crate::protocol::AuthPolicy::Open && cfg.common.secret.is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "msg_server {addr}: auth {} needs the cluster secret (Secret); without one, only auth open",
                cfg.auth
            ),
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
    let server = Arc::new(Server::new(cfg, addr.clone(), store, topics_here));
    tracing::info!(server = %addr, "msg_server listening");

    let tracker = TaskTracker::new();
    tracker.spawn(stats::beat_loop(server.clone(), shutdown.clone()));
    super::accept::accept_loop(
        listener,
        "msg_server",
        &shutdown,
        &tracker,
        |stream, from| {
            connection::serve(
                server.clone(),
                stream,
                from,
                server.next_conn_id(),
                shutdown.child_token(),
            )
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
