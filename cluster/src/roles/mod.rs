//! The cluster roles. Each has `run(listener, config, .., shutdown)`: it serves on an
//! already bound listener until `shutdown` is cancelled, then drains for a bounded time.

pub mod gateway;
pub mod manager;
pub mod monitor;
pub mod msg_server;
pub mod router;
pub mod status;

use std::time::Duration;

/// How long a role waits for its connections to finish after shutdown.
pub const DRAIN_TIME: Duration = Duration::from_secs(2);
