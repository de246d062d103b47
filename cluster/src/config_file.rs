//! Role config files: JSON with the original's field names, plus this project's.
//!
//! `fishchat gateway|msg-server|router|manager --config FILE` reads one of these. The
//! original's files (`gateway.json`, `msg_server.19000.json`, `router.json`,
//! `manager.json`) are accepted as they are; `testdata/` holds a complete set for a
//! two-msg_server cluster. A field no role knows, a field this role does not use, or a value
//! of the wrong type is an error that names the field.
//!
//! | field | roles | meaning |
//! | --- | --- | --- |
//! | `Listen` | all | the address to listen on, e.g. `"0.0.0.0:19000"` (required) |
//! | `LocalIP` | msg_server | the address others reach it at, its name in the session store; default: `Listen`, where that names one host |
//! | `MsgServerList` | gateway, router, manager | the msg_servers' addresses (required) |
//! | `MsgServerNum` | gateway | must match `MsgServerList`, where given |
//! | `UUID` | router, manager | the name it subscribes under; default: the role's name |
//! | `ScanDeadSessionTimeout` | msg_server | seconds; a connection silent for two of these is dropped (50) |
//! | `Expire` | msg_server | seconds; the `MaxAge` of `CACHE_SESSION` / `CACHE_TOPIC` events (100) |
//! | `MonitorBeatTime` | msg_server, gateway | seconds between monitor beats (5); the gateway counts a msg_server down after three missed |
//! | `Redis` | msg_server, router, manager | `{Addr, Port, ConnectTimeout, ReadTimeout, WriteTimeout}` (ms), plus `Password`, `Prefix` (`"IM:"`) |
//! | `Mongo` | msg_server, router, manager | `{Addr, Port, User, Password}`, plus `Database` (`"im"`) |
//! | `RedisURL`, `MongoURL` | msg_server, router, manager | the same as a URL (`redis://..`, `mongodb://..`), instead of the section |
//! | `Store` | msg_server, router, manager | `"redis+mongo"`, `"redis"`, `"mongo"` or `"embedded"`; default: the backends configured |
//! | `DataDir` | msg_server, router, manager | where the embedded store's file is (`Store: "embedded"` only) |
//! | `Secret` | all | the cluster secret internal links present |
//! | `MaxFrame` | all | the longest frame accepted, in bytes (1 MiB) |
//! | `TransportProtocols` | all | the original's; only `"tcp"` |
//! | `LogFile`, `SessionManagerServerList` | as in the original | accepted and unused: logs go to stderr; msg_servers need no manager address |
//!
//! Roles in separate processes share state only through Redis or MongoDB: the embedded store
//! is one process's file, so a role given `Store: "embedded"` shares nothing with the others
//! (see [`crate::store::choice`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::config::{
    Common, GatewayConfig, LinkConfig, ManagerConfig, MsgServerConfig, RouterConfig,
};
use crate::protocol::DEFAULT_MAX_FRAME;
use crate::roles::monitor::auth::AuthError;
use crate::store::redis::DEFAULT_PREFIX;
use crate::store::{BackendTimeouts, EmbeddedOptions, MongoOptions, RedisOptions, StoreChoice};

/// The fields that choose and reach a store.
const STORE_FIELDS: [&str; 6] = ["Redis", "Mongo", "RedisURL", "MongoURL", "Store", "DataDir"];

/// The roles a config file can be for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Gateway,
    MsgServer,
    Router,
    Manager,
    /// Read by [`MonitorSetup`](crate::roles::monitor::setup::MonitorSetup), not [`RoleFile`].
    Monitor,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Gateway => "gateway",
            Role::MsgServer => "msg_server",
            Role::Router => "router",
            Role::Manager => "manager",
            Role::Monitor => "monitor",
        }
    }

    fn keeps_a_store(self) -> bool {
        !matches!(self, Role::Gateway | Role::Monitor)
    }

    /// What `Listen` is for this role, with an example.
    fn listen_hint(self) -> &'static str {
        match self {
            Role::Monitor => "the monitor's role port, e.g. \"127.0.0.1:21000\"",
            _ => "the address to listen on, e.g. \"0.0.0.0:19000\"",
        }
    }

    /// The fields this role uses.
    fn fields(self) -> Vec<&'static str> {
        const COMMON: [&str; 5] = [
            "Listen",
            "TransportProtocols",
            "LogFile",
            "Secret",
            "MaxFrame",
        ];
        let own: &[&str] = match self {
            Role::Gateway => &["MsgServerList", "MsgServerNum", "MonitorBeatTime"],
            Role::MsgServer => &[
                "LocalIP",
                "ScanDeadSessionTimeout",
                "Expire",
                "MonitorBeatTime",
                "SessionManagerServerList",
            ],
            Role::Router | Role::Manager => &["MsgServerList", "UUID"],
            Role::Monitor => &[
                "WebListen",
                "MsgServerList",
                "MsgServerNum",
                "MonitorBeatTime",
                "Gateway",
                "Router",
                "Manager",
                "HistoryMinutes",
                "Login",
                "UUID",
            ],
        };
        own.iter()
            .chain(COMMON.iter())
            .chain(if self.keeps_a_store() {
                STORE_FIELDS.iter()
            } else {
                [].iter()
            })
            .copied()
            .collect()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a config file was refused. The text names the file and the field.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {error}")]
pub struct ConfigFileError {
    pub path: String,
    pub error: ConfigError,
}

impl ConfigFileError {
    /// `error`, found in the file at `path`.
    pub fn new(path: &Path, error: ConfigError) -> ConfigFileError {
        ConfigFileError {
            path: path.display().to_string(),
            error,
        }
    }
}

/// What is wrong with a role's config file. The text names the field, and says what to
/// give where that is not plain.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the {role} config file: {error}")]
    Unreadable { role: Role, error: std::io::Error },
    /// Not JSON, or JSON that is not an object.
    #[error("not a {role} config file: {error}")]
    NotARoleFile {
        role: Role,
        error: serde_json::Error,
    },
    /// A field no role knows, or a value of the wrong type; `field` is its path.
    #[error("field `{field}`: {error}")]
    BadField {
        field: String,
        error: serde_json::Error,
    },
    #[error("not a JSON object: {0}")]
    NotAnObject(serde_json::Error),
    /// Fields of another role (sorted).
    #[error("{}", does_not_apply(*.role, .fields))]
    DoesNotApply { role: Role, fields: Vec<String> },
    #[error("field `TransportProtocols`: {0:?} is not supported; only \"tcp\"")]
    Transport(String),
    #[error("field `Listen` is missing: {}", .role.listen_hint())]
    NoListen { role: Role },
    #[error(
        "field `MsgServerList` is missing or empty: the {role} needs the msg_servers' addresses"
    )]
    NoMsgServers { role: Role },
    #[error("field `MsgServerNum` is {given} but `MsgServerList` names {listed} msg_servers")]
    MsgServerNum { given: usize, listed: usize },
    /// A number under its least: 1 `unit`.
    #[error("field `{field}`: must be at least 1 {unit}")]
    TooSmall {
        field: &'static str,
        unit: &'static str,
    },
    #[error("field `HistoryMinutes`: at most 1440 (a day)")]
    HistoryTooLong,
    #[error("field `LocalIP` is empty: give the address others reach this msg_server at")]
    EmptyLocalIp,
    #[error("field `WebListen` is empty: the dashboard's address, e.g. \"127.0.0.1:30000\"")]
    EmptyWebListen,
    /// The monitor's address of another role (`Gateway`, `Router`, `Manager`) is empty.
    #[error("field `{}` is empty: the {role}'s address, or leave the field out", capitalized(.role.name()))]
    EmptyRoleAddr { role: Role },
    /// The monitor's `Login` cannot be used.
    #[error("field `Login`: {0}")]
    Login(AuthError),
    #[error(
        "no store configured: give `Redis` and `Mongo` (or `RedisURL` and `MongoURL`); \
             `Store: \"embedded\"` with a `DataDir` serves only roles in one process"
    )]
    NoStore,
    /// `Store` names a backend whose section (or URL) is missing.
    #[error("`Store: {kind:?}` needs `{backend}` (or `{backend}URL`)")]
    StoreNeeds { kind: String, backend: &'static str },
    #[error("`Store: \"embedded\"` needs `DataDir`, the directory of its file (store.redb)")]
    EmbeddedNeedsDataDir,
    #[error("field `Store`: {0:?} is not a store; use \"redis+mongo\", \"redis\", \"mongo\" or \"embedded\"")]
    UnknownStore(String),
    #[error("field `DataDir` is for `Store: \"embedded\"`; this file's store is {kind}")]
    DataDirNotEmbedded { kind: &'static str },
    /// Both `Redis` and `RedisURL` (or `Mongo` and `MongoURL`).
    #[error("give `{backend}` or `{backend}URL`, not both")]
    SectionAndUrl { backend: &'static str },
    #[error("field `RedisURL`: {0:?} is not a Redis URL; like \"redis://127.0.0.1:6379/\"")]
    NotRedisUrl(String),
    #[error("field `MongoURL`: {0:?} is not a MongoDB URL; like \"mongodb://127.0.0.1:27017/im\"")]
    NotMongoUrl(String),
    #[error("field `Mongo.Password` is set but `Mongo.User` is empty")]
    MongoPasswordWithoutUser,
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The text of [`ConfigError::DoesNotApply`].
fn does_not_apply(role: Role, fields: &[String]) -> String {
    let names = fields
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let what = match fields.len() {
        1 => format!("field {names} does not apply"),
        _ => format!("fields {names} do not apply"),
    };
    let why = if !role.keeps_a_store() && fields.iter().any(|n| STORE_FIELDS.contains(&n.as_str()))
    {
        format!(" (the {role} keeps no store)")
    } else {
        String::new()
    };
    format!(
        "{what} to the {role}{why}; its fields are: {}",
        role.fields().join(", ")
    )
}

/// Every field any role's file may hold; [`Role::fields`] says which a role uses.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleFile {
    #[serde(rename = "Listen")]
    pub listen: Option<String>,
    #[serde(rename = "LocalIP")]
    pub local_ip: Option<String>,
    #[serde(rename = "TransportProtocols")]
    pub transport_protocols: Option<String>,
    #[serde(rename = "LogFile")]
    pub log_file: Option<String>,
    #[serde(rename = "UUID")]
    pub uuid: Option<String>,
    #[serde(rename = "MsgServerList")]
    pub msg_server_list: Option<Vec<String>>,
    #[serde(rename = "MsgServerNum")]
    pub msg_server_num: Option<usize>,
    #[serde(rename = "SessionManagerServerList")]
    pub session_manager_server_list: Option<Vec<String>>,
    #[serde(rename = "ScanDeadSessionTimeout")]
    pub scan_dead_session_timeout: Option<u64>,
    #[serde(rename = "Expire")]
    pub expire: Option<u64>,
    #[serde(rename = "MonitorBeatTime")]
    pub monitor_beat_time: Option<u64>,
    #[serde(rename = "Redis")]
    pub redis: Option<RedisSection>,
    #[serde(rename = "Mongo")]
    pub mongo: Option<MongoSection>,
    #[serde(rename = "RedisURL")]
    pub redis_url: Option<String>,
    #[serde(rename = "MongoURL")]
    pub mongo_url: Option<String>,
    #[serde(rename = "Store")]
    pub store: Option<String>,
    #[serde(rename = "DataDir")]
    pub data_dir: Option<PathBuf>,
    #[serde(rename = "Secret")]
    pub secret: Option<String>,
    #[serde(rename = "MaxFrame")]
    pub max_frame: Option<usize>,
}

/// The original's `Redis` section, plus `Password` and `Prefix`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSection {
    #[serde(rename = "Addr")]
    pub addr: String,
    /// `":6379"` as in the original, or `6379`.
    #[serde(rename = "Port", deserialize_with = "port")]
    pub port: u16,
    /// Milliseconds.
    #[serde(rename = "ConnectTimeout")]
    pub connect_timeout: Option<u64>,
    #[serde(rename = "ReadTimeout")]
    pub read_timeout: Option<u64>,
    #[serde(rename = "WriteTimeout")]
    pub write_timeout: Option<u64>,
    #[serde(rename = "Password")]
    pub password: Option<String>,
    #[serde(rename = "Prefix")]
    pub prefix: Option<String>,
}

/// The original's `Mongo` section, plus `Database`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MongoSection {
    #[serde(rename = "Addr")]
    pub addr: String,
    #[serde(rename = "Port", deserialize_with = "port")]
    pub port: u16,
    #[serde(rename = "User", default)]
    pub user: String,
    #[serde(rename = "Password", default)]
    pub password: String,
    #[serde(rename = "Database")]
    pub database: Option<String>,
}

/// A port as the original writes it (`":6379"`), or a bare number.
fn port<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    struct PortVisitor;
    impl Visitor<'_> for PortVisitor {
        type Value = u16;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(r#"a port, like ":6379" or 6379"#)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u16, E> {
            u16::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u16, E> {
            v.trim_start_matches(':')
                .parse()
                .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }
    d.deserialize_any(PortVisitor)
}

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
    /// Reads and checks `path` for `role`.
    pub fn load(path: &Path, role: Role) -> Result<RoleFile, ConfigFileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigFileError::new(path, ConfigError::Unreadable { role, error }))?;
        RoleFile::parse(&text, role).map_err(|e| ConfigFileError::new(path, e))
    }

    /// Parses and checks `text` as a config file for `role`; the error names the field.
    pub fn parse(text: &str, role: Role) -> Result<RoleFile, ConfigError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let file: RoleFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            let error = e.into_inner();
            if field == "." || field.is_empty() {
                ConfigError::NotARoleFile { role, error }
            } else {
                ConfigError::BadField { field, error }
            }
        })?;
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
        if let Some(t) = &self.transport_protocols {
            if !t.eq_ignore_ascii_case("tcp") {
                return Err(ConfigError::Transport(t.clone()));
            }
        }
        if self.listen.as_deref().is_none_or(str::is_empty) {
            return Err(ConfigError::NoListen { role });
        }
        Ok(())
    }

    fn common(&self) -> Result<Common, ConfigError> {
        let max_frame = self.max_frame.unwrap_or(DEFAULT_MAX_FRAME);
        if max_frame == 0 {
            return Err(ConfigError::TooSmall {
                field: "MaxFrame",
                unit: "byte",
            });
        }
        Ok(Common {
            secret: self.secret.clone().filter(|s| !s.is_empty()),
            max_frame,
        })
    }

    fn listen(&self) -> String {
        self.listen.clone().unwrap_or_default()
    }

    fn msg_servers(&self, role: Role) -> Result<Vec<String>, ConfigError> {
        let list = self.msg_server_list.clone().unwrap_or_default();
        if list.is_empty() {
            return Err(ConfigError::NoMsgServers { role });
        }
        if let Some(n) = self.msg_server_num {
            if n != list.len() {
                return Err(ConfigError::MsgServerNum {
                    given: n,
                    listed: list.len(),
                });
            }
        }
        Ok(list)
    }

    fn link(&self, role: Role) -> Result<LinkConfig, ConfigError> {
        let subscriber = self.uuid.clone().unwrap_or_else(|| role.name().to_string());
        Ok(LinkConfig::new(self.common()?, subscriber))
    }

    fn seconds(v: Option<u64>, field: &'static str, default: u64) -> Result<Duration, ConfigError> {
        match v.unwrap_or(default) {
            0 => Err(ConfigError::TooSmall {
                field,
                unit: "second",
            }),
            s => Ok(Duration::from_secs(s)),
        }
    }

    /// The store this file names; see the module documentation.
    pub fn store(&self) -> Result<StoreChoice, ConfigError> {
        let redis = self.redis_options()?;
        let mongo = self.mongo_options()?;
        let kind = match self.store.as_deref() {
            Some(k) => k.to_ascii_lowercase(),
            None => match (&redis, &mongo) {
                (Some(_), Some(_)) => "redis+mongo".into(),
                (Some(_), None) => "redis".into(),
                (None, Some(_)) => "mongo".into(),
                (None, None) => return Err(ConfigError::NoStore),
            },
        };
        let need = |backend: &'static str| ConfigError::StoreNeeds {
            kind: kind.clone(),
            backend,
        };
        let choice = match kind.as_str() {
            "redis+mongo" => StoreChoice::RedisMongo {
                redis: redis.ok_or_else(|| need("Redis"))?,
                mongo: mongo.ok_or_else(|| need("Mongo"))?,
            },
            "redis" => StoreChoice::Redis(redis.ok_or_else(|| need("Redis"))?),
            "mongo" => StoreChoice::Mongo(mongo.ok_or_else(|| need("Mongo"))?),
            "embedded" => {
                let dir = self
                    .data_dir
                    .clone()
                    .ok_or(ConfigError::EmbeddedNeedsDataDir)?;
                StoreChoice::Embedded {
                    path: dir.join("store.redb"),
                    options: EmbeddedOptions::default(),
                }
            }
            other => return Err(ConfigError::UnknownStore(other.to_string())),
        };
        if self.data_dir.is_some() && choice.is_shared() {
            return Err(ConfigError::DataDirNotEmbedded {
                kind: choice.kind(),
            });
        }
        Ok(choice)
    }

    fn redis_options(&self) -> Result<Option<RedisOptions>, ConfigError> {
        let (url, section) = match (&self.redis_url, &self.redis) {
            (Some(_), Some(_)) => return Err(ConfigError::SectionAndUrl { backend: "Redis" }),
            (Some(url), None) => (url.clone(), None),
            (None, Some(s)) => {
                let auth = match &s.password {
                    Some(p) if !p.is_empty() => format!(":{}@", percent_encode(p)),
                    _ => String::new(),
                };
                (
                    format!("redis://{auth}{}:{}/", host(&s.addr), s.port),
                    Some(s),
                )
            }
            (None, None) => return Ok(None),
        };
        // TLS (`rediss://`) is not built in: the `redis` crate's TLS features are off.
        if !url.starts_with("redis://") {
            return Err(ConfigError::NotRedisUrl(url));
        }
        let mut o = RedisOptions::new(url);
        if let Some(s) = section {
            let d = BackendTimeouts::default();
            let ms = |v: Option<u64>, field: &'static str, default: Duration| match v {
                Some(0) => Err(ConfigError::TooSmall { field, unit: "ms" }),
                Some(ms) => Ok(Duration::from_millis(ms)),
                None => Ok(default),
            };
            o.timeouts.connect = ms(s.connect_timeout, "Redis.ConnectTimeout", d.connect)?;
            // One operation is a write and a read: the longer of the two bounds it.
            o.timeouts.op = ms(s.read_timeout, "Redis.ReadTimeout", d.op)?.max(ms(
                s.write_timeout,
                "Redis.WriteTimeout",
                d.op,
            )?);
            o.prefix = s.prefix.clone().unwrap_or_else(|| DEFAULT_PREFIX.into());
        }
        Ok(Some(o))
    }

    fn mongo_options(&self) -> Result<Option<MongoOptions>, ConfigError> {
        let url = match (&self.mongo_url, &self.mongo) {
            (Some(_), Some(_)) => return Err(ConfigError::SectionAndUrl { backend: "Mongo" }),
            (Some(url), None) => url.clone(),
            (None, Some(s)) => {
                let auth = match (s.user.is_empty(), s.password.is_empty()) {
                    (true, true) => String::new(),
                    (true, false) => return Err(ConfigError::MongoPasswordWithoutUser),
                    (false, _) => format!(
                        "{}:{}@",
                        percent_encode(&s.user),
                        percent_encode(&s.password)
                    ),
                };
                let db = s
                    .database
                    .clone()
                    .unwrap_or_else(|| crate::store::mongo::DEFAULT_DATABASE.into());
                format!("mongodb://{auth}{}:{}/{db}", host(&s.addr), s.port)
            }
            (None, None) => return Ok(None),
        };
        // `mongodb+srv://` needs the driver's DNS resolver, which is not built in.
        if !url.starts_with("mongodb://") {
            return Err(ConfigError::NotMongoUrl(url));
        }
        Ok(Some(MongoOptions::new(url)))
    }

    /// The gateway this file describes.
    pub fn gateway(&self) -> Result<GatewaySetup, ConfigError> {
        Ok(GatewaySetup {
            listen: self.listen(),
            config: GatewayConfig {
                link: self.link(Role::Gateway)?,
                msg_servers: self.msg_servers(Role::Gateway)?,
                monitor_beat: Self::seconds(self.monitor_beat_time, "MonitorBeatTime", 5)?,
            },
        })
    }

    /// The msg_server this file describes.
    pub fn msg_server(&self) -> Result<MsgServerSetup, ConfigError> {
        let defaults = MsgServerConfig::default();
        let scan = Self::seconds(
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
                expire: Self::seconds(self.expire, "Expire", defaults.expire.as_secs())?,
                monitor_beat: Self::seconds(
                    self.monitor_beat_time,
                    "MonitorBeatTime",
                    defaults.monitor_beat.as_secs(),
                )?,
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

/// An IPv6 address goes in brackets in a URL.
fn host(addr: &str) -> String {
    if addr.contains(':') && !addr.starts_with('[') {
        format!("[{addr}]")
    } else {
        addr.to_string()
    }
}

/// Escapes everything but unreserved characters, for a URL's user and password.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata")
            .join(name)
    }

    const ORIGINAL_MSG_SERVER: &str = r#"{
        "LocalIP"                  : "127.0.0.1:19000",
        "TransportProtocols"       : "tcp",
        "Listen"                   : "0.0.0.0:19000",
        "LogFile"                  : "msg_server.log",
        "ScanDeadSessionTimeout"   : 50,
        "Expire"                   : 100,
        "MonitorBeatTime"          : 5,
        "SessionManagerServerList" : ["127.0.0.1:18000"],
        "Redis" : {"Addr": "127.0.0.1", "Port": ":6379", "ConnectTimeout": 2000,
                   "ReadTimeout": 1000, "WriteTimeout": 1000},
        "Mongo" : {"Addr": "127.0.0.1", "Port": ":27017", "User": "", "Password": ""}
    }"#;

    #[test]
    fn the_originals_msg_server_file_is_accepted_as_it_is() {
        let f = RoleFile::parse(ORIGINAL_MSG_SERVER, Role::MsgServer).unwrap();
        let s = f.msg_server().unwrap();
        assert_eq!(s.listen, "0.0.0.0:19000");
        assert_eq!(s.config.advertise.as_deref(), Some("127.0.0.1:19000"));
        assert_eq!(s.config.scan_dead_session_timeout, Duration::from_secs(50));
        assert_eq!(s.config.expire, Duration::from_secs(100));
        assert_eq!(s.config.monitor_beat, Duration::from_secs(5));
        let StoreChoice::RedisMongo { redis, mongo } = s.store else {
            panic!("{:?}", s.store)
        };
        assert_eq!(redis.url, "redis://127.0.0.1:6379/");
        assert_eq!(redis.prefix, "IM:");
        assert_eq!(redis.timeouts.connect, Duration::from_millis(2000));
        assert_eq!(redis.timeouts.op, Duration::from_millis(1000));
        assert_eq!(mongo.url, "mongodb://127.0.0.1:27017/im");
        assert_eq!(f.unused().len(), 2);
    }

    #[test]
    fn an_unknown_field_is_named() {
        let e = RoleFile::parse(r#"{"Listen": "127.0.0.1:1", "Lisen": "x"}"#, Role::Gateway)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `Lisen`"), "{e}");
        assert!(e.contains("`Listen`"), "{e}");
        let e = RoleFile::parse(
            r#"{"Listen": "127.0.0.1:1", "MsgServerList": ["a:1"], "Redis": {"Addr": "h", "Port": 1, "Prot": 2}}"#,
            Role::Router,
        )
        .unwrap_err().to_string();
        assert!(
            e.contains("`Redis.Prot`") || e.contains("unknown field `Prot`"),
            "{e}"
        );
    }

    #[test]
    fn a_mistyped_field_is_named() {
        let e = RoleFile::parse(r#"{"Listen": 19000}"#, Role::Gateway)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("field `Listen`: invalid type: integer `19000`"),
            "{e}"
        );
        let e = RoleFile::parse(
            r#"{"Listen": "h:1", "Redis": {"Addr": "h", "Port": ":sixty"}}"#,
            Role::MsgServer,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("field `Redis.Port`: invalid value"), "{e}");
        let e = RoleFile::parse(r#"{"Listen": "h:1", "Expire": "100"}"#, Role::MsgServer)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("field `Expire`"), "{e}");
    }

    #[test]
    fn a_field_of_another_role_is_named_with_the_role() {
        let e = RoleFile::parse(
            r#"{"Listen": "h:1", "MsgServerList": ["a:1"], "Redis": {"Addr": "h", "Port": 1}}"#,
            Role::Gateway,
        )
        .unwrap_err()
        .to_string();
        let every = RoleFile::parse(
            r#"{"UUID": "g", "Listen": "h:1", "MsgServerList": ["a:1"], "MongoURL": "mongodb://h/"}"#,
            Role::Gateway,
        )
        .unwrap_err().to_string();
        assert!(
            every.starts_with(
                "fields `MongoURL`, `UUID` do not apply to the gateway (the gateway keeps no store)"
            ),
            "{every}"
        );
        assert!(
            e.starts_with(
                "field `Redis` does not apply to the gateway (the gateway keeps no store)"
            ),
            "{e}"
        );
        let e = RoleFile::parse(r#"{"Listen": "h:1", "LocalIP": "h:1"}"#, Role::Router)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("field `LocalIP` does not apply to the router"),
            "{e}"
        );
    }

    #[test]
    fn missing_and_contradictory_settings_are_explained() {
        let router = |extra: &str| {
            RoleFile::parse(
                &format!(r#"{{"Listen": "h:1", "MsgServerList": ["a:1"]{extra}}}"#),
                Role::Router,
            )
            .unwrap()
            .router()
            .map(|r| r.store)
        };
        assert!(router("")
            .unwrap_err()
            .to_string()
            .starts_with("no store configured"));
        assert!(router(r#", "Store": "embedded""#)
            .unwrap_err()
            .to_string()
            .contains("needs `DataDir`"));
        assert!(router(r#", "Store": "redis""#)
            .unwrap_err()
            .to_string()
            .contains("needs `Redis`"));
        assert!(router(r#", "Store": "cassandra""#)
            .unwrap_err()
            .to_string()
            .contains("\"cassandra\" is not a store"));
        assert!(router(r#", "RedisURL": "http://x""#)
            .unwrap_err()
            .to_string()
            .contains("not a Redis URL"));
        assert!(
            router(r#", "RedisURL": "redis://h/", "Redis": {"Addr": "h", "Port": 1}"#)
                .unwrap_err()
                .to_string()
                .contains("not both")
        );
        assert!(
            router(r#", "MongoURL": "mongodb://h/im", "DataDir": "/tmp""#)
                .unwrap_err()
                .to_string()
                .contains("`DataDir` is for")
        );
        assert_eq!(
            router(r#", "Store": "embedded", "DataDir": "/d""#).unwrap(),
            StoreChoice::Embedded {
                path: PathBuf::from("/d/store.redb"),
                options: EmbeddedOptions::default()
            }
        );
        assert_eq!(
            router(r#", "MongoURL": "mongodb://h:1/chat""#).unwrap(),
            StoreChoice::Mongo(MongoOptions::new("mongodb://h:1/chat"))
        );

        let e = RoleFile::parse(r#"{"Listen": "h:1", "MsgServerList": []}"#, Role::Gateway)
            .unwrap()
            .gateway()
            .unwrap_err()
            .to_string();
        assert!(e.contains("`MsgServerList` is missing or empty"), "{e}");
        let e = RoleFile::parse(
            r#"{"Listen": "h:1", "MsgServerList": ["a:1"], "MsgServerNum": 2}"#,
            Role::Gateway,
        )
        .unwrap()
        .gateway()
        .unwrap_err()
        .to_string();
        assert!(e.contains("`MsgServerNum` is 2"), "{e}");
        let e = RoleFile::parse(r#"{"MsgServerList": ["a:1"]}"#, Role::Gateway)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`Listen` is missing"), "{e}");
        let e = RoleFile::parse(
            r#"{"Listen": "h:1", "TransportProtocols": "udp"}"#,
            Role::Gateway,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("only \"tcp\""), "{e}");
    }

    #[test]
    fn credentials_are_escaped_into_the_urls() {
        let f = RoleFile::parse(
            r#"{"Listen": "h:1", "MsgServerList": ["a:1"],
                "Redis": {"Addr": "::1", "Port": 6380, "Password": "p@ss", "Prefix": "T:"},
                "Mongo": {"Addr": "db", "Port": ":27018", "User": "im", "Password": "a/b:c", "Database": "chat"}}"#,
            Role::Manager,
        )
        .unwrap();
        let StoreChoice::RedisMongo { redis, mongo } = f.manager().unwrap().store else {
            panic!()
        };
        assert_eq!(redis.url, "redis://:p%40ss@[::1]:6380/");
        assert_eq!(redis.prefix, "T:");
        assert_eq!(mongo.url, "mongodb://im:a%2Fb%3Ac@db:27018/chat");
    }

    #[test]
    fn a_msg_server_listening_everywhere_needs_its_local_ip_or_the_bound_address() {
        let f = RoleFile::parse(
            r#"{"Listen": "0.0.0.0:19000", "RedisURL": "redis://h/"}"#,
            Role::MsgServer,
        )
        .unwrap();
        assert_eq!(f.msg_server().unwrap().config.advertise, None);
        let f = RoleFile::parse(
            r#"{"Listen": "127.0.0.1:0", "RedisURL": "redis://h/"}"#,
            Role::MsgServer,
        )
        .unwrap();
        assert_eq!(f.msg_server().unwrap().config.advertise, None);
        let f = RoleFile::parse(
            r#"{"Listen": "chat.example:19000", "RedisURL": "redis://h/"}"#,
            Role::MsgServer,
        )
        .unwrap();
        assert_eq!(
            f.msg_server().unwrap().config.advertise.as_deref(),
            Some("chat.example:19000")
        );
    }

    #[test]
    fn the_testdata_set_is_a_complete_two_msg_server_cluster() {
        let gateway = RoleFile::load(&testdata("gateway.json"), Role::Gateway)
            .unwrap()
            .gateway()
            .unwrap();
        let mut servers = Vec::new();
        for name in ["msg_server.19000.json", "msg_server.19001.json"] {
            let s = RoleFile::load(&testdata(name), Role::MsgServer)
                .unwrap()
                .msg_server()
                .unwrap();
            assert_eq!(s.store.kind(), "redis+mongo", "{name}");
            servers.push(s.config.advertise.clone().unwrap());
        }
        let router = RoleFile::load(&testdata("router.json"), Role::Router)
            .unwrap()
            .router()
            .unwrap();
        let manager = RoleFile::load(&testdata("manager.json"), Role::Manager)
            .unwrap()
            .manager()
            .unwrap();
        assert_eq!(gateway.config.msg_servers, servers);
        assert_eq!(router.config.msg_servers, servers);
        assert_eq!(manager.config.msg_servers, servers);
        assert_eq!(router.store.kind(), "redis+mongo");
        assert_eq!(manager.store.kind(), "redis+mongo");
        let monitor =
            crate::roles::monitor::setup::MonitorSetup::load(&testdata("monitor.json")).unwrap();
        assert_eq!(monitor.config.msg_servers, servers);
        let secrets = [
            gateway.config.link.common.secret,
            router.config.link.common.secret,
            manager.config.link.common.secret,
            monitor.config.link.common.secret,
        ];
        assert!(
            secrets.iter().all(|s| s.is_some() && *s == secrets[0]),
            "{secrets:?}"
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let e = RoleFile::load(Path::new("/nonexistent/router.json"), Role::Router).unwrap_err();
        assert_eq!(e.path, "/nonexistent/router.json");
        assert!(
            e.error
                .to_string()
                .starts_with("cannot read the router config file"),
            "{e}"
        );
    }
}
