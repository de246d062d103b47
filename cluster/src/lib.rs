//! fishchat-cluster: the FishChat wire protocol, a client SDK, the cluster roles and the
//! stores they keep their state in.
//!
//! - [`protocol`]: framing, envelopes, the typed command enum (no I/O).
//! - [`outbox`]: one connection's writer task and its bounded outbox, shared by every role.
//! - [`client`]: the client SDK used by the CLI, the TUI, the benchmark and the tests.
//! - [`discovery`]: `cluster.json`, where a local cluster's roles are.
//! - [`private`]: files and directories only their owner may read.
//! - [`link`]: a role's reconnecting, subscribed link to one msg_server.
//! - [`roles`]: gateway, msg_server, router, manager.
//! - [`store`]: storage traits and backends.
//! - [`auth`]: password hashes, device tokens and the limits on failed sign-ins.
//! - [`local`]: a whole cluster in one process (`fishchat up`, tests).
//! - [`config`], [`config_file`]: each role's settings, and the JSON files they are read from.
//!
//! `protocol`, `outbox`, `client`, `discovery` and `private` are the client part, always built; the rest
//! comes with the `server` feature (the chat client builds without it).

#[cfg(feature = "server")]
pub mod auth;
pub mod client;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod config_file;
pub mod discovery;
#[cfg(feature = "server")]
pub mod link;
#[cfg(feature = "server")]
pub mod local;
pub mod outbox;
pub mod private;
pub mod protocol;
#[cfg(feature = "server")]
pub mod roles;
#[cfg(feature = "server")]
pub mod store;
