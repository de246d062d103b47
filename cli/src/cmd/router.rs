//! `fishchat router --config FILE`: the router alone, forwarding messages between msg_servers.
//!
//! The file is the original's `router.json` (see `testdata/router.json`). The shared steps are in
//! [`super::role`].

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use fishchat_cluster::config_file::Role;
use fishchat_cluster::roles;

use super::role::{self, ConfigArg};

/// Run the router alone, as set out in its config file.
///
/// Its store must be the one the msg_servers use (Redis and/or MongoDB). Prints
/// `router listening on ADDR` once it listens; Ctrl-C or SIGTERM stops it.
#[derive(Debug, Args)]
pub struct Router {
    #[command(flatten)]
    file: ConfigArg,
}

impl Router {
    pub async fn run(self) -> Result<ExitCode> {
        let path = &self.file.config;
        let setup = role::load(path, Role::Router)?
            .router()
            .map_err(|e| role::invalid(path, e))?;
        let store = role::open_store(&setup.store, Role::Router).await?;
        let listener = role::bind(Role::Router, &setup.listen).await?;
        let addr = role::bound(&listener)?;
        let s = store.clone();
        role::serve(Role::Router, addr, Some(store), |shutdown| {
            roles::router::run(listener, setup.config, s, shutdown)
        })
        .await
    }
}
