//! The network worker: one task that owns the connection, so the UI never awaits the
//! network.
//!
//! The UI sends [`Request`]s (never blocking: the channel is unbounded) and reads
//! [`Update`]s. The worker finds a msg_server through the gateway, logs in, and keeps the
//! session: every request is followed by a `SYNC`, so each `ERROR` is matched to the
//! request that caused it, and each send is confirmed ([`Update::Sent`]) or refused
//! ([`Update::SendFailed`]). A `SYNC` every [`WorkerConfig::heartbeat`] measures the round
//! trip and keeps the session alive; a connection that stops answering is dropped. When
//! the connection is lost the worker says so and reconnects with backoff, logging in as
//! [`WorkerConfig::login`] says (with the device token where signed in, never a password).
//! Where that login is refused (the device was revoked, the id claimed by an account) it
//! says [`Update::SignedOut`] and stops trying.
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

use fishchat_cluster::client::{Client, ClientError, ConnectOptions};
use fishchat_cluster::discovery::ClusterFile;
use fishchat_cluster::protocol::ErrorCode;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use config::{Login, Target, WorkerConfig};
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
        Worker::spawn_with(cfg, None)
    }

    /// Starts the worker with `first`, a connection already logged in as `cfg.login` says
    /// (the sign-in's), used before any new one is opened.
    pub fn spawn_with(cfg: WorkerConfig, first: Option<Client>) -> Worker {
        let (requests, rx) = mpsc::unbounded_channel();
        let (tx, updates) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(cfg, first, rx, tx));
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
    first: Option<Client>,
    mut rx: mpsc::UnboundedReceiver<Request>,
    tx: mpsc::UnboundedSender<Update>,
) {
    let say = |u: Update| {
        let _ = tx.send(u);
    };
    let mut first = first;
    let mut failures = 0u32;
    // Why the last session ended, where the server said we were signed out: the words the
    // status line keeps when the next login is refused.
    let mut signed_out: Option<String> = None;
    loop {
        say(Update::Connecting {
            via: cfg.target.describe(),
            attempt: failures + 1,
        });
        let attempt = match first.take() {
            Some(client) => Ok((client, None)),
            None => connect(&cfg).await,
        };
        let reason = match attempt {
            Ok((client, device)) => {
                failures = 0;
                signed_out = None;
                tracing::info!(server = client.server(), id = %cfg.id, "connected");
                if let Some(device_id) = device {
                    say(Update::SignedIn { device_id });
                }
                say(Update::Connected {
                    server: client.server().to_string(),
                });
                let mut session = Session::new(&cfg, client, &tx);
                match session.run(&mut rx).await {
                    End::Stopped => return,
                    End::Reconnect => continue,
                    // Where the server said why (an operator's kick, a revoked device),
                    // that is the reason shown.
                    End::Lost(reason) => {
                        signed_out = session.signed_out();
                        signed_out.clone().unwrap_or(reason)
                    }
                }
            }
            Err(Failure::SignedOut(detail)) => {
                let reason = signed_out.take().unwrap_or_else(|| match cfg.login {
                    Login::Token { .. } => {
                        format!("signed out: the cluster no longer accepts this device ({detail})")
                    }
                    Login::Unclaimed => format!("signed out: {detail}"),
                });
                tracing::warn!(%reason, "login refused; not retrying");
                say(Update::SignedOut {
                    reason: reason.clone(),
                });
                // Logging in again the same way cannot help: answer what the UI asks until
                // it stops.
                while let Some(r) = rx.recv().await {
                    refuse(&say, r, &reason);
                }
                return;
            }
            Err(Failure::Retry(reason)) => {
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
                    Some(r) => refuse(&say, r, &format!("not connected ({reason})")),
                },
            }
        }
    }
}

/// Answers a request that cannot be sent (`why`): a message is handed back to be sent
/// later, a command refused; an ack is dropped (the message stays in the inbox and comes
/// back at the next login).
fn refuse(say: &impl Fn(Update), r: Request, why: &str) {
    match r {
        Request::SendP2p { uuid, .. } | Request::SendTopic { uuid, .. } => {
            say(Update::NotSent { uuid })
        }
        Request::Ack { .. } | Request::Reconnect => {}
        other => say(Update::Refused {
            what: session::typed(&other),
            error: why.to_string(),
        }),
    }
}

/// Why a connection attempt failed.
enum Failure {
    /// The cluster could not be reached, or the connection failed: try again later.
    Retry(String),
    /// The login was refused (a token that is no longer valid, an id that needs an
    /// account): trying again the same way cannot help. The server's detail.
    SignedOut(String),
}

/// Finds a msg_server and logs in as [`WorkerConfig::login`] says; with the token, says
/// as which device.
async fn connect(cfg: &WorkerConfig) -> Result<(Client, Option<String>), Failure> {
    let mut client = open(&cfg.target).await.map_err(Failure::Retry)?;
    let addr = client.server().to_string();
    let result = match &cfg.login {
        Login::Unclaimed => client.login(&cfg.id).await.map(|()| None),
        Login::Token {
            token, device_name, ..
        } => client
            .sign_in(&cfg.id, token, Some(device_name))
            .await
            .map(|s| Some(s.device_id)),
    };
    match result {
        Ok(device) => Ok((client, device)),
        Err(ClientError::Server {
            code: ErrorCode::AuthFailed | ErrorCode::AuthRequired,
            detail,
        }) => Err(Failure::SignedOut(detail)),
        Err(e) => Err(Failure::Retry(format!(
            "login as {} at {addr}: {e}",
            cfg.id
        ))),
    }
}

/// Finds a msg_server through the gateway (or the cluster file's gateway) and opens a
/// connection to it, not logged in: the worker's connections and the sign-in before the
/// screen opens ([`crate::signin`]) both start here. The error says what to do.
pub async fn open(target: &Target) -> Result<Client, String> {
    let gateway = match target {
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
    Client::connect_with(&addr, &opts)
        .await
        .map_err(|e| e.to_string())
}
