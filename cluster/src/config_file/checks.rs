//! What every role's file goes through: reading it, turning its JSON into the role's
//! struct with the field named on error, and the checks of the fields several roles
//! share (`Listen`, `TransportProtocols`, `MsgServerList`, `MaxFrame`, `UUID`, seconds).

use std::path::Path;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::error::{ConfigError, ConfigFileError};
use super::fields::Role;
use crate::config::{Common, LinkConfig};
use crate::protocol::DEFAULT_MAX_FRAME;

/// The text of `role`'s file at `path`.
pub(super) fn read(path: &Path, role: Role) -> Result<String, ConfigFileError> {
    std::fs::read_to_string(path)
        .map_err(|error| ConfigFileError::new(path, ConfigError::Unreadable { role, error }))
}

/// `text` as `role`'s file: an error names the field it is about.
pub(super) fn deserialize<T: DeserializeOwned>(text: &str, role: Role) -> Result<T, ConfigError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let error = e.into_inner();
        if field == "." || field.is_empty() {
            ConfigError::NotARoleFile { role, error }
        } else {
            ConfigError::BadField { field, error }
        }
    })
}

/// `TransportProtocols`: only TCP, as the original's clients speak it.
pub(super) fn transport(protocols: Option<&str>) -> Result<(), ConfigError> {
    match protocols {
        Some(t) if !t.eq_ignore_ascii_case("tcp") => Err(ConfigError::Transport(t.to_string())),
        _ => Ok(()),
    }
}

/// `Listen`, which every role needs.
pub(super) fn listen(listen: Option<&str>, role: Role) -> Result<String, ConfigError> {
    match listen {
        Some(l) if !l.is_empty() => Ok(l.to_string()),
        _ => Err(ConfigError::NoListen { role }),
    }
}

/// `MsgServerList`, not empty, and as long as `MsgServerNum` says where that is given.
pub(super) fn msg_servers(
    list: Option<&[String]>,
    num: Option<usize>,
    role: Role,
) -> Result<Vec<String>, ConfigError> {
    let list = list.unwrap_or_default().to_vec();
    if list.is_empty() {
        return Err(ConfigError::NoMsgServers { role });
    }
    if let Some(n) = num {
        if n != list.len() {
            return Err(ConfigError::MsgServerNum {
                given: n,
                listed: list.len(),
            });
        }
    }
    Ok(list)
}

/// `Secret` (an empty one is none) and `MaxFrame`.
pub(super) fn common(
    secret: Option<&str>,
    max_frame: Option<usize>,
) -> Result<Common, ConfigError> {
    let max_frame = max_frame.unwrap_or(DEFAULT_MAX_FRAME);
    if max_frame == 0 {
        return Err(ConfigError::TooSmall {
            field: "MaxFrame",
            unit: "byte",
        });
    }
    Ok(Common {
        secret: secret.filter(|s| !s.is_empty()).map(str::to_string),
        max_frame,
    })
}

/// The links' settings: `common`, subscribed under `UUID`, else the role's name.
pub(super) fn link(common: Common, uuid: Option<&str>, role: Role) -> LinkConfig {
    LinkConfig::new(common, uuid.unwrap_or(role.name()))
}

/// A number of seconds, `default` where not given; at least 1.
pub(super) fn seconds(
    v: Option<u64>,
    field: &'static str,
    default: u64,
) -> Result<Duration, ConfigError> {
    match v.unwrap_or(default) {
        0 => Err(ConfigError::TooSmall {
            field,
            unit: "second",
        }),
        s => Ok(Duration::from_secs(s)),
    }
}
