//! A link to every msg_server, for the roles that keep one (gateway, router, manager,
//! monitor): [`link_every`] starts them ([`crate::link`] reconnects each by itself), and
//! [`Fleet::drain_into`] hands each link's events to the role's [`OnLinkEvent`].
//!
//! The links come first and the draining after, so a role can keep the handles in the
//! state its handler reads.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::LinkConfig;
use crate::link::{self, LinkEvent, LinkHandle};
use crate::protocol::Channel;

/// What a role does with the events of its links.
pub(crate) trait OnLinkEvent: Send + Sync + 'static {
    /// One event of the link to `msg_servers[server]`, whose address is `addr`. The next
    /// event of that link waits until this returns.
    fn on_event(
        &self,
        server: usize,
        addr: &str,
        event: LinkEvent,
    ) -> impl Future<Output = ()> + Send;
}

/// One link per msg_server, in the order of the config's list.
pub(crate) struct Fleet {
    handles: Vec<LinkHandle>,
    events: Vec<mpsc::Receiver<LinkEvent>>,
}

/// Starts a link to each of `msg_servers`, subscribed to `channels`, until `shutdown`.
pub(crate) fn link_every(
    msg_servers: &[String],
    channels: &[Channel],
    cfg: &LinkConfig,
    shutdown: &CancellationToken,
) -> Fleet {
    let (handles, events) = msg_servers
        .iter()
        .map(|server| link::spawn(server, channels.to_vec(), cfg.clone(), shutdown.clone()))
        .unzip();
    Fleet { handles, events }
}

impl Fleet {
    /// The links, in the order of the config's list.
    pub(crate) fn handles(&self) -> &[LinkHandle] {
        &self.handles
    }

    /// Drains each link's events into `role`, one task per link on `tracker`; each task
    /// ends when its link does (at shutdown).
    pub(crate) fn drain_into<R: OnLinkEvent>(self, role: Arc<R>, tracker: &TaskTracker) {
        for (server, (handle, mut events)) in self.handles.into_iter().zip(self.events).enumerate()
        {
            let role = role.clone();
            tracker.spawn(async move {
                while let Some(event) = events.recv().await {
                    role.on_event(server, handle.addr(), event).await;
                }
            });
        }
    }
}
