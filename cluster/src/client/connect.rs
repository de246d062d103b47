//! How a client opens a connection: its options, and what the server answered to the
//! `HELLO` that puts every SDK connection at the fishchat protocol level.

use crate::protocol::DEFAULT_MAX_FRAME;

/// How a client connects: the largest frame it takes, and what it calls itself in the
/// `HELLO` that opens every connection (shown by `fishchat-admin inspect sessions`).
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_frame: usize,
    pub client_name: String,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions::named(format!("fishchat-sdk/{}", env!("CARGO_PKG_VERSION")))
    }
}

impl ConnectOptions {
    /// The defaults, under another name.
    pub fn named(client_name: impl Into<String>) -> Self {
        ConnectOptions {
            max_frame: DEFAULT_MAX_FRAME,
            client_name: client_name.into(),
        }
    }
}

/// What the server answered to `HELLO`: the fishchat level's version both speak, what the
/// server is, and what it offers (see [`crate::protocol::level::feature`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerHello {
    pub version: u64,
    pub server: String,
    pub features: Vec<String>,
}

impl ServerHello {
    pub fn offers(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }
}
