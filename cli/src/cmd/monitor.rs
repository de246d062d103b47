//! `fishchat monitor`: the monitor role alone, from a config file, until Ctrl-C or SIGTERM;
//! and `fishchat monitor hash-password`, which makes the dashboard login's `PasswordHash`.
//!
//! The role itself is `fishchat_cluster::roles::monitor`; its file format is
//! `fishchat_cluster::config_file`'s, with the other roles'.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use fishchat_cluster::config_file::MonitorSetup;
use fishchat_cluster::roles::monitor::{self, auth};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::up::Signals;

/// Run the monitor: watch every msg_server and serve the web dashboard.
///
/// The config file is JSON in the original's style:
///
///   {"Listen": "127.0.0.1:21000", "WebListen": "127.0.0.1:30000",
///    "MsgServerList": ["127.0.0.1:19000", "127.0.0.1:19001"], "MonitorBeatTime": 5,
///    "Gateway": "127.0.0.1:17000", "Router": "127.0.0.1:20000",
///    "Manager": "127.0.0.1:18000", "Secret": "..."}
///
/// The dashboard has no built-in password. On a loopback `WebListen` it needs none; on any
/// other address it needs `"Login": {"User": "...", "PasswordHash": "..."}`, the hash made
/// by `fishchat monitor hash-password`. Besides the dashboard it serves /api/cluster,
/// /api/servers, /healthz and /metrics (Prometheus).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Monitor {
    #[command(subcommand)]
    action: Option<Action>,

    /// The monitor's config file (JSON).
    #[arg(long, value_name = "FILE", required = true)]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Read a password on stdin (one line) and print its hash for the config's
    /// `Login.PasswordHash`. The password itself is stored nowhere.
    HashPassword,
}

impl Monitor {
    pub async fn run(self) -> Result<ExitCode> {
        match (self.action, self.config) {
            (Some(Action::HashPassword), _) => hash_password(),
            (None, Some(path)) => serve(path).await,
            (None, None) => bail!("give --config FILE (see `fishchat monitor --help`)"),
        }
    }
}

fn hash_password() -> Result<ExitCode> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password (shown as you type; pipe it in to keep it off the screen): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        bail!("the password is empty; give one on stdin, e.g. `printf '%s' \"$PW\" | fishchat monitor hash-password`");
    }
    // PBKDF2 takes a moment by design.
    let hash = tokio::task::block_in_place(|| auth::hash_password(password));
    println!("{hash}");
    Ok(ExitCode::SUCCESS)
}

async fn serve(path: PathBuf) -> Result<ExitCode> {
    let setup = MonitorSetup::load(&path)?;
    let check = |web: std::net::SocketAddr| {
        auth::Access::for_listener(web, setup.config.login.as_ref())
            .map(drop)
            .with_context(|| format!("{}: cannot serve the dashboard", path.display()))
    };
    // Refused before anything listens, where the address says it already.
    if let Ok(web) = setup.web_listen.parse() {
        check(web)?;
    }
    // Before anything starts: from here on a signal stops us cleanly.
    let mut signals = Signals::install()?;
    let role = TcpListener::bind(&setup.listen).await.with_context(|| {
        format!(
            "cannot listen for the monitor on {} (`Listen`)",
            setup.listen
        )
    })?;
    let web = TcpListener::bind(&setup.web_listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen for the dashboard on {} (`WebListen`)",
                setup.web_listen
            )
        })?;
    let web_addr = web
        .local_addr()
        .context("the dashboard's listener has no address")?;
    check(web_addr)?;

    let role_addr = role
        .local_addr()
        .context("the monitor's listener has no address")?;

    let shutdown = CancellationToken::new();
    let mut task = tokio::spawn(monitor::run(role, web, setup.config, shutdown.clone()));
    // On stdout, which scripts and tests read, like the other roles' "listening on" line.
    println!("monitor listening on {role_addr}");
    println!("dashboard at http://{web_addr}/");
    let _ = std::io::stdout().flush();
    tokio::select! {
        ended = &mut task => return match ended {
            Ok(Ok(())) => Ok(ExitCode::SUCCESS),
            Ok(Err(e)) => Err(e).context("the monitor stopped"),
            Err(e) => Err(e).context("the monitor crashed"),
        },
        sig = signals.recv() => {
            tracing::info!(signal = sig, "stopping");
            shutdown.cancel();
        }
    }
    match tokio::time::timeout(STOP_TIMEOUT, task).await {
        Ok(Ok(Ok(()))) => Ok(ExitCode::SUCCESS),
        Ok(Ok(Err(e))) => Err(e).context("the monitor failed while stopping"),
        Ok(Err(e)) => Err(e).context("the monitor crashed while stopping"),
        Err(_) => bail!("the monitor did not stop within {STOP_TIMEOUT:?}; exiting anyway"),
    }
}

/// How long a stop may take.
const STOP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    enum Cli {
        Monitor(Monitor),
    }

    fn parse(args: &[&str]) -> Result<Monitor, clap::Error> {
        let Cli::Monitor(m) = Cli::try_parse_from(["fishchat"].iter().chain(args))?;
        Ok(m)
    }

    #[test]
    fn config_is_required_unless_hashing_a_password() {
        let e = parse(&["monitor"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        let m = parse(&["monitor", "--config", "m.json"]).unwrap();
        assert_eq!(m.config, Some(PathBuf::from("m.json")));
        let m = parse(&["monitor", "hash-password"]).unwrap();
        assert!(matches!(m.action, Some(Action::HashPassword)));
        assert!(parse(&["monitor", "--config", "m.json", "hash-password"]).is_err());
    }
}
