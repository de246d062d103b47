//! Where the worker finds the cluster and how it keeps the connection.

use std::path::PathBuf;
use std::time::Duration;

use rand::Rng;

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

/// How the worker logs in at each connection, as the sign-in before the screen opened
/// settled it ([`crate::signin`]). Never a password: a reconnection uses the token.
#[derive(Clone, PartialEq, Eq)]
pub enum Login {
    /// `SEND_CLIENT_ID`: an id without an account, which anyone may use.
    Unclaimed,
    /// `LOGIN` with this device's token.
    Token {
        token: String,
        /// The device the token signs in as (for the status line and `/devices`).
        device_id: String,
        /// What `LOGIN` calls this device.
        device_name: String,
    },
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Login::Unclaimed => f.write_str("Unclaimed"),
            Login::Token { device_id, .. } => f
                .debug_struct("Token")
                .field("token", &"<hidden>")
                .field("device_id", device_id)
                .finish(),
        }
    }
}

/// How the worker connects and keeps the connection.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub id: String,
    pub target: Target,
    /// How each connection logs in.
    pub login: Login,
    /// How often to measure the round trip (and so keep the session alive).
    pub heartbeat: Duration,
    /// A connection that leaves a request unanswered this long is given up and reconnected.
    pub answer_timeout: Duration,
    /// The first wait before reconnecting; it doubles at each failure, up to `backoff_max`.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl WorkerConfig {
    /// A worker for `id` that logs in without an account ([`Login::Unclaimed`]); set
    /// [`WorkerConfig::login`] for a signed-in one.
    pub fn new(id: impl Into<String>, target: Target) -> WorkerConfig {
        WorkerConfig {
            id: id.into(),
            target,
            login: Login::Unclaimed,
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
