//! Accounts at the protocol level: the cluster's sign-in policy as `ACCOUNT_INFO` states it,
//! which sessions an `END_SESSIONS` names, and the `AnyData` of the answers about devices and
//! topic members (one definition for the msg_server that answers and the clients that ask).
//!
//! The commands themselves are in [`super::command`] (`account.rs` there); what a msg_server
//! does with them is in `roles/msg_server/account.rs`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Who may use an id (`--auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthPolicy {
    /// The original's behaviour: any id by `SEND_CLIENT_ID`, account or not.
    Open,
    /// An id with an account is used only after `LOGIN`; ids without one work as in the
    /// original, and the first `REGISTER` of an id claims it.
    #[default]
    Claimed,
    /// Every login needs an account: `SEND_CLIENT_ID` is refused.
    Required,
}

/// Who may make accounts (`--registration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    /// Anyone, by `REGISTER`.
    #[default]
    Open,
    /// Operators only (`fishchat-admin user add`).
    Closed,
}

/// A word that is not one of a setting's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} must be {expected}; got {got:?}")]
pub struct BadSetting {
    pub what: &'static str,
    pub expected: &'static str,
    pub got: String,
}

macro_rules! words {
    ($ty:ident, $what:literal, $expected:literal, $($variant:ident => $word:literal),+) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $ty::$variant => $word, )+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = BadSetting;

            fn from_str(s: &str) -> Result<Self, BadSetting> {
                match s {
                    $( $word => Ok($ty::$variant), )+
                    _ => Err(BadSetting { what: $what, expected: $expected, got: s.to_string() }),
                }
            }
        }
    };
}

words!(AuthPolicy, "auth", "open, claimed or required", Open => "open", Claimed => "claimed", Required => "required");
words!(Registration, "registration", "open or closed", Open => "open", Closed => "closed");

/// Which sessions of an id `END_SESSIONS` ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionFilter {
    /// Every session (`fishchat-admin kick`, a deleted account).
    All,
    /// Those that did not sign in with `LOGIN` (the id was just claimed).
    Unsigned,
    /// Those signed in with this device (revoked, or logged out).
    Device(String),
    /// Every session but those of this device (`PASSWD` revoked the others).
    AllBut(String),
}

impl SessionFilter {
    /// Whether a session signed in with `device` (`None`: by `SEND_CLIENT_ID`) is named.
    pub fn matches(&self, device: Option<&str>) -> bool {
        match self {
            SessionFilter::All => true,
            SessionFilter::Unsigned => device.is_none(),
            SessionFilter::Device(d) => device == Some(d.as_str()),
            SessionFilter::AllBut(d) => device != Some(d.as_str()),
        }
    }
}

impl fmt::Display for SessionFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionFilter::All => f.write_str("all"),
            SessionFilter::Unsigned => f.write_str("unsigned"),
            SessionFilter::Device(d) => write!(f, "device:{d}"),
            SessionFilter::AllBut(d) => write!(f, "except:{d}"),
        }
    }
}

impl FromStr for SessionFilter {
    type Err = BadSetting;

    fn from_str(s: &str) -> Result<Self, BadSetting> {
        let bad = || BadSetting {
            what: "which",
            expected: "all, unsigned, device:ID or except:ID",
            got: s.to_string(),
        };
        Ok(match s {
            "all" => SessionFilter::All,
            "unsigned" => SessionFilter::Unsigned,
            _ => match s.split_once(':') {
                Some(("device", d)) if !d.is_empty() => SessionFilter::Device(d.to_string()),
                Some(("except", d)) if !d.is_empty() => SessionFilter::AllBut(d.to_string()),
                _ => return Err(bad()),
            },
        })
    }
}

/// One device of an account, as `DEVICE_LIST` and `INSPECT [user]` show it: never its token
/// or a hash of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub device_id: String,
    /// What the client called it at its first sign-in (`LOGIN`'s `device_name`).
    pub name: String,
    /// Unix milliseconds of the password sign-in that made it.
    pub created_at_ms: u64,
    /// Unix milliseconds of its last sign-in.
    pub last_used_ms: u64,
    /// Whether it is the device of the connection that asked.
    #[serde(default)]
    pub current: bool,
}

/// The `AnyData` of `DEVICE_LIST [id]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceList {
    /// Ordered by when each was made, oldest first.
    pub devices: Vec<DeviceInfo>,
}

/// The `AnyData` of `TOPIC_MEMBER_LIST [topic]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicMembers {
    pub topic: String,
    /// Who created it: the one who may invite and kick.
    pub owner: String,
    /// Joined only by invitation (`CREATE_TOPIC [topic, "invite"]`).
    pub invite_only: bool,
    /// Ordered by id.
    pub members: Vec<String>,
    /// Invited and not joined yet, ordered by id.
    pub invited: Vec<String>,
}

/// What `fishchat-admin inspect user` and `INSPECT [user]` say of an id's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub id: String,
    pub created_at_ms: u64,
    pub devices: Vec<DeviceInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_their_words_and_name_the_choices() {
        assert_eq!("required".parse(), Ok(AuthPolicy::Required));
        assert_eq!("closed".parse(), Ok(Registration::Closed));
        let e = "maybe".parse::<AuthPolicy>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "auth must be open, claimed or required; got \"maybe\""
        );
        assert_eq!(AuthPolicy::default(), AuthPolicy::Claimed);
    }

    #[test]
    fn a_session_filter_round_trips_and_names_its_sessions() {
        for f in [
            SessionFilter::All,
            SessionFilter::Unsigned,
            SessionFilter::Device("d1".into()),
            SessionFilter::AllBut("d2".into()),
        ] {
            assert_eq!(f.to_string().parse(), Ok(f.clone()));
        }
        assert!("device:".parse::<SessionFilter>().is_err());
        assert!(SessionFilter::Unsigned.matches(None));
        assert!(!SessionFilter::Unsigned.matches(Some("d")));
        assert!(SessionFilter::Device("d".into()).matches(Some("d")));
        assert!(!SessionFilter::Device("d".into()).matches(None));
        assert!(SessionFilter::AllBut("d".into()).matches(None));
        assert!(!SessionFilter::AllBut("d".into()).matches(Some("d")));
    }
}
