//! The monitor's config file (`fishchat monitor --config FILE`, see `testdata/monitor.json`).
//! Its fields are in the table of [`super`]; most are the monitor's own (`WebListen`, the
//! other roles' addresses, `HistoryMinutes`, `Login`), so it has a struct of its own, which
//! refuses any other field as unknown. Reading, the field named on error, and the checks
//! of the fields it shares with the other roles are theirs ([`super::checks`]).

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::checks;
use super::error::{ConfigError, ConfigFileError};
use super::fields::Role;
use crate::config::{MonitorConfig, RoleAddr, WebLogin};
use crate::roles::monitor::auth::Guard;

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
        let text = checks::read(path, Role::Monitor)?;
        MonitorSetup::parse(&text).map_err(|e| ConfigFileError::new(path, e))
    }

    /// Parses and checks `text`; the error names the field.
    pub fn parse(text: &str) -> Result<MonitorSetup, ConfigError> {
        let role = Role::Monitor;
        let f: MonitorFile = checks::deserialize(text, role)?;
        checks::transport(f.transport_protocols.as_deref())?;
        let listen = checks::listen(f.listen.as_deref(), role)?;
        let web_listen = match &f.web_listen {
            Some(w) if w.is_empty() => return Err(ConfigError::EmptyWebListen),
            Some(w) => w.clone(),
            None => format!("{}:{DEFAULT_WEB_PORT}", host_of(&listen)),
        };
        let msg_servers =
            checks::msg_servers(f.msg_server_list.as_deref(), f.msg_server_num, role)?;
        let common = checks::common(f.secret.as_deref(), f.max_frame)?;
        let link = checks::link(common, f.uuid.as_deref(), role);
        let mut config = MonitorConfig::new(link, msg_servers);
        config.monitor_beat = checks::seconds(
            f.monitor_beat_time,
            "MonitorBeatTime",
            config.monitor_beat.as_secs(),
        )?;
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
            Guard::new(&login).map_err(ConfigError::Login)?;
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

    #[test]
    fn every_field_the_monitor_lists_is_one_its_file_takes() {
        let text = Role::Monitor.every_field_null();
        let taken = checks::deserialize::<MonitorFile>(&text, Role::Monitor);
        assert!(taken.is_ok(), "{}", taken.unwrap_err());
    }
}
