//! The network worker: one task that owns the connection, so the UI never awaits the
//! network.
//!
//! The UI sends [`Request`]s (never blocking: the channel is unbounded) and reads
//! [`Update`]s. The worker finds a msg_server through the gateway, logs in, and keeps the
//! session: every request is followed by a `SYNC`, so each `ERROR` is matched to the
//! request that caused it, and each send is confirmed ([`Update::Sent`]) or refused
//! ([`Update::SendFailed`]). A `SYNC` every [`WorkerConfig::heartbeat`] measures the round
//! trip and keeps the session alive; a connection that stops answering is dropped. When
//! the connection is lost the worker says so and reconnects with backoff.
//!
//! Every [`Request::SendP2p`] and [`Request::SendTopic`] gets exactly one answer:
//! [`Update::Sent`], [`Update::SendFailed`], or [`Update::NotSent`] (the connection was lost
//! first; the UI sends it again after the next [`Update::Connected`]).

//!
//! - [`config`]: where the cluster is, heartbeat, timeouts and backoff.
//! - [`session`]: one logged-in connection.

mod config;
mod session;
#[cfg(test)]
mod tests;

use std::time::Duration;

use fishchat_cluster::client::{Client, ConnectOptions};
use fishchat_cluster::discovery::ClusterFile;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use config::{Target, WorkerConfig};
pub use session::describe;
use session::{End, Session};

use crate::net::{Request, Update};

/// The running worker. Dropping it (or [`Worker::stop`]) ends the session.
pub struct Worker {
    requests: mpsc::UnboundedSender<Request>,
    /// Read by the UI loop.
    pub updates: mpsc::UnboundedReceiver<Update>,
    task: JoinHandle<()>,
}

impl Worker {
    /// Starts the worker on the current tokio runtime.
    pub fn spawn(cfg: WorkerConfig) -> Worker {
        let (requests, rx) = mpsc::unbounded_channel();
        let (tx, updates) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(cfg, rx, tx));
        Worker {
            requests,
            updates,
            task,
        }
    }

    /// Hands a request to the worker; never waits.
    pub fn request(&self, r: Request) {
        if self.requests.send(r).is_err() {
            tracing::warn!("the network worker has stopped; a request was dropped");
        }
    }

    /// Ends the session once the requests already handed over are sent, waiting at most
    /// `grace` for the server to take them.
    pub async fn stop(self, grace: Duration) {
        let Worker {
            requests, mut task, ..
        } = self;
        drop(requests);
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            tracing::warn!(?grace, "the network worker did not stop in time");
            task.abort();
        }
    }
}

async fn run(
    cfg: WorkerConfig,
    mut rx: mpsc::UnboundedReceiver<Request>,
    tx: mpsc::UnboundedSender<Update>,
) {
    let say = |u: Update| {
        let _ = tx.send(u);
    };
    let mut failures = 0u32;
    loop {
        say(Update::Connecting {
            via: cfg.target.describe(),
            attempt: failures + 1,
        });
        let reason = match connect(&cfg).await {
            Ok(client) => {
                failures = 0;
                tracing::info!(server = client.server(), id = %cfg.id, "connected");
                say(Update::Connected {
                    server: client.server().to_string(),
                });
                let mut session = Session::new(&cfg, client, &tx);
                match session.run(&mut rx).await {
                    End::Stopped => return,
                    End::Reconnect => continue,
                    End::Lost(reason) => reason,
                }
            }
            Err(reason) => {
                failures = failures.saturating_add(1);
                reason
            }
        };
        let retry_in = cfg.backoff(failures);
        tracing::info!(%reason, ?retry_in, "disconnected");
        say(Update::Disconnected {
            reason: reason.clone(),
            retry_in,
        });
        // Wait, answering requests as a disconnected client must.
        let wake = tokio::time::sleep(retry_in);
        tokio::pin!(wake);
        loop {
            tokio::select! {
                _ = &mut wake => break,
                r = rx.recv() => match r {
                    None => return,
                    Some(Request::Reconnect) => break,
                    Some(Request::SendP2p { uuid, .. } | Request::SendTopic { uuid, .. }) => {
                        say(Update::NotSent { uuid })
                    }
                    Some(Request::Create { topic }) => say(Update::Refused {
                        what: format!("/create {topic}"),
                        error: format!("not connected ({reason})"),
                    }),
                    Some(Request::Join { topic }) => say(Update::Refused {
                        what: format!("/join {topic}"),
                        error: format!("not connected ({reason})"),
                    }),
                    // The message stays in the inbox and comes back at the next login.
                    Some(Request::Ack { .. }) => {}
                },
            }
        }
    }
}

/// Finds a msg_server and logs in.
async fn connect(cfg: &WorkerConfig) -> Result<Client, String> {
    let gateway = match &cfg.target {
        Target::Gateway(a) => a.clone(),
        Target::ClusterFile(p) if !p.exists() => {
            return Err(format!(
                "no cluster file at {}: is `fishchat up` running? (or pass --gateway ADDR)",
                p.display()
            ))
        }
        Target::ClusterFile(p) => ClusterFile::read(p).map_err(|e| e.to_string())?.gateway,
    };
    let addr = Client::locate(&gateway)
        .await
        .map_err(|e| format!("gateway {gateway}: {e}"))?;
    let opts = ConnectOptions::named(format!("fishchat-chat/{}", env!("CARGO_PKG_VERSION")));
    let mut client = Client::connect_with(&addr, &opts)
        .await
        .map_err(|e| e.to_string())?;
    client
        .login(&cfg.id)
        .await
        .map_err(|e| format!("login as {} at {addr}: {e}", cfg.id))?;
    Ok(client)
}
