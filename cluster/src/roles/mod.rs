//! The cluster roles. Each has `run(listener, config, .., shutdown)`: it serves on an
//! already bound listener until `shutdown` is cancelled, then drains for a bounded time.
//!
//! What the roles share: [`accept`], the loop behind every listener; [`fleet`], a link to
//! every msg_server with its events drained into the role; [`status`], request/answer
//! connections and the `ROLE_STATUS` port.

mod accept;
mod budget;
mod fleet;
pub mod gateway;
mod hello;
pub mod manager;
pub mod monitor;
pub mod msg_server;
pub mod router;
pub mod status;

use std::time::Duration;

use tokio_util::task::TaskTracker;

/// How long a role waits for its connections to finish after shutdown.
pub(crate) const DRAIN_TIME: Duration = Duration::from_secs(2);

/// Closes `tracker` and gives its tasks [`DRAIN_TIME`] to finish; `false` where some are
/// still running then.
pub(crate) async fn drain(tracker: &TaskTracker) -> bool {
    tracker.close();
    tokio::time::timeout(DRAIN_TIME, tracker.wait())
        .await
        .is_ok()
}
