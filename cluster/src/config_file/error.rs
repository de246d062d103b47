//! Why a role's config file is refused: [`ConfigError`] names the field (its text is what
//! users see), [`ConfigFileError`] the file as well.

use std::path::Path;

use super::fields::{Role, STORE_FIELDS};
use crate::roles::monitor::auth::AuthError;

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
