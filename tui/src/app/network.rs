//! What the network worker reports ([`Update`]), applied to the state: the link going up
//! and down, messages arriving (kept, acknowledged, counted as unread), the answers to
//! ours, topics created and joined.

use std::time::Instant;

use crate::history::Record;
use crate::model::{ConvId, Mark, Message};
use crate::net::{Request, Update};

use super::state::{now_ms, App, Link, Mode};
use fishchat_cluster::protocol::{P2pMessage, TopicMessage};

impl App {
    /// Applies what the network reported.
    pub fn apply(&mut self, u: Update) {
        let Some(u) = self.apply_account(u) else {
            return;
        };
        match u {
            Update::Connecting { via, attempt } => self.link = Link::Connecting { via, attempt },
            Update::Connected { server } => {
                let again = matches!(self.link, Link::Disconnected { .. });
                self.link = Link::Connected {
                    server: server.clone(),
                };
                let waiting = self.flush();
                if again {
                    match waiting {
                        0 => self.info(format!("connected again, to {server}")),
                        n => self.info(format!("connected again; sending {n} waiting")),
                    }
                }
            }
            Update::Disconnected { reason, retry_in } => {
                self.link = Link::Disconnected {
                    reason,
                    retry_at: Instant::now() + retry_in,
                };
                self.rtt = None;
            }
            Update::P2p(P2pMessage {
                from,
                msg: text,
                uuid,
                sent_at_ms,
                offline,
            }) => {
                let i = self.open(ConvId::Person(from.clone()));
                self.receive(
                    i,
                    Message {
                        uuid: uuid.clone(),
                        from,
                        text,
                        at_ms: sent_at_ms.unwrap_or_else(now_ms),
                        mark: Mark::Incoming,
                        offline,
                    },
                );
                // Saved (or known) by now: the server may let it go.
                self.requests.push(Request::Ack { uuid });
            }
            Update::Topic(TopicMessage {
                topic,
                from,
                msg: text,
                uuid,
                sent_at_ms,
            }) => {
                let i = self.open(ConvId::Topic(topic));
                let uuid = uuid.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                let ours = from == self.me;
                if self.convs[i].has(&uuid) {
                    // Our own message coming back: it reached the topic.
                    if ours {
                        self.set_mark(i, &uuid, Mark::Sent);
                    }
                    return;
                }
                self.receive(
                    i,
                    Message {
                        uuid,
                        from,
                        text,
                        at_ms: sent_at_ms.unwrap_or_else(now_ms),
                        // Ours from another device of this id.
                        mark: if ours { Mark::Sent } else { Mark::Incoming },
                        offline: false,
                    },
                );
            }
            Update::Sent { uuid } => {
                self.in_flight.remove(&uuid);
                self.mark_any(&uuid, Mark::Sent);
            }
            Update::SendFailed { uuid, error } => {
                self.in_flight.remove(&uuid);
                self.mark_any(&uuid, Mark::Failed(error.clone()));
                self.error(format!("not sent: {error}"));
            }
            Update::NotSent { uuid } => {
                // Still pending: sent again at the next connection.
                self.in_flight.remove(&uuid);
                if self.connected() {
                    self.flush();
                }
            }
            Update::Delivered { uuid, to } => {
                if let Some(i) = self.index(&ConvId::Person(to)) {
                    self.set_mark(i, &uuid, Mark::Delivered);
                }
            }
            Update::Created { topic, invite_only } => {
                let i = self.open(ConvId::Topic(topic.clone()));
                self.select(i);
                if invite_only {
                    self.info(format!(
                        "created #{topic}, invite-only: /invite ID lets someone /join {topic}"
                    ));
                } else {
                    self.info(format!(
                        "created #{topic}; others join it with /join {topic}"
                    ));
                }
            }
            Update::Joined { topic } => {
                let i = self.open(ConvId::Topic(topic.clone()));
                self.select(i);
                self.info(format!("joined #{topic}"));
            }
            Update::Refused { what, error } => self.error(format!("{what}: {error}")),
            Update::Error { text } => self.error(text),
            Update::Rtt(d) => self.rtt = Some(d),
            // The account's and owned topics' answers ([`App::apply_account`]).
            Update::Invited { .. }
            | Update::Kicked { .. }
            | Update::Left { .. }
            | Update::Members(_)
            | Update::Devices(_)
            | Update::Revoked { .. }
            | Update::PasswordChanged { .. }
            | Update::LoggedOut
            | Update::SignedIn { .. }
            | Update::SignedOut { .. } => {}
        }
    }

    /// Shows and keeps a message that arrived.
    fn receive(&mut self, i: usize, m: Message) {
        if self.convs[i].has(&m.uuid) {
            return;
        }
        self.save(Record::Msg {
            conv: self.convs[i].id.clone(),
            msg: m.clone(),
        });
        let own = m.own();
        self.convs[i].push(m);
        if self.selected.is_none() {
            self.select(i);
        }
        let in_view = self.selected == Some(i)
            && self.convs[i].scroll == 0
            && !matches!(self.mode, Mode::Help { .. });
        if !own && !in_view {
            self.convs[i].unread += 1;
        }
    }
}
