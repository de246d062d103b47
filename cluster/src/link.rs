//! A role's link to one msg_server: connect, subscribe to channels with the cluster
//! secret, ping, and on any failure reconnect with backoff and subscribe again.
//!
//! Router, manager, gateway and monitor keep one link per msg_server (`roles/fleet.rs`
//! starts them). A msg_server that is down at start, or goes away and comes back, is picked
//! up again by itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Map, Value};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use crate::config::LinkConfig;
use crate::outbox::Outbox;
use crate::protocol::{Body, Channel, Command, ErrorCode, FrameCodec};

/// What a link reports.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkEvent {
    /// Connected and subscribed.
    Up,
    /// Lost, or could not connect; retrying.
    Down { reason: String },
    /// A command the msg_server published.
    Command(Command),
    /// A bare monitor beat.
    Beat(Map<String, Value>),
}

impl LinkEvent {
    /// Whether this is a `Down` because the msg_server refused the subscription for a
    /// missing or wrong cluster secret: retrying cannot help until the secret changes.
    pub fn is_secret_refused(&self) -> bool {
        match self {
            LinkEvent::Down { reason } => reason
                .strip_prefix(REFUSED)
                .is_some_and(|r| r.starts_with(ErrorCode::Forbidden.as_str())),
            _ => false,
        }
    }
}

/// How a `Down` for a refused subscription starts; the error code and detail follow.
const REFUSED: &str = "subscription refused: ";

/// Sends on a link, whatever connection it has at the moment.
#[derive(Clone)]
pub struct LinkHandle {
    addr: Arc<str>,
    current: Arc<Mutex<Option<Outbox>>>,
    up: Arc<AtomicBool>,
}

impl LinkHandle {
    /// The msg_server's address.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Connected and subscribed.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Queues a frame; `false` where the link is down (the frame is dropped).
    pub fn send(&self, frame: Bytes) -> bool {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        match current.as_ref() {
            Some(o) => o.send(frame).is_ok(),
            None => false,
        }
    }
}

/// Starts a link to `addr` subscribed to `channels`. Events arrive on the receiver until
/// `shutdown` is cancelled.
pub fn spawn(
    addr: &str,
    channels: Vec<Channel>,
    cfg: LinkConfig,
    shutdown: CancellationToken,
) -> (LinkHandle, mpsc::Receiver<LinkEvent>) {
    let handle = LinkHandle {
        addr: addr.into(),
        current: Arc::new(Mutex::new(None)),
        up: Arc::new(AtomicBool::new(false)),
    };
    let (tx, rx) = mpsc::channel(4096);
    tokio::spawn(run(handle.clone(), channels, cfg, tx, shutdown));
    (handle, rx)
}

async fn run(
    handle: LinkHandle,
    channels: Vec<Channel>,
    cfg: LinkConfig,
    tx: mpsc::Sender<LinkEvent>,
    shutdown: CancellationToken,
) {
    let mut delay = cfg.retry_min;
    let mut reported_down = false;
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        let result = session(&handle, &channels, &cfg, &tx, &shutdown).await;
        handle.up.store(false, Ordering::Relaxed);
        *handle.current.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let (reason, was_up, refused) = match result {
            Ok(()) => return, // shutdown
            // The whole cluster is stopping; the msg_server closing first is no news.
            Err(_) if shutdown.is_cancelled() => return,
            Err(e) => e,
        };
        if was_up || !reported_down {
            tracing::warn!(server = %handle.addr, %reason, "link to msg_server down; retrying");
            if tx.send(LinkEvent::Down { reason }).await.is_err() {
                return;
            }
            reported_down = true;
        }
        if was_up {
            delay = cfg.retry_min;
        }
        // A refused secret will not fix itself quickly: retry at the slowest pace.
        let wait = if refused { cfg.retry_max } else { delay };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        delay = (delay * 2).min(cfg.retry_max);
    }
}

/// One connection's life. `Err((reason, was_up, refused))` when it ends by itself.
async fn session(
    handle: &LinkHandle,
    channels: &[Channel],
    cfg: &LinkConfig,
    tx: &mpsc::Sender<LinkEvent>,
    shutdown: &CancellationToken,
) -> Result<(), (String, bool, bool)> {
    let stream = tokio::select! {
        _ = shutdown.cancelled() => return Ok(()),
        r = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&*handle.addr)) => match r {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err((format!("cannot connect: {e}"), false, false)),
            Err(_) => return Err(("connect timed out".into(), false, false)),
        },
    };
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    let cut = shutdown.child_token();
    let _guard = cut.clone().drop_guard();
    let outbox = Outbox::spawn(wr, usize::MAX, cut.clone());
    let mut frames = FramedRead::new(rd, FrameCodec::new(cfg.common.max_frame));
    // A role's link speaks the fishchat level: receipts, `SYNC`, `ERROR`s.
    let _ = outbox.send(
        Command::Hello {
            version: crate::protocol::level::VERSION,
            client: Some(cfg.subscriber.clone()),
        }
        .to_frame(),
    );
    for ch in channels {
        let _ = outbox.send(
            Command::SubscribeChannel {
                channel: ch.as_str().into(),
                subscriber: cfg.subscriber.clone(),
                secret: cfg.common.secret.clone(),
            }
            .to_frame(),
        );
    }
    let _ = outbox.send(
        Command::Sync {
            token: "link".into(),
        }
        .to_frame(),
    );

    let mut up = false;
    // The answer to HELLO came (HELLO_OK, or an older server's UNKNOWN_CMD).
    let mut hello = false;
    let mut ping = tokio::time::interval(cfg.ping_every);
    ping.tick().await;
    loop {
        let next = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = cut.cancelled() => return Err(("connection cut".into(), up, false)),
            _ = ping.tick() => {
                let _ = outbox.send(Command::SendPing.to_frame());
                continue;
            }
            n = frames.next() => n,
        };
        let body = match next {
            None => return Err(("msg_server closed the connection".into(), up, false)),
            Some(Err(e)) => return Err((e.to_string(), up, false)),
            Some(Ok(b)) => b,
        };
        let event = match Body::parse(&body) {
            Ok(Body::Bare(m)) => LinkEvent::Beat(m),
            Ok(Body::Envelope(env)) => match Command::from_envelope(env) {
                Ok(Command::HelloOk { .. }) => {
                    hello = true;
                    continue;
                }
                // A msg_server from before the protocol levels: it serves the link all the
                // same (it never had an original level to keep from us).
                Ok(Command::Error {
                    code: ErrorCode::UnknownCmd,
                    ..
                }) if !up && !hello => {
                    hello = true;
                    tracing::warn!(server = %handle.addr, "msg_server does not know HELLO: an older version");
                    continue;
                }
                Ok(Command::SyncDone { .. }) if !up => {
                    up = true;
                    *handle.current.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(outbox.clone());
                    handle.up.store(true, Ordering::Relaxed);
                    tracing::debug!(server = %handle.addr, subscriber = %cfg.subscriber, "link up");
                    LinkEvent::Up
                }
                Ok(Command::Error { code, detail }) if !up => {
                    let refused = code == ErrorCode::Forbidden;
                    return Err((format!("{REFUSED}{code} {detail}"), false, refused));
                }
                Ok(c) => LinkEvent::Command(c),
                Err(e) => {
                    tracing::warn!(server = %handle.addr, error = %e, "ignoring an event this role does not understand");
                    continue;
                }
            },
            Err(e) => {
                tracing::warn!(server = %handle.addr, error = %e, "ignoring a malformed frame");
                continue;
            }
        };
        if tx.send(event).await.is_err() {
            return Ok(());
        }
    }
}
