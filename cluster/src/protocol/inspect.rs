//! The `AnyData` of `INSPECT_RESULT`, one struct per query (see [`InspectQuery`]), so the
//! msg_server that answers and the tools that ask (`fishchat-admin inspect`) share one
//! definition. Field names are snake_case, like `ROLE_STATUS_OK`'s.
//!
//! Lists are cut at [`MAX_ITEMS`] so an answer stays well inside a frame; `total` says how
//! many there were.
//!
//! [`InspectQuery`]: super::InspectQuery

use serde::{Deserialize, Serialize};

/// The most entries one list of an answer holds.
#[cfg(feature = "server")]
pub(crate) const MAX_ITEMS: usize = 10_000;

/// `INSPECT [sessions]`: the connections logged in on the msg_server that answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsResult {
    /// The msg_server's advertised address.
    pub server: String,
    /// Ordered by id, then connection.
    pub sessions: Vec<SessionInfo>,
    /// Logged-in connections in all (more than `sessions` holds where it was cut).
    pub total: u64,
}

/// One logged-in connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: String,
    /// The connection's number on its msg_server.
    pub conn: u64,
    /// The client's address as the msg_server sees it.
    pub client_addr: String,
    /// Unix milliseconds of the login.
    pub since_ms: u64,
    /// The connection's protocol level (a msg_server of an earlier version does not say:
    /// read as the original level).
    #[serde(default)]
    pub level: crate::protocol::Level,
    /// What the client called itself in `HELLO`, where it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
}

/// `INSPECT [topics]`: every topic in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicsResult {
    /// Ordered by name.
    pub topics: Vec<TopicInfo>,
    pub total: u64,
}

/// One topic, in brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicInfo {
    pub name: String,
    pub creator: String,
    /// The msg_server it was created on.
    pub home: String,
    pub created_at_ms: u64,
    pub members: u64,
}

/// `INSPECT [topic, name]`: one topic, its members and where each is connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicResult {
    pub name: String,
    pub creator: String,
    pub home: String,
    pub created_at_ms: u64,
    /// Ordered by id.
    pub members: Vec<MemberInfo>,
    /// Members in all.
    pub total_members: u64,
}

/// A topic member and its connections (none where it is offline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub id: String,
    pub sessions: Vec<Location>,
}

/// One connection of an id somewhere in the cluster, as the session store has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The msg_server's advertised address.
    pub server: String,
    pub conn: u64,
}

/// `INSPECT [user, id]`: where an id is connected and what waits for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserResult {
    pub id: String,
    /// Every connection of the id, on every msg_server; empty where it is offline.
    pub sessions: Vec<Location>,
    /// Messages waiting in its inbox until acked (offline, or delivered and not acked).
    pub pending: u64,
    /// What the manager recorded of it; absent where it never logged in (or no manager ran).
    pub client: Option<ClientInfo>,
    /// Its account and devices; absent where the id is unclaimed (or the msg_server is of an
    /// earlier version).
    #[serde(default)]
    pub account: Option<super::account::AccountSummary>,
}

/// `INSPECT [accounts]`: every account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountsResult {
    /// Ordered by id.
    pub accounts: Vec<super::account::AccountSummary>,
    pub total: u64,
}

/// The manager's record of a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    /// The client's last remote address.
    pub client_addr: String,
    /// The msg_server it last logged in on.
    pub msg_server: String,
    pub alive: bool,
    /// Unix milliseconds of its last login or logout.
    pub last_seen_ms: u64,
}
