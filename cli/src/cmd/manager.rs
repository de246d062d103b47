//! `fishchat manager --config FILE`: the manager alone, keeping the client and topic records.
//!
//! The file is the original's `manager.json` (see `testdata/manager.json`). The shared steps are in
//! [`super::role`].

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use fishchat_cluster::config_file::Role;
use fishchat_cluster::roles;

use super::role::{self, ConfigArg};

/// Run the manager alone, as set out in its config file.
///
/// Its store must be the one the msg_servers use (Redis and/or MongoDB). Prints
/// `manager listening on ADDR` once it listens; Ctrl-C or SIGTERM stops it.
#[derive(Debug, Args)]
pub struct Manager {
    #[command(flatten)]
    file: ConfigArg,
}

impl Manager {
    pub async fn run(self) -> Result<ExitCode> {
        let path = &self.file.config;
        let setup = role::load(path, Role::Manager)?
            .manager()
            .map_err(|e| role::invalid(path, e))?;
        let store = role::open_store(&setup.store, Role::Manager).await?;
        let listener = role::bind(Role::Manager, &setup.listen).await?;
        let addr = role::bound(&listener)?;
        let s = store.clone();
        role::serve(Role::Manager, addr, Some(store), |shutdown| {
            roles::manager::run(listener, setup.config, s, shutdown)
        })
        .await
    }
}
