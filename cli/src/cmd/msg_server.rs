//! `fishchat msg-server --config FILE`: one msg_server alone.
//!
//! The file is the original's `msg_server.PORT.json` (see `testdata/msg_server.19000.json`).
//! Its name in the session store, the address the other roles and the clients reach it at, is
//! `LocalIP`, else `Listen`, else the address it bound. The shared steps are in
//! [`super::role`].

use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use fishchat_cluster::config_file::Role;
use fishchat_cluster::roles;

use super::role::{self, ConfigArg};

/// Run one msg_server alone, as set out in its config file.
///
/// Its store must be Redis and/or MongoDB for the other roles, in their own processes, to
/// find its clients. Prints `msg_server listening on ADDR` once it listens; Ctrl-C or
/// SIGTERM stops it.
#[derive(Debug, Args)]
pub struct MsgServer {
    #[command(flatten)]
    file: ConfigArg,
}

impl MsgServer {
    pub async fn run(self) -> Result<ExitCode> {
        let path = &self.file.config;
        let mut setup = role::load(path, Role::MsgServer)?
            .msg_server()
            .map_err(|e| role::invalid(path, e))?;
        let store = role::open_store(&setup.store, Role::MsgServer).await?;
        let listener = role::bind(Role::MsgServer, &setup.listen).await?;
        let addr = role::bound(&listener)?;
        if setup.config.advertise.is_none() {
            if addr.ip().is_unspecified() {
                bail!(
                    "{}: field `LocalIP` is needed: `Listen` is {}, which does not say where others reach this msg_server",
                    path.display(),
                    setup.listen
                );
            }
            setup.config.advertise = Some(addr.to_string());
        }
        let name = setup.config.advertise.clone().unwrap_or_default();
        tracing::info!(%addr, advertise = %name, "msg_server bound");
        let s = store.clone();
        role::serve(Role::MsgServer, addr, Some(store), |shutdown| {
            roles::msg_server::run(listener, setup.config, s, shutdown)
        })
        .await
    }
}
