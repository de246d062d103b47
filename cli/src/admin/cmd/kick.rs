//! `fishchat-admin kick ID`: ends every session of an id, on every msg_server (`KICK_USER`,
//! asked of one reachable msg_server, which passes it on through the router). The id's
//! account, if it has one, stays: its devices may sign in again.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use fishchat_cli::target::TargetArgs;
use serde_json::json;

use super::inspect::show;
use super::user::explain;

/// Drop every session of ID, in the whole cluster.
///
/// Its clients are told why and disconnected; they may log in again (revoke a device with
/// `user revoke`, or delete the account with `user del`, to keep one out). Needs the cluster
/// secret, as `inspect` does.
#[derive(Debug, Args)]
pub struct Kick {
    /// The id whose sessions end.
    id: String,

    /// JSON instead of text (the default when stdout is not a terminal).
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    target: TargetArgs,
}

impl Kick {
    pub async fn run(self) -> Result<ExitCode> {
        let json = self.json || !std::io::stdout().is_terminal();
        let target = self.target.resolve()?;
        let (addr, mut client) = target.connect_any().await?;
        client
            .kick_user(&self.id)
            .await
            .map_err(|e| explain(&target, &addr, e))?;
        let id = self.id;
        show(json, &json!({"id": id, "done": "kicked"}), || {
            format!("{id}: every session ended\n")
        })
    }
}
