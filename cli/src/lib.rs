//! The fishchat command-line tools as a library, so the two binaries share one
//! implementation: `fishchat` (src/main.rs: run a cluster or one role) and
//! `fishchat-admin` (src/admin/main.rs: launch, subscribe, inspect).
//!
//! Everything that serves or speaks the protocol is in `fishchat-cluster`; this crate
//! holds the command tree of `fishchat` ([`cmd`]), where a cluster's files live
//! ([`data_dir`]), how a tool finds a running cluster and its secret ([`target`]), tables on
//! the terminal ([`table`]), passwords given or typed ([`password`]), logging and progress,
//! and how a binary reports an error ([`report`]).

pub mod bench;
pub mod cmd;
pub mod data_dir;
pub mod host;
pub mod logging;
pub mod password;
pub mod progress;
pub mod report;
pub mod table;
pub mod target;
