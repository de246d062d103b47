//! `fishchat up`: a whole cluster in this process (gateway, msg_servers, router, manager
//! on one store: the embedded one, or Redis and/or MongoDB with `--redis` / `--mongo`) until
//! Ctrl-C or SIGTERM.
//!
//! The cluster itself is `fishchat_cluster::local::LocalCluster`; this file turns flags
//! into its options, shows the roles starting ([`crate::progress`]), writes
//! `cluster.json` for the other tools once everything is ready, and stops cleanly.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::builder::NonEmptyStringValueParser;
use clap::Args;
use fishchat_cluster::discovery::ClusterFile;
use fishchat_cluster::local::{LocalCluster, LocalOptions, Ports};
use fishchat_cluster::protocol::account::BadSetting;
use fishchat_cluster::protocol::{AuthPolicy, Registration};
use fishchat_cluster::store::{EmbeddedOptions, MongoOptions, RedisOptions, StoreChoice};

use crate::data_dir;
use crate::progress::Progress;

/// How long a stop may take, store flush included, before we give up on it.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Run a whole cluster in this process: gateway, msg_servers, router and manager.
///
/// Ports are the original's: gateway 17000, manager 18000, msg_servers 19000 and up,
/// router 20000. Once every role is ready their addresses are written to
/// DATA_DIR/cluster.json (removed again on a clean stop). Ctrl-C or SIGTERM stops the
/// cluster and makes every accepted write durable.
#[derive(Debug, Args)]
pub struct Up {
    /// Add N to every port, to run clusters side by side.
    #[arg(long, value_name = "N")]
    port_offset: Option<u16>,

    /// Let the OS choose every port (for tests and side-by-side clusters); the addresses
    /// are in cluster.json.
    #[arg(long, conflicts_with = "port_offset")]
    any_ports: bool,

    /// Where the store, the secret and cluster.json live; created where missing.
    /// [default: the platform data directory, e.g. ~/.local/share/fishchat]
    #[arg(long, value_name = "DIR", env = "FISHCHAT_DATA_DIR")]
    data_dir: Option<PathBuf>,

    /// How many msg_servers to run.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    msg_servers: u16,

    /// The cluster secret that roles present to subscribe to internal channels; used as
    /// given, never written. [default: made once and kept in DATA_DIR/secret]
    #[arg(long, value_name = "S", env = "FISHCHAT_SECRET", hide_env_values = true,
          value_parser = NonEmptyStringValueParser::new())]
    secret: Option<String>,

    /// The store's group-commit window in milliseconds: at most this much of accepted
    /// writes is lost on a crash (a clean stop loses nothing).
    #[arg(long, value_name = "MS", default_value_t = 50)]
    commit_window_ms: u64,

    /// The address every role listens on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,

    /// Keep the cluster's state in Redis at URL (e.g. redis://127.0.0.1:6379/) instead of
    /// the embedded store. With --mongo as well, only the sessions go to Redis.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,

    /// Keep the cluster's state in MongoDB at URL (e.g. mongodb://127.0.0.1:27017/im)
    /// instead of the embedded store. With --redis as well, MongoDB holds inboxes, topics
    /// and clients (their source of truth) and Redis the sessions.
    #[arg(long, value_name = "URL")]
    mongo: Option<String>,

    /// Who may use an id: open (anyone, any id, as the original), claimed (an id with an
    /// account only after signing in; ids without one as in the original), required (every
    /// id needs an account).
    #[arg(long, value_name = "POLICY", default_value = "claimed", value_parser = parse_auth)]
    auth: AuthPolicy,

    /// Who may make accounts: open (anyone, by claiming an id) or closed (operators only,
    /// with `fishchat-admin user add`).
    #[arg(long, value_name = "WHO", default_value = "open", value_parser = parse_registration)]
    registration: Registration,
}

fn parse_auth(s: &str) -> Result<AuthPolicy, BadSetting> {
    s.parse()
}

fn parse_registration(s: &str) -> Result<Registration, BadSetting> {
    s.parse()
}

impl Up {
    pub async fn run(self) -> Result<ExitCode> {
        let servers = usize::from(self.msg_servers);
        let ports = if self.any_ports {
            Ports::any(servers)
        } else {
            Ports::seed(self.port_offset.unwrap_or(0), servers)?
        };
        let dir = data_dir::prepare(self.data_dir)?;
        let secret = match self.secret {
            Some(s) => s,
            None => data_dir::load_or_create_secret(&dir)?,
        };
        // Before anything starts: from here on a signal stops us cleanly instead of
        // killing the process.
        let mut signals = Signals::install()?;

        let mut opts = LocalOptions::new(&dir, secret, ports);
        opts.host = self.host;
        opts.msg_server.auth = self.auth;
        opts.msg_server.registration = self.registration;
        opts.embedded = EmbeddedOptions {
            commit_window: Duration::from_millis(self.commit_window_ms),
        };
        let backend = match (self.redis, self.mongo) {
            (None, None) => None,
            (Some(r), None) => Some(StoreChoice::Redis(RedisOptions::new(r))),
            (None, Some(m)) => Some(StoreChoice::Mongo(MongoOptions::new(m))),
            (Some(r), Some(m)) => Some(StoreChoice::RedisMongo {
                redis: RedisOptions::new(r),
                mongo: MongoOptions::new(m),
            }),
        };
        if let Some(choice) = &backend {
            let store = choice
                .open()
                .await
                .with_context(|| format!("cannot open the {} store", choice.kind()))?;
            opts.store = Some(store);
        }
        let store_kind = backend.as_ref().map_or("embedded", StoreChoice::kind);

        let mut progress = Progress::start(&role_names(servers));
        let started = tokio::select! {
            r = LocalCluster::start(opts, |r| progress.ready(&r.role, &r.addr)) => Some(r),
            _ = signals.recv() => None,
        };
        progress.finish();
        let cluster = match started {
            Some(r) => r.context("cannot start the cluster")?,
            None => bail!("interrupted while starting"),
        };

        let file = cluster.file().clone();
        let path = data_dir::cluster_file(&dir);
        if let Err(e) = file.write(&path) {
            let _ = tokio::time::timeout(STOP_TIMEOUT, cluster.shutdown()).await;
            return Err(e).with_context(|| format!("cannot write {}", path.display()));
        }
        let accounts = format!("{} (registration {})", self.auth, self.registration);
        print_summary(&file, &dir, &path, store_kind, &accounts);

        let sig = signals.recv().await;
        tracing::info!(signal = sig, "stopping");
        remove_if_ours(&path, &file);
        let stopped = tokio::select! {
            r = tokio::time::timeout(STOP_TIMEOUT, cluster.shutdown()) => r,
            sig = signals.recv() => bail!(
                "{sig} during the stop: exiting at once; writes of the last {} ms may be lost",
                self.commit_window_ms
            ),
        };
        match stopped {
            Ok(Ok(())) => {
                println!("stopped");
                Ok(ExitCode::SUCCESS)
            }
            Ok(Err(e)) => Err(e).context(
                "the roles stopped but the store could not be flushed; recent writes may be lost",
            ),
            Err(_) => {
                tracing::error!(timeout = ?STOP_TIMEOUT, "the cluster did not stop in time");
                bail!(
                    "the cluster did not stop within {STOP_TIMEOUT:?}; exiting anyway (writes of the last {} ms may be lost)",
                    self.commit_window_ms
                )
            }
        }
    }
}

/// The roles in port order, named as `LocalCluster::start` reports them.
fn role_names(msg_servers: usize) -> Vec<String> {
    let mut names = vec!["gateway".to_string(), "manager".to_string()];
    names.extend((1..=msg_servers).map(|i| format!("msg_server {i}")));
    names.push("router".to_string());
    names.push("monitor".to_string());
    names
}

fn print_summary(file: &ClusterFile, dir: &Path, path: &Path, store: &str, accounts: &str) {
    let mut rows = vec![("gateway".to_string(), file.gateway.clone())];
    rows.push(("manager".to_string(), file.manager.clone()));
    for (i, addr) in file.msg_servers.iter().enumerate() {
        rows.push((format!("msg_server {}", i + 1), addr.clone()));
    }
    rows.push(("router".to_string(), file.router.clone()));
    if let Some(addr) = &file.monitor {
        rows.push(("monitor".to_string(), addr.clone()));
    }
    if let Some(addr) = &file.web {
        rows.push(("dashboard".to_string(), format!("http://{addr}/")));
    }
    let width = rows.iter().map(|(r, _)| r.len()).max().unwrap_or(0).max(12);

    println!();
    println!("fishchat is up");
    println!();
    println!("  {:<width$}  ADDRESS", "ROLE");
    for (role, addr) in &rows {
        println!("  {role:<width$}  {addr}");
    }
    println!();
    println!("  {:<width$}  {store}", "store");
    println!("  {:<width$}  {accounts}", "auth");
    println!("  {:<width$}  {}", "data dir", dir.display());
    println!("  {:<width$}  {}", "cluster file", path.display());
    println!();
    println!("Chat with `fishchat chat` in another terminal; Ctrl-C to stop.");
}

/// A stopped cluster's file must not point at dead addresses.
fn remove_if_ours(path: &Path, ours: &ClusterFile) {
    if ClusterFile::read(path).ok().as_ref() != Some(ours) {
        return;
    }
    if let Err(e) = std::fs::remove_file(path) {
        tracing::warn!(path = %path.display(), error = %e, "could not remove the cluster file");
    }
}

/// Ctrl-C and SIGTERM.
pub(crate) struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    pub(crate) fn install() -> Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                int: signal(SignalKind::interrupt()).context("cannot handle SIGINT")?,
                term: signal(SignalKind::terminate()).context("cannot handle SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The next signal's name.
    pub(crate) async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => "SIGINT",
                _ = self.term.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
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
        up: Up,
    }

    #[test]
    fn any_ports_conflicts_with_a_port_offset() {
        let e = Cli::try_parse_from(["up", "--any-ports", "--port-offset", "5"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert!(Cli::try_parse_from(["up", "--any-ports"]).is_ok());
    }

    #[test]
    fn at_least_one_msg_server() {
        assert!(Cli::try_parse_from(["up", "--msg-servers", "0"]).is_err());
        let cli = Cli::try_parse_from(["up"]).unwrap();
        assert_eq!(cli.up.msg_servers, 2);
        assert_eq!(cli.up.commit_window_ms, 50);
        assert_eq!(cli.up.host, "127.0.0.1");
    }

    /// The spinners are named before the cluster starts; each must be one it reports.
    #[tokio::test]
    async fn role_names_match_what_the_cluster_reports() {
        let dir = tempfile::tempdir().unwrap();
        let opts = LocalOptions::new(dir.path(), "secret", Ports::any(2));
        let mut reported = Vec::new();
        let cluster = LocalCluster::start(opts, |r| reported.push(r.role.clone()))
            .await
            .unwrap();
        cluster.shutdown().await.unwrap();
        let mut expected = role_names(2);
        expected.sort();
        reported.sort();
        assert_eq!(reported, expected);
    }
}
