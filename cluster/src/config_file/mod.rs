//! Role config files: JSON with the original's field names, plus this project's.
//!
//! `fishchat gateway|msg-server|router|manager|monitor --config FILE` reads one of these.
//! The original's files (`gateway.json`, `msg_server.19000.json`, `router.json`,
//! `manager.json`) are accepted as they are; `testdata/` holds a complete set for a
//! two-msg_server cluster, with a `monitor.json`. A field no role knows, a field this role
//! does not use, or a value of the wrong type is an error that names the field (in the
//! monitor's file, a field it does not use is an unknown field, with its own listed).
//!
//! | field | roles | meaning |
//! | --- | --- | --- |
//! | `Listen` | all | the address to listen on, e.g. `"0.0.0.0:19000"`; the monitor's is its role port, answering `ROLE_STATUS` (required) |
//! | `LocalIP` | msg_server | the address others reach it at, its name in the session store; default: `Listen`, where that names one host |
//! | `MsgServerList` | gateway, router, manager, monitor | the msg_servers' addresses (required) |
//! | `MsgServerNum` | gateway, monitor | must match `MsgServerList`, where given |
//! | `UUID` | router, manager, monitor | the name it subscribes under; default: the role's name |
//! | `ScanDeadSessionTimeout` | msg_server | seconds; a connection silent for two of these is dropped (50) |
//! | `Expire` | msg_server | seconds; the `MaxAge` of `CACHE_SESSION` / `CACHE_TOPIC` events (100) |
//! | `MonitorBeatTime` | msg_server, gateway, monitor | seconds between monitor beats (5); the gateway and the monitor count a msg_server down after three missed |
//! | `Redis` | msg_server, router, manager | `{Addr, Port, ConnectTimeout, ReadTimeout, WriteTimeout}` (ms), plus `Password`, `Prefix` (`"IM:"`) |
//! | `Mongo` | msg_server, router, manager | `{Addr, Port, User, Password}`, plus `Database` (`"im"`) |
//! | `RedisURL`, `MongoURL` | msg_server, router, manager | the same as a URL (`redis://..`, `mongodb://..`), instead of the section |
//! | `Store` | msg_server, router, manager | `"redis+mongo"`, `"redis"`, `"mongo"` or `"embedded"`; default: the backends configured |
//! | `DataDir` | msg_server, router, manager | where the embedded store's file is (`Store: "embedded"` only) |
//! | `Auth` | msg_server | who may use an id: `"open"` (anyone, as the original), `"claimed"` (an id with an account only after `LOGIN`; the default), `"required"` (every id needs an account) |
//! | `ClientQueueBytes` | msg_server | bytes of frames that may wait for a client that does not read before it is cut (16 MiB) |
//! | `Registration` | msg_server | who may make accounts: `"open"` (anyone, by `REGISTER`; the default) or `"closed"` (operators only) |
//! | `WebListen` | monitor | the dashboard, e.g. `"127.0.0.1:30000"` (default: `Listen`'s host, port 30000) |
//! | `Gateway`, `Router`, `Manager` | monitor | addresses of the other roles to show (optional) |
//! | `HistoryMinutes` | monitor | how far back the dashboard's charts reach (15) |
//! | `Login` | monitor | `{User, PasswordHash}`: required unless `WebListen` is a loopback address; the hash from `fishchat monitor hash-password` |
//! | `Secret` | all | the cluster secret internal links present |
//! | `MaxFrame` | all | the longest frame accepted, in bytes (1 MiB) |
//! | `TransportProtocols` | all | the original's; only `"tcp"` |
//! | `LogFile`, `SessionManagerServerList` | as in the original | accepted and unused: logs go to stderr; msg_servers need no manager address |
//!
//! Roles in separate processes share state only through Redis or MongoDB: the embedded store
//! is one process's file, so a role given `Store: "embedded"` shares nothing with the others
//! (see [`crate::store::choice`]).
//!
//! Here, [`RoleFile`] and its setups (gateway, msg_server, router, manager); beside it,
//! `fields.rs` (the roles and what their files hold), `checks.rs` (reading a file and the
//! checks the roles share), `store.rs` (the store fields), `monitor.rs` (the monitor's file,
//! [`MonitorSetup`]: a struct of its own, as most of its fields are its own, read and
//! checked the same way) and `error.rs`.

mod checks;
mod error;
mod fields;
mod monitor;
mod store;
#[cfg(test)]
mod tests;

use std::path::Path;

use crate::config::{
    Common, GatewayConfig, LinkConfig, ManagerConfig, MsgServerConfig, RouterConfig,
};
use crate::store::StoreChoice;

pub use error::{ConfigError, ConfigFileError};
pub use fields::{MongoSection, RedisSection, Role, RoleFile};
pub use monitor::{MonitorSetup, DEFAULT_WEB_PORT};

/// A gateway, as its file describes it.
#[derive(Debug, Clone)]
pub struct GatewaySetup {
    pub listen: String,
    pub config: GatewayConfig,
}

/// A msg_server, as its file describes it. `config.advertise` is `LocalIP`, or `Listen`
/// where that names one host and a port; otherwise the bound address must be used.
#[derive(Debug, Clone)]
pub struct MsgServerSetup {
    pub listen: String,
    pub config: MsgServerConfig,
    pub store: StoreChoice,
}

/// A router or a manager, as its file describes it.
#[derive(Debug, Clone)]
pub struct LinkedSetup<C> {
    pub listen: String,
    pub config: C,
    pub store: StoreChoice,
}

impl RoleFile {
    /// Reads and checks `path` for `role` (the gateway, msg_server, router or manager; the
    /// monitor's file is [`MonitorSetup`]).
    pub fn load(path: &Path, role: Role) -> Result<RoleFile, ConfigFileError> {
        let text = checks::read(path, role)?;
        RoleFile::parse(&text, role).map_err(|e| ConfigFileError::new(path, e))
    }

    /// Parses and checks `text` as a config file for `role`; the error names the field.
    pub fn parse(text: &str, role: Role) -> Result<RoleFile, ConfigError> {
        let file: RoleFile = checks::deserialize(text, role)?;
        file.check(role, text)?;
        Ok(file)
    }

    /// Refuses fields this role does not use, and values no role could use.
    fn check(&self, role: Role, text: &str) -> Result<(), ConfigError> {
        let present: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).map_err(ConfigError::NotAnObject)?;
        let used = role.fields();
        let mut foreign: Vec<String> = present
            .into_iter()
            .map(|(name, _)| name)
            .filter(|name| !used.contains(&name.as_str()))
            .collect();
        foreign.sort_unstable();
        if !foreign.is_empty() {
            return Err(ConfigError::DoesNotApply {
                role,
                fields: foreign,
            });
        }
        checks::transport(self.transport_protocols.as_deref())?;
        checks::listen(self.listen.as_deref(), role)?;
        Ok(())
    }

    fn listen(&self) -> String {
        self.listen.clone().unwrap_or_default()
    }

    fn msg_servers(&self, role: Role) -> Result<Vec<String>, ConfigError> {
        checks::msg_servers(self.msg_server_list.as_deref(), self.msg_server_num, role)
    }

    fn common(&self) -> Result<Common, ConfigError> {
        checks::common(self.secret.as_deref(), self.max_frame)
    }

    fn link(&self, role: Role) -> Result<LinkConfig, ConfigError> {
        Ok(checks::link(self.common()?, self.uuid.as_deref(), role))
    }

    /// The gateway this file describes.
    pub fn gateway(&self) -> Result<GatewaySetup, ConfigError> {
        Ok(GatewaySetup {
            listen: self.listen(),
            config: GatewayConfig {
                link: self.link(Role::Gateway)?,
                msg_servers: self.msg_servers(Role::Gateway)?,
                monitor_beat: checks::seconds(self.monitor_beat_time, "MonitorBeatTime", 5)?,
            },
        })
    }

    /// The msg_server this file describes.
    pub fn msg_server(&self) -> Result<MsgServerSetup, ConfigError> {
        let defaults = MsgServerConfig::default();
        let scan = checks::seconds(
            self.scan_dead_session_timeout,
            "ScanDeadSessionTimeout",
            defaults.scan_dead_session_timeout.as_secs(),
        )?;
        let listen = self.listen();
        let advertise = match &self.local_ip {
            Some(ip) if ip.is_empty() => return Err(ConfigError::EmptyLocalIp),
            Some(ip) => Some(ip.clone()),
            None => names_one_host(&listen).then(|| listen.clone()),
        };
        Ok(MsgServerSetup {
            listen,
            config: MsgServerConfig {
                common: self.common()?,
                advertise,
                scan_dead_session_timeout: scan,
                expire: checks::seconds(self.expire, "Expire", defaults.expire.as_secs())?,
                monitor_beat: checks::seconds(
                    self.monitor_beat_time,
                    "MonitorBeatTime",
                    defaults.monitor_beat.as_secs(),
                )?,
                auth: self.auth.unwrap_or(defaults.auth),
                registration: self.registration.unwrap_or(defaults.registration),
                client_queue_bytes: self
                    .client_queue_bytes
                    .unwrap_or(defaults.client_queue_bytes),
                ..defaults
            },
            store: self.store()?,
        })
    }

    /// The router this file describes.
    pub fn router(&self) -> Result<LinkedSetup<RouterConfig>, ConfigError> {
        Ok(LinkedSetup {
            listen: self.listen(),
            config: RouterConfig {
                link: self.link(Role::Router)?,
                msg_servers: self.msg_servers(Role::Router)?,
            },
            store: self.store()?,
        })
    }

    /// The manager this file describes.
    pub fn manager(&self) -> Result<LinkedSetup<ManagerConfig>, ConfigError> {
        Ok(LinkedSetup {
            listen: self.listen(),
            config: ManagerConfig {
                link: self.link(Role::Manager)?,
                msg_servers: self.msg_servers(Role::Manager)?,
            },
            store: self.store()?,
        })
    }

    /// What the file holds that is accepted for the original's sake and not used, for a
    /// note in the log.
    pub fn unused(&self) -> Vec<&'static str> {
        let mut unused = Vec::new();
        if self.log_file.is_some() {
            unused.push("LogFile (logs go to stderr)");
        }
        if self.session_manager_server_list.is_some() {
            unused.push("SessionManagerServerList (msg_servers need no manager address)");
        }
        unused
    }
}

/// Whether `addr` is `host:port` with a host others can reach (not 0.0.0.0 or ::) and a
/// port that is not 0.
fn names_one_host(addr: &str) -> bool {
    match addr.parse::<std::net::SocketAddr>() {
        Ok(a) => !a.ip().is_unspecified() && a.port() != 0,
        // A host name: it names one host if it has a port.
        Err(_) => addr
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p != 0)),
    }
}
