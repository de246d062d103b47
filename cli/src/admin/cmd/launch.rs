//! `fishchat-admin launch ROLE --config FILE` and `fishchat-admin launch cluster`: the same
//! code as `fishchat ROLE` and `fishchat up` (their clap structs and `run`s, from
//! `fishchat_cli::cmd`), behind a second door. Flags, output and exit codes are theirs.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use fishchat_cli::cmd::{gateway, manager, monitor, msg_server, router, up};

/// Start a whole cluster, or one role from its config file, as `fishchat` does.
///
/// `launch cluster` is `fishchat up`; `launch gateway --config FILE` is `fishchat gateway
/// --config FILE`, and so on. Runs until Ctrl-C or SIGTERM.
#[derive(Debug, Args)]
pub struct Launch {
    #[command(subcommand)]
    role: Role,
}

#[derive(Debug, Subcommand)]
enum Role {
    /// Run a whole cluster in this process, as `fishchat up` does (same flags).
    #[command(alias = "up")]
    Cluster(up::Up),
    Gateway(gateway::Gateway),
    MsgServer(msg_server::MsgServer),
    Router(router::Router),
    Manager(manager::Manager),
    Monitor(monitor::Monitor),
}

impl Launch {
    pub async fn run(self) -> Result<ExitCode> {
        match self.role {
            Role::Cluster(c) => c.run().await,
            Role::Gateway(c) => c.run().await,
            Role::MsgServer(c) => c.run().await,
            Role::Router(c) => c.run().await,
            Role::Manager(c) => c.run().await,
            Role::Monitor(c) => c.run().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        launch: Launch,
    }

    #[test]
    fn every_role_and_the_cluster_parse_as_under_fishchat() {
        for role in ["gateway", "msg-server", "router", "manager", "monitor"] {
            let cli = Cli::try_parse_from(["launch", role, "--config", "x.json"]);
            assert!(cli.is_ok(), "{role}: {cli:?}");
            let e = Cli::try_parse_from(["launch", role]).unwrap_err();
            assert_eq!(
                e.kind(),
                clap::error::ErrorKind::MissingRequiredArgument,
                "{role} needs --config"
            );
        }
        let cli = Cli::try_parse_from(["launch", "cluster", "--any-ports", "--msg-servers", "1"])
            .unwrap();
        assert!(matches!(cli.launch.role, Role::Cluster(_)));
        assert!(Cli::try_parse_from(["launch", "up", "--any-ports"]).is_ok());
        assert!(
            Cli::try_parse_from(["launch", "cluster", "--any-ports", "--port-offset", "1"])
                .is_err()
        );
    }
}
