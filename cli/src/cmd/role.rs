//! What `fishchat gateway|msg-server|router|manager --config FILE` share: read the role's
//! config file, open its store, bind, say where it listens, serve until Ctrl-C or SIGTERM,
//! then stop within a bounded time and flush the store.
//!
//! Each role's own file (`gateway.rs`, `msg_server.rs`, ...) only picks its part of the config
//! file and its `run` from `fishchat_cluster::roles`.

use std::future::Future;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use fishchat_cluster::config_file::{ConfigError, ConfigFileError, Role, RoleFile};
use fishchat_cluster::store::{Store, StoreChoice};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::up::Signals;

/// How long a role may take to stop, store flush included.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The one argument every role subcommand takes.
#[derive(Debug, Args)]
pub struct ConfigArg {
    /// The role's JSON config file, with the original's field names (the original's files
    /// work as they are); testdata/ holds a complete set for a two-msg_server cluster.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
}

/// Reads and checks the config file; the error names the file and the field.
pub fn load(path: &Path, role: Role) -> Result<RoleFile> {
    let file = RoleFile::load(path, role)?;
    for field in file.unused() {
        tracing::info!(file = %path.display(), "accepted for the original's sake and unused: {field}");
    }
    Ok(file)
}

/// A setting of the file that cannot be used, as an error naming the file.
pub fn invalid(path: &Path, error: ConfigError) -> anyhow::Error {
    ConfigFileError::new(path, error).into()
}

/// Opens (connects to) the store the file names; an unreachable backend fails within its
/// connect timeout, naming its URL.
pub async fn open_store(choice: &StoreChoice, role: Role) -> Result<Arc<dyn Store>> {
    if !choice.is_shared() {
        tracing::warn!(
            role = role.name(),
            "the embedded store is this process's own file: roles in other processes cannot see it, \
             so this {role} shares no sessions, inboxes or topics with them; \
             use Redis and MongoDB (Store: \"redis+mongo\") for a cluster of processes"
        );
    }
    let store = choice.open().await.with_context(|| {
        let hint = if choice.is_shared() {
            ""
        } else {
            " (the embedded store is for one process; is another role or `fishchat up` using it?)"
        };
        format!("cannot open the {} store{hint}", choice.kind())
    })?;
    tracing::info!(role = role.name(), store = store.backend(), "store open");
    Ok(store)
}

/// Binds `listen`, naming the role and address where that fails.
pub async fn bind(role: Role, listen: &str) -> Result<TcpListener> {
    TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen for the {role} on {listen} (field `Listen`)"))
}

/// The address a listener is bound to.
pub fn bound(listener: &TcpListener) -> Result<SocketAddr> {
    listener.local_addr().context("the listener has no address")
}

/// Says where the role listens (one line on stdout, which scripts and tests read), runs it
/// until a signal, stops it within [`STOP_TIMEOUT`] and flushes `store`.
pub async fn serve<F>(
    role: Role,
    addr: SocketAddr,
    store: Option<Arc<dyn Store>>,
    run: impl FnOnce(CancellationToken) -> F,
) -> Result<ExitCode>
where
    F: Future<Output = io::Result<()>> + Send + 'static,
{
    let mut signals = Signals::install()?;
    let shutdown = CancellationToken::new();
    let mut task = tokio::spawn(run(shutdown.clone()));
    println!("{role} listening on {addr}");
    let _ = std::io::stdout().flush();

    let ended = tokio::select! {
        sig = signals.recv() => {
            tracing::info!(signal = sig, role = role.name(), "stopping");
            None
        }
        r = &mut task => Some(r),
    };
    let result = match ended {
        Some(r) => r,
        None => {
            shutdown.cancel();
            match tokio::time::timeout(STOP_TIMEOUT, &mut task).await {
                Ok(r) => r,
                Err(_) => {
                    task.abort();
                    bail!("the {role} did not stop within {STOP_TIMEOUT:?}; exiting anyway")
                }
            }
        }
    };
    if let Some(store) = store {
        match tokio::time::timeout(STOP_TIMEOUT, store.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(e).context(format!(
                    "the {role} stopped but its store could not be flushed"
                ))
            }
            Err(_) => {
                bail!("the {role} stopped but its store did not flush within {STOP_TIMEOUT:?}")
            }
        }
    }
    match result {
        Ok(Ok(())) if shutdown.is_cancelled() => Ok(ExitCode::SUCCESS),
        Ok(Ok(())) => bail!("the {role} stopped by itself"),
        Ok(Err(e)) => Err(e).with_context(|| format!("the {role} failed")),
        Err(e) => bail!("the {role} crashed: {e}"),
    }
}
