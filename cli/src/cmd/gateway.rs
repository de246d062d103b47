//! `fishchat gateway --config FILE`: the gateway alone, handing clients a live msg_server.
//!
//! The file is the original's `gateway.json` (see `testdata/gateway.json`); the gateway keeps
//! no store. The shared steps are in [`super::role`].

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use fishchat_cluster::config_file::Role;
use fishchat_cluster::roles;

use super::role::{self, ConfigArg};

/// Run the gateway alone, as set out in its config file.
///
/// Prints `gateway listening on ADDR` once it listens; Ctrl-C or SIGTERM stops it.
#[derive(Debug, Args)]
pub struct Gateway {
    #[command(flatten)]
    file: ConfigArg,
}

impl Gateway {
    pub async fn run(self) -> Result<ExitCode> {
        let path = &self.file.config;
        let setup = role::load(path, Role::Gateway)?
            .gateway()
            .map_err(|e| role::invalid(path, e))?;
        let listener = role::bind(Role::Gateway, &setup.listen).await?;
        let addr = role::bound(&listener)?;
        role::serve(Role::Gateway, addr, None, |shutdown| {
            roles::gateway::run(listener, setup.config, shutdown)
        })
        .await
    }
}
