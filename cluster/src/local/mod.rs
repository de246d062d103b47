//! A whole cluster in one process: gateway, msg_servers, router and manager sharing one
//! store. `fishchat up` runs it; the end-to-end tests run it on OS-chosen ports.
//!
//! Every listener is bound before any role starts, so a port that is taken is reported
//! (naming the role and address) before anything runs.
//!
//! - [`ports`]: which ports to bind (the seed's, or any).
//! - [`probe`]: waiting until a role says it is ready.
//! - Where the roles are is written to a cluster file ([`crate::discovery`]).

mod ports;
mod probe;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use ports::{
    Ports, PortsError, SEED_GATEWAY, SEED_MANAGER, SEED_MONITOR, SEED_MSG_SERVER, SEED_ROUTER,
    SEED_WEB,
};
pub use probe::wait_ready;

use crate::config::{
    Common, GatewayConfig, LinkConfig, ManagerConfig, MonitorConfig, MsgServerConfig, RoleAddr,
    RouterConfig, WebLogin,
};
use crate::discovery::ClusterFile;
use crate::roles;
use crate::store::{EmbeddedOptions, EmbeddedStore, Store, StoreError};

/// How to start a local cluster.
#[derive(Clone)]
pub struct LocalOptions {
    pub host: String,
    pub ports: Ports,
    /// Holds the embedded store (`store.redb`).
    pub data_dir: PathBuf,
    pub secret: String,
    /// Use this store instead of the embedded one in `data_dir`.
    pub store: Option<Arc<dyn Store>>,
    pub embedded: EmbeddedOptions,
    /// Settings for every msg_server (the secret and address are filled in).
    pub msg_server: MsgServerConfig,
    /// Link retry pace for gateway, router, manager and monitor.
    pub retry_max: Duration,
    /// The dashboard's login. Without one, a dashboard on a `host` other machines can reach
    /// listens on 127.0.0.1 instead (same port).
    pub web_login: Option<WebLogin>,
}

impl LocalOptions {
    pub fn new(data_dir: impl Into<PathBuf>, secret: impl Into<String>, ports: Ports) -> Self {
        Self {
            host: "127.0.0.1".into(),
            ports,
            data_dir: data_dir.into(),
            secret: secret.into(),
            store: None,
            embedded: EmbeddedOptions::default(),
            msg_server: MsgServerConfig::default(),
            retry_max: Duration::from_secs(2),
            web_login: None,
        }
    }
}

/// Why a local cluster did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen for the {role} on {addr}: {source}{hint}", hint = if source.kind() == std::io::ErrorKind::AddrInUse { " (is another cluster running? try --port-offset)" } else { "" })]
    Bind {
        role: String,
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the store in {dir}: {source}")]
    Store {
        dir: PathBuf,
        #[source]
        source: StoreError,
    },
    #[error("the {role} at {addr} did not become ready: {detail}")]
    NotReady {
        role: String,
        addr: String,
        detail: String,
    },
}

/// A role of a local cluster, as it starts.
#[derive(Debug, Clone)]
pub struct RoleInfo {
    pub role: String,
    pub addr: String,
}

struct MsgServerSlot {
    addr: SocketAddr,
    cancel: CancellationToken,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// A running local cluster.
pub struct LocalCluster {
    file: ClusterFile,
    store: Arc<dyn Store>,
    opts: LocalOptions,
    shutdown: CancellationToken,
    msg_servers: Vec<MsgServerSlot>,
    others: Vec<JoinHandle<std::io::Result<()>>>,
}

async fn bind(host: &str, port: u16, role: &str) -> Result<TcpListener, StartError> {
    let addr = format!("{host}:{port}");
    TcpListener::bind(&addr)
        .await
        .map_err(|source| StartError::Bind {
            role: role.to_string(),
            addr,
            source,
        })
}

/// The address the roles of this process reach a listener at: loopback where it is bound
/// to every interface (a msg_server advertising 0.0.0.0 would send clients nowhere).
fn reachable(mut addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    addr
}

fn local_addr(l: &TcpListener) -> SocketAddr {
    l.local_addr().expect("a bound listener has an address")
}

impl LocalCluster {
    /// Binds every listener, opens the store, starts every role and waits until they are
    /// ready. `on_ready` hears of each role as it becomes ready.
    pub async fn start(
        opts: LocalOptions,
        mut on_ready: impl FnMut(&RoleInfo),
    ) -> Result<LocalCluster, StartError> {
        let host = opts.host.clone();
        let gateway_l = bind(&host, opts.ports.gateway, "gateway").await?;
        let mut ms_l = Vec::new();
        for (i, p) in opts.ports.msg_servers.iter().enumerate() {
            ms_l.push(bind(&host, *p, &format!("msg_server {}", i + 1)).await?);
        }
        let router_l = bind(&host, opts.ports.router, "router").await?;
        let manager_l = bind(&host, opts.ports.manager, "manager").await?;
        let monitor_l = bind(&host, opts.ports.monitor, "monitor").await?;
        let web_host = web_host(&host, opts.web_login.is_some());
        let web_l = bind(&web_host, opts.ports.web, "monitor's dashboard").await?;
        let web_addr = local_addr(&web_l);
        if let Err(e) =
            roles::monitor::auth::Access::for_listener(web_addr, opts.web_login.as_ref())
        {
            return Err(StartError::NotReady {
                role: "monitor".into(),
                addr: web_addr.to_string(),
                detail: e.to_string(),
            });
        }

        let store: Arc<dyn Store> = match &opts.store {
            Some(s) => s.clone(),
            None => {
                let store = Arc::new(
                    EmbeddedStore::open(&opts.data_dir.join("store.redb"), opts.embedded.clone())
                        .map_err(|source| StartError::Store {
                        dir: opts.data_dir.clone(),
                        source,
                    })?,
                );
                forget_stale_sessions(store.as_ref()).await;
                store
            }
        };
        let shutdown = CancellationToken::new();
        let file = ClusterFile {
            gateway: local_addr(&gateway_l).to_string(),
            msg_servers: ms_l
                .iter()
                .map(|l| reachable(local_addr(l)).to_string())
                .collect(),
            router: local_addr(&router_l).to_string(),
            manager: local_addr(&manager_l).to_string(),
            monitor: Some(local_addr(&monitor_l).to_string()),
            web: Some(web_addr.to_string()),
            secret: opts.secret.clone(),
        };
        let mut cluster = LocalCluster {
            file,
            store,
            shutdown,
            msg_servers: Vec::new(),
            others: Vec::new(),
            opts,
        };
        for l in ms_l {
            let addr = local_addr(&l);
            let slot = cluster.spawn_msg_server(l, addr);
            cluster.msg_servers.push(slot);
            on_ready(&RoleInfo {
                role: format!("msg_server {}", cluster.msg_servers.len()),
                addr: addr.to_string(),
            });
        }
        let common = cluster.common();
        let link = |name: &str| {
            let mut l = LinkConfig::new(common.clone(), name);
            l.retry_max = cluster.opts.retry_max;
            l
        };
        let servers = cluster.file.msg_servers.clone();
        let router_cfg = RouterConfig {
            link: link("router"),
            msg_servers: servers.clone(),
        };
        let manager_cfg = ManagerConfig {
            link: link("manager"),
            msg_servers: servers.clone(),
        };
        let mut monitor_cfg = MonitorConfig::new(link("monitor"), servers.clone());
        monitor_cfg.monitor_beat = cluster.opts.msg_server.monitor_beat;
        monitor_cfg.login = cluster.opts.web_login.clone();
        monitor_cfg.roles = [
            ("gateway", &cluster.file.gateway),
            ("router", &cluster.file.router),
            ("manager", &cluster.file.manager),
        ]
        .into_iter()
        .map(|(role, addr)| RoleAddr {
            role: role.into(),
            addr: addr.clone(),
        })
        .collect();
        let gateway_cfg = GatewayConfig {
            link: link("gateway"),
            msg_servers: servers,
            monitor_beat: cluster.opts.msg_server.monitor_beat,
        };
        let token = cluster.shutdown.clone();
        cluster.others.push(tokio::spawn(roles::router::run(
            router_l,
            router_cfg,
            cluster.store.clone(),
            token.clone(),
        )));
        cluster.others.push(tokio::spawn(roles::manager::run(
            manager_l,
            manager_cfg,
            cluster.store.clone(),
            token.clone(),
        )));
        cluster.others.push(tokio::spawn(roles::gateway::run(
            gateway_l,
            gateway_cfg,
            token.clone(),
        )));
        cluster.others.push(tokio::spawn(roles::monitor::run(
            monitor_l,
            web_l,
            monitor_cfg,
            token,
        )));

        for (role, addr) in [
            ("router", cluster.file.router.clone()),
            ("manager", cluster.file.manager.clone()),
            ("gateway", cluster.file.gateway.clone()),
            ("monitor", cluster.file.monitor.clone().unwrap_or_default()),
        ] {
            wait_ready(role, &addr, Duration::from_secs(10)).await?;
            on_ready(&RoleInfo {
                role: role.to_string(),
                addr,
            });
        }
        Ok(cluster)
    }

    fn common(&self) -> Common {
        Common {
            secret: Some(self.opts.secret.clone()),
            max_frame: self.opts.msg_server.common.max_frame,
        }
    }

    fn spawn_msg_server(&self, listener: TcpListener, addr: SocketAddr) -> MsgServerSlot {
        let mut cfg = self.opts.msg_server.clone();
        cfg.common = self.common();
        cfg.advertise = Some(reachable(addr).to_string());
        let cancel = self.shutdown.child_token();
        let task = tokio::spawn(roles::msg_server::run(
            listener,
            cfg,
            self.store.clone(),
            cancel.clone(),
        ));
        MsgServerSlot {
            addr,
            cancel,
            task: Some(task),
        }
    }

    /// Where everything is.
    pub fn file(&self) -> &ClusterFile {
        &self.file
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Stops msg_server `i` (its clients are disconnected), as a crash would for them.
    pub async fn stop_msg_server(&mut self, i: usize) {
        let slot = &mut self.msg_servers[i];
        slot.cancel.cancel();
        if let Some(t) = slot.task.take() {
            let _ = t.await;
        }
    }

    /// Starts msg_server `i` again on its address.
    pub async fn restart_msg_server(&mut self, i: usize) -> Result<(), StartError> {
        self.stop_msg_server(i).await;
        let addr = self.msg_servers[i].addr;
        let l = bind(
            &addr.ip().to_string(),
            addr.port(),
            &format!("msg_server {}", i + 1),
        )
        .await?;
        self.msg_servers[i] = self.spawn_msg_server(l, addr);
        Ok(())
    }

    /// Stops every role (each drains for a bounded time) and makes the store durable.
    pub async fn shutdown(mut self) -> Result<(), StoreError> {
        self.shutdown.cancel();
        for slot in &mut self.msg_servers {
            if let Some(t) = slot.task.take() {
                let _ = t.await;
            }
        }
        for t in self.others.drain(..) {
            let _ = t.await;
        }
        self.store.flush().await
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Where the dashboard listens: on `host`, unless other machines could reach it there and it
/// has no login; then on loopback (a dashboard without a login is for this machine only).
fn web_host(host: &str, has_login: bool) -> String {
    let reachable = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => !ip.to_canonical().is_loopback(),
        Err(_) => host != "localhost",
    };
    if reachable && !has_login {
        tracing::warn!(
            %host,
            "the dashboard has no login, so it listens on 127.0.0.1 only; configure one to serve it on {host}"
        );
        "127.0.0.1".to_string()
    } else {
        host.to_string()
    }
}

/// The embedded store belongs to this process alone (redb locks the file), so every
/// session in it was left by an earlier run, possibly on other ports (`--any-ports`) or
/// ended by a crash: none of those connections exist any more.
async fn forget_stale_sessions(store: &dyn Store) {
    let servers: std::collections::BTreeSet<String> = match store.all_sessions().await {
        Ok(all) => all.into_iter().map(|(_, loc)| loc.server).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "could not list stale sessions");
            return;
        }
    };
    for server in servers {
        if let Err(e) = store.clear_server(&server).await {
            tracing::warn!(%server, error = %e, "could not clear stale sessions");
        }
    }
}
