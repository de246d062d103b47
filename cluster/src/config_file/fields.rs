//! What a role's file may hold: the roles, the fields each uses, and [`RoleFile`], every
//! field of the gateway's, msg_server's, router's and manager's files. The monitor's file
//! has a struct of its own (`monitor.rs`).

use std::fmt;
use std::path::PathBuf;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// The fields that choose and reach a store.
pub(super) const STORE_FIELDS: [&str; 6] =
    ["Redis", "Mongo", "RedisURL", "MongoURL", "Store", "DataDir"];

/// The roles a config file can be for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Gateway,
    MsgServer,
    Router,
    Manager,
    /// Its file is read by [`MonitorSetup`](super::MonitorSetup), not [`RoleFile`].
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

    pub(super) fn keeps_a_store(self) -> bool {
        !matches!(self, Role::Gateway | Role::Monitor)
    }

    /// What `Listen` is for this role, with an example.
    pub(super) fn listen_hint(self) -> &'static str {
        match self {
            Role::Monitor => "the monitor's role port, e.g. \"127.0.0.1:21000\"",
            _ => "the address to listen on, e.g. \"0.0.0.0:19000\"",
        }
    }

    /// The fields this role uses.
    pub fn fields(self) -> Vec<&'static str> {
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
                "Auth",
                "Registration",
                "ClientQueueBytes",
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

#[cfg(test)]
impl Role {
    /// `{"Field": null, ..}` for each field this role uses: a file its struct must take.
    pub(super) fn every_field_null(self) -> String {
        let nulls: serde_json::Map<String, serde_json::Value> = self
            .fields()
            .into_iter()
            .map(|f| (f.to_string(), serde_json::Value::Null))
            .collect();
        serde_json::Value::Object(nulls).to_string()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every field the gateway's, msg_server's, router's and manager's files may hold;
/// [`Role::fields`] says which a role uses.
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
    /// `"open"`, `"claimed"` or `"required"` (msg_server).
    #[serde(rename = "Auth")]
    pub auth: Option<crate::protocol::AuthPolicy>,
    /// `"open"` or `"closed"` (msg_server).
    #[serde(rename = "Registration")]
    pub registration: Option<crate::protocol::Registration>,
    /// Bytes of frames that may wait for a client that does not read (msg_server).
    #[serde(rename = "ClientQueueBytes")]
    pub client_queue_bytes: Option<usize>,
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
