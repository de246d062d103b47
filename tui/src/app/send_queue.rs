//! Our messages on their way: written (shown at once and kept), handed to the worker
//! while connected, handed again after a reconnection until the server answers, and
//! marked as the answers come (sent, delivered, refused).

use crate::history::Record;
use crate::model::{ConvId, Mark, Message};
use crate::net::Request;

use super::state::{now_ms, App};

/// The longest message the client sends. Far under the server's frame limit, so one paste
/// cannot get the connection cut.
pub const MAX_MESSAGE: usize = 64 * 1024;

impl App {
    /// Writes `text` to conversation `i`: shown at once, kept, and sent when connected.
    /// False (with a notice) where it cannot be sent at all.
    pub(super) fn send(&mut self, i: usize, text: &str) -> bool {
        let text = text.trim_end().trim_start_matches(['\n', '\r']);
        if text.is_empty() {
            return true;
        }
        if text.len() > MAX_MESSAGE {
            self.error(format!(
                "the message is {} KiB; the most is {} KiB — split it",
                text.len().div_ceil(1024),
                MAX_MESSAGE / 1024
            ));
            return false;
        }
        let m = Message {
            uuid: uuid::Uuid::new_v4().to_string(),
            from: self.me.clone(),
            text: text.to_string(),
            at_ms: now_ms(),
            mark: Mark::Pending,
            offline: false,
        };
        let id = self.convs[i].id.clone();
        self.save(Record::Msg {
            conv: id.clone(),
            msg: m.clone(),
        });
        let c = &mut self.convs[i];
        c.push(m.clone());
        c.scroll = 0;
        c.unread = 0;
        if self.connected() {
            self.dispatch(&id, &m);
        }
        true
    }

    /// Hands our message `m` to the worker.
    fn dispatch(&mut self, conv: &ConvId, m: &Message) {
        self.in_flight.insert(m.uuid.clone());
        self.requests.push(match conv {
            ConvId::Person(to) => Request::SendP2p {
                to: to.clone(),
                text: m.text.clone(),
                uuid: m.uuid.clone(),
            },
            ConvId::Topic(topic) => Request::SendTopic {
                topic: topic.clone(),
                text: m.text.clone(),
                uuid: m.uuid.clone(),
            },
        });
    }

    /// Sends every message of ours still waiting; returns how many.
    pub(super) fn flush(&mut self) -> usize {
        let mut todo = Vec::new();
        for c in &self.convs {
            for m in &c.messages {
                if m.mark == Mark::Pending && !self.in_flight.contains(&m.uuid) {
                    todo.push((c.id.clone(), m.clone()));
                }
            }
        }
        for (id, m) in &todo {
            self.dispatch(id, m);
        }
        todo.len()
    }

    /// Moves our message `uuid` in conversation `i` on to `mark`, and keeps that; marks
    /// never go back.
    pub(super) fn set_mark(&mut self, i: usize, uuid: &str, mark: Mark) {
        let id = self.convs[i].id.clone();
        let Some(m) = self.convs[i].own_mut(uuid) else {
            return;
        };
        if !m.mark.advances_to(&mark) {
            return;
        }
        m.mark = mark.clone();
        self.save(Record::Mark {
            conv: id,
            uuid: uuid.to_string(),
            mark,
        });
    }

    /// [`App::set_mark`] in whichever conversation holds `uuid`.
    pub(super) fn mark_any(&mut self, uuid: &str, mark: Mark) {
        if let Some(i) = self.convs.iter().position(|c| c.has(uuid)) {
            self.set_mark(i, uuid, mark);
        }
    }
}
