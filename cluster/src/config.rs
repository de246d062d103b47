//! Settings of each role, with the original's defaults. Files and flags are turned into
//! these by the binaries.

use std::time::Duration;

use crate::protocol::DEFAULT_MAX_FRAME;

/// Settings every role shares.
#[derive(Debug, Clone)]
pub struct Common {
    /// Where configured, `SUBSCRIBE_CHANNEL` and the internal commands need it.
    pub secret: Option<String>,
    /// The longest frame accepted, in bytes.
    pub max_frame: usize,
}

impl Default for Common {
    fn default() -> Self {
        Self {
            secret: None,
            max_frame: DEFAULT_MAX_FRAME,
        }
    }
}

/// A msg_server.
#[derive(Debug, Clone)]
pub struct MsgServerConfig {
    pub common: Common,
    /// The address other roles and clients reach this server at; the name it has in the
    /// session store. Defaults to the bound address.
    pub advertise: Option<String>,
    /// The original's `ScanDeadSessionTimeout`: a connection silent for two of these is
    /// dropped.
    pub scan_dead_session_timeout: Duration,
    /// The original's `Expire`: the `MaxAge` announced with `CACHE_SESSION` and
    /// `CACHE_TOPIC`, how long a cache may keep what they say.
    pub expire: Duration,
    /// The original's `MonitorBeatTime`: how often `/sysctrl/monitor` gets a beat.
    pub monitor_beat: Duration,
    /// Frames that may wait for a client that is not reading before it is cut off.
    pub client_queue: usize,
    /// The same for internal links (router, manager, monitor), which carry more.
    pub internal_queue: usize,
    /// Bytes of frames that may wait for a client that is not reading: with frames of up to
    /// `max_frame` each, a frame count alone would let one slow reader hold a gigabyte.
    pub client_queue_bytes: usize,
    /// The same for internal links.
    pub internal_queue_bytes: usize,
    /// Who may use an id: `Auth` in the file, `--auth` on the command line.
    pub auth: crate::protocol::AuthPolicy,
    /// Who may make accounts: `Registration`, `--registration`.
    pub registration: crate::protocol::Registration,
}

impl Default for MsgServerConfig {
    fn default() -> Self {
        Self {
            common: Common::default(),
            advertise: None,
            scan_dead_session_timeout: Duration::from_secs(50),
            expire: Duration::from_secs(100),
            monitor_beat: Duration::from_secs(5),
            client_queue: 1024,
            internal_queue: 256 * 1024,
            client_queue_bytes: 16 * 1024 * 1024,
            internal_queue_bytes: 256 * 1024 * 1024,
            auth: Default::default(),
            registration: Default::default(),
        }
    }
}

/// How a role keeps its links to the msg_servers.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    pub common: Common,
    /// The name the role subscribes under (the original's subscriber id).
    pub subscriber: String,
    /// First retry delay after a failure; doubles up to `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// How often the link sends `SEND_PING` (the original clients' 20 s).
    pub ping_every: Duration,
}

impl LinkConfig {
    pub fn new(common: Common, subscriber: impl Into<String>) -> Self {
        Self {
            common,
            subscriber: subscriber.into(),
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(2),
            ping_every: Duration::from_secs(20),
        }
    }
}

/// The gateway.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub link: LinkConfig,
    /// The original's `MsgServerList`.
    pub msg_servers: Vec<String>,
    /// A msg_server whose beats stop for three of these is down.
    pub monitor_beat: Duration,
}

/// The router.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    pub link: LinkConfig,
    pub msg_servers: Vec<String>,
}

/// The manager.
#[derive(Debug, Clone)]
pub struct ManagerConfig {
    pub link: LinkConfig,
    pub msg_servers: Vec<String>,
}

/// The monitor: watches every msg_server and serves the web dashboard.
#[derive(Debug, Clone)]
pub struct MonitorConfig {
    pub link: LinkConfig,
    /// The original's `MsgServerList`.
    pub msg_servers: Vec<String>,
    /// The msg_servers' `MonitorBeatTime`: a msg_server whose beats stop for three of these
    /// is down, and the dashboard's history is sampled at this pace (at the finest).
    pub monitor_beat: Duration,
    /// The other roles to show on the dashboard, asked for `ROLE_STATUS` every `role_poll`.
    pub roles: Vec<RoleAddr>,
    pub role_poll: Duration,
    /// How far back the dashboard's charts reach.
    pub history: Duration,
    /// The dashboard's login. Without one the web listener must be on a loopback address;
    /// with one, a login is needed wherever it listens.
    pub login: Option<WebLogin>,
}

impl MonitorConfig {
    /// The original's defaults: 5 s beats, 15 minutes of history, no other roles, no login.
    pub fn new(link: LinkConfig, msg_servers: Vec<String>) -> Self {
        Self {
            link,
            msg_servers,
            monitor_beat: Duration::from_secs(5),
            roles: Vec::new(),
            role_poll: Duration::from_secs(2),
            history: Duration::from_secs(15 * 60),
            login: None,
        }
    }
}

/// A role the monitor shows: `role` is "gateway", "router", "manager", ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAddr {
    pub role: String,
    pub addr: String,
}

/// The dashboard's one user. The password is stored only as a hash (see
/// `roles::monitor::auth::hash_password`); there is no default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebLogin {
    pub user: String,
    /// `$pbkdf2-sha256$i=<iterations>,l=32$<salt>$<hash>` (PHC string, base64 unpadded).
    pub password_hash: String,
}
