//! The accept loop every role's TCP listener runs: the msg_server's client port, the
//! gateway's, and the `ROLE_STATUS` port of router, manager and monitor ([`super::status`]).
//! Each connection is served by a task on the role's tracker, so the role's drain waits
//! for it; draining is the caller's.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long to wait after a failed accept before the next.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// Accepts connections on `listener` until `shutdown` is cancelled, and spawns
/// `serve(stream, peer)` for each on `tracker`. Returns with the listener closed, so no
/// new connection waits in its backlog while the role drains.
pub(crate) async fn accept_loop<F, Fut>(
    listener: TcpListener,
    role: &'static str,
    shutdown: &CancellationToken,
    tracker: &TaskTracker,
    mut serve: F,
) where
    F: FnMut(TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let addr = listener.local_addr().ok();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, peer)) => {
                // Frames are written whole: waiting to coalesce them only adds latency.
                let _ = stream.set_nodelay(true);
                tracker.spawn(serve(stream, peer));
            }
            Err(e) => {
                // Out of file descriptors and the like: wait a moment rather than spin.
                tracing::warn!(role, addr = ?addr, error = %e, "accept failed");
                tokio::time::sleep(ACCEPT_RETRY).await;
            }
        }
    }
}
