//! The command tree: one file per subcommand, each with a clap struct and a `run`.
//!
//! To add a subcommand, add its file here, a variant to [`Cmd`] and an arm to
//! [`Cmd::run`].

use std::process::ExitCode;

use clap::Subcommand;

pub mod chat;
pub mod gateway;
pub mod manager;
pub mod monitor;
pub mod msg_server;
pub mod role;
pub mod router;
pub mod up;

#[derive(Debug, Subcommand)]
pub enum Cmd {
    Up(up::Up),
    Chat(chat::Chat),
    Monitor(monitor::Monitor),
    Gateway(gateway::Gateway),
    MsgServer(msg_server::MsgServer),
    Router(router::Router),
    Manager(manager::Manager),
}

impl Cmd {
    /// Whether the log goes to stderr (the chat draws on the terminal and logs to a file).
    pub fn logs_to_stderr(&self) -> bool {
        match self {
            Cmd::Chat(c) => c.logs_to_stderr(),
            _ => true,
        }
    }

    pub async fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            Cmd::Up(c) => c.run().await,
            Cmd::Chat(c) => c.run().await,
            Cmd::Monitor(c) => c.run().await,
            Cmd::Gateway(c) => c.run().await,
            Cmd::MsgServer(c) => c.run().await,
            Cmd::Router(c) => c.run().await,
            Cmd::Manager(c) => c.run().await,
        }
    }
}
