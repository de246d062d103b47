//! The monitor's config file (`fishchat monitor --config FILE`): JSON with the original's
//! style of field names, like the other roles' files in [`crate::config_file`]. A field
//! the monitor does not know, or a value of the wrong type, is an error naming the field.
//!
//! | field | meaning |
//! | --- | --- |
//! | `Listen` | the role port, answering `ROLE_STATUS`, e.g. `"127.0.0.1:21000"` (required) |
//! | `WebListen` | the dashboard, e.g. `"127.0.0.1:30000"` (default: `Listen`'s host, port 30000) |
//! | `MsgServerList` | the msg_servers to watch (required) |
//! | `MsgServerNum` | must match `MsgServerList`, where given |
//! | `MonitorBeatTime` | the msg_servers' beat period in seconds (5); three missed and a msg_server is down |
//! | `Gateway`, `Router`, `Manager` | addresses of the other roles to show (optional) |
//! | `HistoryMinutes` | how far back the charts reach (15) |
//! | `Login` | `{User, PasswordHash}`: required unless `WebListen` is a loopback address; the hash from `fishchat monitor hash-password` |
//! | `UUID` | the name it subscribes under ("monitor") |
//! | `Secret` | the cluster secret its links present |
//! | `MaxFrame` | the longest frame accepted, in bytes (1 MiB) |
//! | `TransportProtocols`, `LogFile` | as in the original: only `"tcp"`; logs go to stderr |

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{Common, LinkConfig, MonitorConfig, RoleAddr, WebLogin};
use crate::config_file::{ConfigError, ConfigFileError, Role};
use crate::protocol::DEFAULT_MAX_FRAME;

/// The dashboard's port where `WebListen` is not given (the seed's).
pub const DEFAULT_WEB_PORT: u16 = 30000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct MonitorFile {
    listen: Option<String>,
    web_listen: Option<String>,
    msg_server_list: Option<Vec<String>>,
    msg_server_num: Option<usize>,
    monitor_beat_time: Option<u64>,
    gateway: Option<String>,
    router: Option<String>,
    manager: Option<String>,
    history_minutes: Option<u64>,
    login: Option<LoginSection>,
    #[serde(rename = "UUID")]
    uuid: Option<String>,
    secret: Option<String>,
    max_frame: Option<usize>,
    transport_protocols: Option<String>,
    /// Accepted as in the original; logs go to stderr.
    #[allow(dead_code)]
    log_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct LoginSection {
    user: String,
    password_hash: String,
}

/// A monitor, as its file describes it.
#[derive(Debug, Clone)]
pub struct MonitorSetup {
    /// The role port's address.
    pub listen: String,
    /// The dashboard's address.
    pub web_listen: String,
    pub config: MonitorConfig,
}

impl MonitorSetup {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<MonitorSetup, ConfigFileError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            ConfigFileError::new(
                path,
                ConfigError::Unreadable {
                    role: Role::Monitor,
                    error,
                },
            )
        })?;
        MonitorSetup::parse(&text).map_err(|e| ConfigFileError::new(path, e))
    }

    /// Parses and checks `text`; the error names the field.
    pub fn parse(text: &str) -> Result<MonitorSetup, ConfigError> {
        let role = Role::Monitor;
        let mut de = serde_json::Deserializer::from_str(text);
        let f: MonitorFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            let error = e.into_inner();
            if field == "." || field.is_empty() {
                ConfigError::NotARoleFile { role, error }
            } else {
                ConfigError::BadField { field, error }
            }
        })?;
        if let Some(t) = &f.transport_protocols {
            if !t.eq_ignore_ascii_case("tcp") {
                return Err(ConfigError::Transport(t.clone()));
            }
        }
        let listen = f
            .listen
            .clone()
            .filter(|l| !l.is_empty())
            .ok_or(ConfigError::NoListen { role })?;
        let web_listen = match &f.web_listen {
            Some(w) if w.is_empty() => return Err(ConfigError::EmptyWebListen),
            Some(w) => w.clone(),
            None => format!("{}:{DEFAULT_WEB_PORT}", host_of(&listen)),
        };
        let msg_servers = f.msg_server_list.clone().unwrap_or_default();
        if msg_servers.is_empty() {
            return Err(ConfigError::NoMsgServers { role });
        }
        if let Some(n) = f.msg_server_num {
            if n != msg_servers.len() {
                return Err(ConfigError::MsgServerNum {
                    given: n,
                    listed: msg_servers.len(),
                });
            }
        }
        let max_frame = f.max_frame.unwrap_or(DEFAULT_MAX_FRAME);
        if max_frame == 0 {
            return Err(ConfigError::TooSmall {
                field: "MaxFrame",
                unit: "byte",
            });
        }
        let common = Common {
            secret: f.secret.clone().filter(|s| !s.is_empty()),
            max_frame,
        };
        let link = LinkConfig::new(common, f.uuid.clone().unwrap_or_else(|| "monitor".into()));
        let mut config = MonitorConfig::new(link, msg_servers);
        match f.monitor_beat_time {
            Some(0) => {
                return Err(ConfigError::TooSmall {
                    field: "MonitorBeatTime",
                    unit: "second",
                })
            }
            Some(s) => config.monitor_beat = Duration::from_secs(s),
            None => {}
        }
        match f.history_minutes {
            Some(0) => {
                return Err(ConfigError::TooSmall {
                    field: "HistoryMinutes",
                    unit: "minute",
                })
            }
            Some(m) if m > 24 * 60 => return Err(ConfigError::HistoryTooLong),
            Some(m) => config.history = Duration::from_secs(m * 60),
            None => {}
        }
        for (role, addr) in [
            (Role::Gateway, &f.gateway),
            (Role::Router, &f.router),
            (Role::Manager, &f.manager),
        ] {
            if let Some(addr) = addr {
                if addr.is_empty() {
                    return Err(ConfigError::EmptyRoleAddr { role });
                }
                config.roles.push(RoleAddr {
                    role: role.name().into(),
                    addr: addr.clone(),
                });
            }
        }
        if let Some(l) = f.login {
            let login = WebLogin {
                user: l.user,
                password_hash: l.password_hash,
            };
            // Checked now, so a bad hash is reported with the file's name.
            super::auth::Guard::new(&login).map_err(ConfigError::Login)?;
            config.login = Some(login);
        }
        Ok(MonitorSetup {
            listen,
            web_listen,
            config,
        })
    }
}

/// The host part of `host:port` (`[v6]:port` included).
fn host_of(listen: &str) -> &str {
    match listen.rsplit_once(':') {
        Some((h, _)) => h,
        None => listen,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::monitor::auth;

    #[test]
    fn a_full_file_gives_every_setting() {
        let hash = auth::hash_password_with("pw", auth::MIN_ITERATIONS);
        let text = format!(
            r#"{{
                "TransportProtocols": "tcp",
                "Listen": "0.0.0.0:21000",
                "WebListen": "0.0.0.0:30000",
                "LogFile": "/tmp/monitor.log",
                "MsgServerList": ["10.0.0.1:19000", "10.0.0.1:19001"],
                "MsgServerNum": 2,
                "MonitorBeatTime": 2,
                "Gateway": "10.0.0.1:17000",
                "Router": "10.0.0.1:20000",
                "HistoryMinutes": 30,
                "Login": {{"User": "ops", "PasswordHash": "{hash}"}},
                "UUID": "monitor-1",
                "Secret": "s",
                "MaxFrame": 4096
            }}"#
        );
        let s = MonitorSetup::parse(&text).unwrap();
        assert_eq!(s.listen, "0.0.0.0:21000");
        assert_eq!(s.web_listen, "0.0.0.0:30000");
        let c = &s.config;
        assert_eq!(c.msg_servers, ["10.0.0.1:19000", "10.0.0.1:19001"]);
        assert_eq!(c.monitor_beat, Duration::from_secs(2));
        assert_eq!(c.history, Duration::from_secs(1800));
        assert_eq!(
            c.roles,
            [
                RoleAddr {
                    role: "gateway".into(),
                    addr: "10.0.0.1:17000".into()
                },
                RoleAddr {
                    role: "router".into(),
                    addr: "10.0.0.1:20000".into()
                },
            ]
        );
        assert_eq!(c.login.as_ref().unwrap().user, "ops");
        assert_eq!(c.link.subscriber, "monitor-1");
        assert_eq!(c.link.common.secret.as_deref(), Some("s"));
        assert_eq!(c.link.common.max_frame, 4096);
    }

    #[test]
    fn defaults_are_the_originals() {
        let s = MonitorSetup::parse(
            r#"{"Listen": "127.0.0.1:21000", "MsgServerList": ["127.0.0.1:19000"]}"#,
        )
        .unwrap();
        assert_eq!(s.web_listen, "127.0.0.1:30000");
        assert_eq!(s.config.monitor_beat, Duration::from_secs(5));
        assert_eq!(s.config.history, Duration::from_secs(900));
        assert_eq!(s.config.link.subscriber, "monitor");
        assert!(s.config.login.is_none());
        assert!(s.config.roles.is_empty());
    }

    #[test]
    fn mistakes_name_the_field() {
        let base = r#""Listen": "127.0.0.1:21000", "MsgServerList": ["127.0.0.1:19000"]"#;
        for (extra, says) in [
            (r#", "Password": "admin""#, "unknown field `Password`"),
            (r#", "MonitorBeatTime": "5""#, "field `MonitorBeatTime`"),
            (
                r#", "MonitorBeatTime": 0"#,
                "field `MonitorBeatTime`: must be at least 1",
            ),
            (r#", "MsgServerNum": 3"#, "field `MsgServerNum` is 3"),
            (
                r#", "Login": {"User": "ops", "PasswordHash": "admin"}"#,
                "field `Login`: the dashboard login's PasswordHash",
            ),
            (
                r#", "Login": {"User": "ops", "Password": "admin"}"#,
                "field `Login.Password`",
            ),
            (r#", "Router": """#, "field `Router` is empty"),
            (r#", "TransportProtocols": "udp""#, "only \"tcp\""),
            (r#", "HistoryMinutes": 0"#, "field `HistoryMinutes`"),
        ] {
            let e = MonitorSetup::parse(&format!("{{{base}{extra}}}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{extra}: {e}");
        }
        let e = MonitorSetup::parse(r#"{"MsgServerList": ["a:1"]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("field `Listen` is missing"), "{e}");
        let e = MonitorSetup::parse(r#"{"Listen": "a:1"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("field `MsgServerList` is missing"), "{e}");
        let e = MonitorSetup::parse("[]").unwrap_err().to_string();
        assert!(e.contains("not a monitor config file"), "{e}");
    }
}
