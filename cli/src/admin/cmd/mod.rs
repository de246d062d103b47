//! The command tree of `fishchat-admin`: one file per subcommand, each with a clap struct
//! and a `run`.
//!
//! To add a subcommand, add its file here, a variant to [`Cmd`] and an arm to
//! [`Cmd::run`].

use std::process::ExitCode;

use clap::Subcommand;

pub mod bench;
pub mod inspect;
pub mod kick;
pub mod launch;
pub mod subscribe;
pub mod user;

#[derive(Debug, Subcommand)]
pub enum Cmd {
    Launch(launch::Launch),
    Subscribe(subscribe::Subscribe),
    Inspect(inspect::Inspect),
    User(user::User),
    Kick(kick::Kick),
    Bench(bench::Bench),
}

/// What the tools that report in their own words log when RUST_LOG is unset: warnings,
/// but not the links' "down; retrying" (they say it themselves, once, in plain words).
const QUIET_FILTER: &str = "warn,fishchat_cluster::link=error";

impl Cmd {
    pub async fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            Cmd::Launch(c) => c.run().await,
            Cmd::Subscribe(c) => c.run().await,
            Cmd::Inspect(c) => c.run().await,
            Cmd::User(c) => c.run().await,
            Cmd::Kick(c) => c.run().await,
            Cmd::Bench(c) => c.run().await,
        }
    }

    /// The default log filter: a launched role logs as under `fishchat`.
    pub fn log_filter(&self) -> &'static str {
        match self {
            Cmd::Launch(_) => fishchat_cli::logging::DEFAULT_FILTER,
            _ => QUIET_FILTER,
        }
    }
}
