//! The seven internal channels a msg_server publishes on.

use std::fmt;
use std::str::FromStr;

/// An internal channel. Names are the original's, byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    ClientStatus,
    TopicStatus,
    TopicSync,
    Send,
    Monitor,
    StoreClientInfo,
    StoreTopicInfo,
}

impl Channel {
    pub const ALL: [Channel; 7] = [
        Channel::ClientStatus,
        Channel::TopicStatus,
        Channel::TopicSync,
        Channel::Send,
        Channel::Monitor,
        Channel::StoreClientInfo,
        Channel::StoreTopicInfo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::ClientStatus => "/sysctrl/client-status",
            Channel::TopicStatus => "/sysctrl/topic-status",
            Channel::TopicSync => "/sysctrl/topic-sync",
            Channel::Send => "/sysctrl/send",
            Channel::Monitor => "/sysctrl/monitor",
            Channel::StoreClientInfo => "/store/client-info",
            Channel::StoreTopicInfo => "/store/topic-info",
        }
    }

    /// Index into per-channel arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name is not one of the seven channels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel {0:?}; channels are /sysctrl/client-status, /sysctrl/topic-status, /sysctrl/topic-sync, /sysctrl/send, /sysctrl/monitor, /store/client-info, /store/topic-info")]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownChannel(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>().unwrap(), c);
        }
        assert!("/sysctrl/nope".parse::<Channel>().is_err());
    }
}
