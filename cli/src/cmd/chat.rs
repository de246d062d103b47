//! `fishchat chat`: the terminal chat client. Flags are turned into
//! `fishchat_tui::Options`; the client itself is the `fishchat-tui` crate.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::builder::NonEmptyStringValueParser;
use clap::Args;
use fishchat_tui::{Options, Target};

use crate::{data_dir, password};

/// Chat in the terminal: people and topics, with history kept between runs.
///
/// By default it joins the cluster that `fishchat up` runs (found through
/// DATA_DIR/cluster.json); --gateway or --cluster point elsewhere. History, the log
/// (chat.log) and this device's sign-in (token, readable by you only) are kept in
/// DATA_DIR/chat/ID/. Press F1 inside for every key and command.
///
/// Signing in happens before the screen opens: with the kept token where there is one;
/// else with the id's password where it has an account; else it offers to claim the id
/// with a password (Enter goes on without one). --password-file or $FISHCHAT_PASSWORD
/// answer without asking: they sign in, or claim the id where it has no account.
#[derive(Debug, Args)]
pub struct Chat {
    /// Who you are. [default: $USER]
    #[arg(long, value_name = "ID", env = "FISHCHAT_ID",
          value_parser = NonEmptyStringValueParser::new())]
    id: Option<String>,

    /// A gateway's address (HOST:PORT) to find a msg_server through, instead of the
    /// cluster file.
    #[arg(long, value_name = "ADDR", conflicts_with = "cluster",
          value_parser = NonEmptyStringValueParser::new())]
    gateway: Option<String>,

    /// The cluster file of the cluster to join, as `fishchat up` writes it.
    /// [default: DATA_DIR/cluster.json]
    #[arg(long, value_name = "FILE")]
    cluster: Option<PathBuf>,

    /// Where the history, the log and (by default) the cluster file are; created where
    /// missing. [default: the platform data directory, e.g. ~/.local/share/fishchat]
    #[arg(long, value_name = "DIR", env = "FISHCHAT_DATA_DIR")]
    data_dir: Option<PathBuf>,

    /// A file holding the password (its first line): signs in, or claims the id where it
    /// has no account, without asking. For scripts; $FISHCHAT_PASSWORD does the same.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

impl Chat {
    pub async fn run(self) -> Result<ExitCode> {
        let id = match self.id.or_else(login_name) {
            Some(id) => id,
            None => bail!("who are you? $USER is not set; pass --id NAME"),
        };
        let password = password::given(self.password_file.as_deref())?;
        let dir = data_dir::prepare(self.data_dir)?;
        let target = match (self.gateway, self.cluster) {
            (Some(addr), _) => Target::Gateway(addr),
            (None, Some(file)) => Target::ClusterFile(file),
            (None, None) => Target::ClusterFile(data_dir::cluster_file(&dir)),
        };
        fishchat_tui::run(Options {
            id,
            target,
            data_dir: dir,
            device_name: device_name(),
            password: password.map(fishchat_tui::Password::new),
        })
        .await?;
        Ok(ExitCode::SUCCESS)
    }

    /// The chat draws on the terminal: its log goes to a file, never to stderr.
    pub fn logs_to_stderr(&self) -> bool {
        false
    }
}

/// What this device is called in the account's devices: "fishchat-chat on HOST".
fn device_name() -> String {
    match crate::host::name() {
        Some(host) => format!("fishchat-chat on {host}"),
        None => "fishchat-chat".to_string(),
    }
}

/// The login name, as the shell knows it.
fn login_name() -> Option<String> {
    ["USER", "LOGNAME", "USERNAME"]
        .into_iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::path::Path;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        chat: Chat,
    }

    #[test]
    fn a_gateway_and_a_cluster_file_exclude_each_other() {
        let e =
            Cli::try_parse_from(["chat", "--gateway", "a:1", "--cluster", "c.json"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
        let e = Cli::try_parse_from(["chat", "--id", ""]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
        let c =
            Cli::try_parse_from(["chat", "--id", "alice", "--gateway", "127.0.0.1:17000"]).unwrap();
        assert_eq!(c.chat.id.as_deref(), Some("alice"));
        assert_eq!(c.chat.gateway.as_deref(), Some("127.0.0.1:17000"));
        let c = Cli::try_parse_from(["chat", "--password-file", "pw"]).unwrap();
        assert_eq!(c.chat.password_file.as_deref(), Some(Path::new("pw")));
    }

    #[test]
    fn the_device_is_named_after_the_host() {
        assert!(device_name().starts_with("fishchat-chat"));
    }
}
