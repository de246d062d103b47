//! How a tool finds a running cluster and its secret: `fishchat-admin` (subscribe, inspect,
//! bench) and any other tool that talks to a cluster rather than running one.
//!
//! Where the cluster is, first that applies:
//! 1. `--cluster FILE`: that `cluster.json`;
//! 2. `--data-dir DIR` (or `FISHCHAT_DATA_DIR`): `DIR/cluster.json`, as `fishchat up --data-dir`
//!    writes it;
//! 3. the platform data directory's `cluster.json`: the local `fishchat up` cluster.
//!
//! `--server ADDR` (repeatable) names the msg_servers to talk to. With a cluster file the
//! others are left out; without one (none found where the default says) they are all there
//! is. The secret: `--secret`, else `FISHCHAT_SECRET`, else the cluster file's.
//!
//! [`Target::connect`] opens a connection to a msg_server and presents the secret (`AUTH`),
//! turning what can go wrong into errors that say what to do.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use fishchat_cluster::client::{Client, ClientError, ConnectOptions};
use fishchat_cluster::discovery::ClusterFile;
use fishchat_cluster::protocol::ErrorCode;

use crate::data_dir;

/// The environment variable naming the data directory (as for `fishchat up`).
pub const DATA_DIR_ENV: &str = "FISHCHAT_DATA_DIR";
/// The environment variable holding the cluster secret (as for `fishchat up`).
pub const SECRET_ENV: &str = "FISHCHAT_SECRET";

/// How long one request to a msg_server may take, connecting included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The flags that say which cluster to talk to. Flatten into a subcommand; they may be
/// given before or after its own subcommands.
#[derive(Debug, Clone, Default, Args)]
pub struct TargetArgs {
    /// The cluster file (cluster.json) of the cluster to talk to.
    /// [default: DATA_DIR/cluster.json]
    #[arg(long, value_name = "FILE", global = true, conflicts_with = "data_dir")]
    pub cluster: Option<PathBuf>,

    /// The data directory of a `fishchat up` cluster; its cluster.json says where the roles
    /// are. [env: FISHCHAT_DATA_DIR] [default: the platform data directory, e.g.
    /// ~/.local/share/fishchat]
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// A msg_server to talk to (repeat for several): only these, of the cluster file's; or,
    /// without a cluster file, these alone.
    #[arg(long = "server", value_name = "ADDR", global = true)]
    pub servers: Vec<String>,

    /// The cluster secret. [env: FISHCHAT_SECRET] [default: the cluster file's]
    #[arg(long, value_name = "S", global = true)]
    pub secret: Option<String>,
}

/// Where a setting came from, for messages that say what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag, e.g. `--secret`.
    Flag(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// A cluster file.
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "{flag}"),
            Source::Env(var) => write!(f, "${var}"),
            Source::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The cluster secret and where it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    pub value: String,
    pub from: Source,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("value", &"<hidden>")
            .field("from", &self.from)
            .finish()
    }
}

/// A cluster to talk to.
#[derive(Debug, Clone)]
pub struct Target {
    /// The msg_servers to talk to, in order.
    pub msg_servers: Vec<String>,
    /// Where `msg_servers` came from.
    pub servers_from: Source,
    /// The cluster file, where one was read: the other roles' addresses.
    pub file: Option<ClusterFile>,
    /// `None` where none was given and there is no cluster file: the cluster must have none.
    pub secret: Option<Secret>,
}

/// What the process environment says, apart from the flags (so tests can set it).
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub data_dir: Option<PathBuf>,
    pub secret: Option<String>,
    /// The platform data directory, or why there is none.
    pub default_dir: Option<PathBuf>,
}

impl Env {
    /// This process's environment.
    pub fn from_process() -> Env {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Env {
            data_dir: var(DATA_DIR_ENV).map(PathBuf::from),
            secret: var(SECRET_ENV),
            default_dir: data_dir::default_dir().ok(),
        }
    }
}

impl TargetArgs {
    /// Finds the cluster as set out in the module docs.
    pub fn resolve(&self) -> Result<Target> {
        self.resolve_with(&Env::from_process())
    }

    pub fn resolve_with(&self, env: &Env) -> Result<Target> {
        let file = self.cluster_file(env)?;
        let (msg_servers, servers_from) = if !self.servers.is_empty() {
            (self.servers.clone(), Source::Flag("--server"))
        } else {
            let (file, path) = file
                .as_ref()
                .expect("cluster_file() finds a file or fails without --server");
            if file.msg_servers.is_empty() {
                bail!(
                    "{} lists no msg_servers; pass --server ADDR",
                    path.display()
                );
            }
            (file.msg_servers.clone(), Source::File(path.clone()))
        };
        let secret = if let Some(s) = &self.secret {
            Some(Secret {
                value: s.clone(),
                from: Source::Flag("--secret"),
            })
        } else if let Some(s) = &env.secret {
            Some(Secret {
                value: s.clone(),
                from: Source::Env(SECRET_ENV),
            })
        } else {
            file.as_ref()
                .filter(|(f, _)| !f.secret.is_empty())
                .map(|(f, path)| Secret {
                    value: f.secret.clone(),
                    from: Source::File(path.clone()),
                })
        };
        Ok(Target {
            msg_servers,
            servers_from,
            file: file.map(|(f, _)| f),
            secret,
        })
    }

    /// The cluster file and its path; `None` only where `--server` was given and there is no
    /// file where the default says.
    fn cluster_file(&self, env: &Env) -> Result<Option<(ClusterFile, PathBuf)>> {
        if let Some(path) = &self.cluster {
            let file = ClusterFile::read(path)
                .context("cannot use the cluster file given with --cluster")?;
            return Ok(Some((file, path.clone())));
        }
        let (dir, why) = match (&self.data_dir, &env.data_dir, &env.default_dir) {
            (Some(d), _, _) => (d.clone(), "--data-dir".to_string()),
            (None, Some(d), _) => (d.clone(), format!("${DATA_DIR_ENV}")),
            (None, None, Some(d)) => (d.clone(), "the default data directory".to_string()),
            (None, None, None) if !self.servers.is_empty() => return Ok(None),
            (None, None, None) => bail!(
                "cannot tell where this platform keeps data (is HOME set?), so there is no cluster file to read; \
                 pass --cluster FILE, --data-dir DIR or --server ADDR"
            ),
        };
        let path = data_dir::cluster_file(&dir);
        if !exists(&path) {
            if !self.servers.is_empty() {
                return Ok(None);
            }
            bail!(
                "no cluster file at {} (looked there because of {why}): is a cluster running? \
                 Start one with `fishchat up` (or `fishchat-admin launch cluster`), \
                 or say where it is with --cluster FILE, --data-dir DIR or --server ADDR",
                path.display()
            );
        }
        let file = ClusterFile::read(&path)?;
        Ok(Some((file, path)))
    }
}

fn exists(path: &Path) -> bool {
    std::fs::metadata(path).is_ok()
}

/// Why a msg_server could not be asked anything.
#[derive(Debug, thiserror::Error)]
pub enum ReachError {
    /// Down, or not at that address.
    #[error("cannot reach msg_server {addr} (address from {from}): {source}")]
    Unreachable {
        addr: String,
        from: Source,
        #[source]
        source: ClientError,
    },
    /// The secret is wrong, or needed and missing. Retrying cannot help.
    #[error("{0}")]
    Refused(String),
}

impl Target {
    /// A connection to the msg_server at `addr` that presented the secret (where there is
    /// one); requests on it time out after [`REQUEST_TIMEOUT`].
    pub async fn connect(&self, addr: &str) -> Result<Client, ReachError> {
        let unreachable = |source| ReachError::Unreachable {
            addr: addr.to_string(),
            from: self.servers_from.clone(),
            source,
        };
        let mut client = tokio::time::timeout(
            REQUEST_TIMEOUT,
            // Answers list up to 10 000 entries: more than the default frame limit allows.
            Client::connect_with(
                addr,
                &ConnectOptions {
                    max_frame: 64 * 1024 * 1024,
                    client_name: format!("fishchat-admin/{}", env!("CARGO_PKG_VERSION")),
                },
            ),
        )
        .await
        .map_err(|_| unreachable(ClientError::Timeout(REQUEST_TIMEOUT)))?
        .map_err(unreachable)?;
        client.set_timeout(REQUEST_TIMEOUT);
        if let Some(secret) = &self.secret {
            match client.auth(&secret.value).await {
                Ok(()) => {}
                Err(ClientError::Server {
                    code: ErrorCode::Forbidden,
                    detail,
                }) => return Err(ReachError::Refused(self.refused(addr, &detail))),
                Err(e) => return Err(unreachable(e)),
            }
        }
        Ok(client)
    }

    /// A connection to the first msg_server that can be reached, with the secret presented:
    /// for questions any one of them answers (accounts and topics are in the store they
    /// share). A refused secret fails at once; when none can be reached, the error lists why.
    pub async fn connect_any(&self) -> Result<(String, Client)> {
        let mut why = Vec::new();
        for addr in &self.msg_servers {
            match self.connect(addr).await {
                Ok(c) => return Ok((addr.clone(), c)),
                Err(ReachError::Refused(msg)) => bail!(msg),
                Err(e @ ReachError::Unreachable { .. }) => why.push(e.to_string()),
            }
        }
        bail!(
            "no msg_server answered: {}; is the cluster running? (`fishchat-admin inspect servers` shows what is up)",
            why.join("; ")
        )
    }

    /// What to say when `server` refuses us for the secret (`detail` is its reason).
    pub fn refused(&self, server: &str, detail: &str) -> String {
        match &self.secret {
            Some(s) => format!(
                "msg_server {server} refused the cluster secret from {}: {detail}; \
                 give the cluster's secret with --secret or ${SECRET_ENV}, or use its cluster file (--cluster FILE / --data-dir DIR)",
                s.from
            ),
            None => format!(
                "msg_server {server} needs the cluster secret and none was given: {detail}; \
                 give it with --secret or ${SECRET_ENV}, or use the cluster's cluster file (--cluster FILE / --data-dir DIR)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, secret: &str) -> PathBuf {
        let f = ClusterFile {
            gateway: "127.0.0.1:1".into(),
            msg_servers: vec!["127.0.0.1:2".into(), "127.0.0.1:3".into()],
            router: "127.0.0.1:4".into(),
            manager: "127.0.0.1:5".into(),
            monitor: None,
            web: None,
            secret: secret.into(),
        };
        let path = dir.join("cluster.json");
        f.write(&path).unwrap();
        path
    }

    fn args(f: impl FnOnce(&mut TargetArgs)) -> TargetArgs {
        let mut a = TargetArgs::default();
        f(&mut a);
        a
    }

    #[test]
    fn the_default_data_dir_holds_the_cluster_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path(), "s3cret");
        let env = Env {
            default_dir: Some(dir.path().into()),
            ..Env::default()
        };
        let t = TargetArgs::default().resolve_with(&env).unwrap();
        assert_eq!(t.msg_servers, ["127.0.0.1:2", "127.0.0.1:3"]);
        assert_eq!(t.servers_from, Source::File(path.clone()));
        let s = t.secret.unwrap();
        assert_eq!((s.value.as_str(), s.from), ("s3cret", Source::File(path)));
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path(), "from-file");
        let env = Env {
            secret: Some("from-env".into()),
            ..Env::default()
        };
        let a = args(|a| a.cluster = Some(path.clone()));
        let s = a.resolve_with(&env).unwrap().secret.unwrap();
        assert_eq!(
            (s.value.as_str(), s.from),
            ("from-env", Source::Env(SECRET_ENV))
        );
        let a = args(|a| {
            a.cluster = Some(path.clone());
            a.secret = Some("from-flag".into());
            a.servers = vec!["127.0.0.1:3".into()];
        });
        let t = a.resolve_with(&env).unwrap();
        assert_eq!(t.secret.unwrap().value, "from-flag");
        assert_eq!(t.msg_servers, ["127.0.0.1:3"], "--server picks among them");
        assert!(t.file.is_some(), "the other roles are still known");
    }

    #[test]
    fn data_dir_flag_beats_its_environment_variable() {
        let flag = tempfile::tempdir().unwrap();
        let envdir = tempfile::tempdir().unwrap();
        file(flag.path(), "flag");
        file(envdir.path(), "env");
        let env = Env {
            data_dir: Some(envdir.path().into()),
            ..Env::default()
        };
        let t = TargetArgs::default().resolve_with(&env).unwrap();
        assert_eq!(t.secret.unwrap().value, "env");
        let a = args(|a| a.data_dir = Some(flag.path().into()));
        assert_eq!(a.resolve_with(&env).unwrap().secret.unwrap().value, "flag");
    }

    #[test]
    fn no_cluster_file_says_where_it_looked_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env {
            data_dir: Some(dir.path().into()),
            ..Env::default()
        };
        let e = TargetArgs::default()
            .resolve_with(&env)
            .unwrap_err()
            .to_string();
        let expected = dir.path().join("cluster.json");
        assert!(e.contains(&expected.display().to_string()), "{e}");
        assert!(e.contains("$FISHCHAT_DATA_DIR"), "{e}");
        assert!(e.contains("fishchat up") && e.contains("--server"), "{e}");

        // With --server the file is not needed.
        let a = args(|a| a.servers = vec!["127.0.0.1:9".into()]);
        let t = a.resolve_with(&env).unwrap();
        assert_eq!(t.msg_servers, ["127.0.0.1:9"]);
        assert_eq!(t.secret, None);
        assert!(t.file.is_none());

        let a = args(|a| a.cluster = Some(dir.path().join("nope.json")));
        let e = format!("{:#}", a.resolve_with(&env).unwrap_err());
        assert!(e.contains("nope.json") && e.contains("--cluster"), "{e}");
    }

    #[test]
    fn a_secret_is_never_shown_in_debug_output() {
        let s = Secret {
            value: "hunter2".into(),
            from: Source::Flag("--secret"),
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
