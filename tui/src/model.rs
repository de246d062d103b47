//! Conversations and messages: the data the client shows and keeps
//! ([`crate::history`] saves it, [`crate::app`] changes it, [`crate::ui`] draws it).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::editor::Editor;

/// Whom a conversation is with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConvId {
    /// Person to person, with this id.
    Person(String),
    /// A topic (a group).
    Topic(String),
}

impl ConvId {
    pub fn name(&self) -> &str {
        match self {
            ConvId::Person(n) | ConvId::Topic(n) => n,
        }
    }

    /// `@bob` or `#rust`.
    pub fn label(&self) -> String {
        match self {
            ConvId::Person(n) => format!("@{n}"),
            ConvId::Topic(n) => format!("#{n}"),
        }
    }
}

/// Where a message stands. Ours go Pending → Sent → Delivered (or Failed); others' are
/// Incoming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// Someone else's message.
    Incoming,
    /// Ours, not yet confirmed by the server (it is sent, or sent again, once connected).
    Pending,
    /// Ours, accepted by the server.
    Sent,
    /// Ours, received by the other person (person-to-person only).
    Delivered,
    /// Ours, refused by the server; the reason.
    Failed(String),
    /// Not a message: a note of the client's own (a command's answer, such as the list of
    /// `/devices`), shown in the conversation and never sent nor kept in the history.
    Note,
}

impl Mark {
    /// Whether moving from `self` to `next` is progress: marks never go back (a late
    /// "sent" must not hide "delivered").
    pub fn advances_to(&self, next: &Mark) -> bool {
        let rank = |m: &Mark| match m {
            Mark::Incoming => 0,
            Mark::Pending => 1,
            Mark::Sent => 2,
            Mark::Failed(_) => 3,
            Mark::Delivered => 4,
            Mark::Note => 5,
        };
        !matches!(self, Mark::Incoming | Mark::Note)
            && *next != Mark::Note
            && rank(next) > rank(self)
    }
}

/// One message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub uuid: String,
    pub from: String,
    pub text: String,
    /// Unix milliseconds: when the server accepted it (ours: when we wrote it).
    pub at_ms: u64,
    pub mark: Mark,
    /// Queued for us while we were away, delivered at login.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub offline: bool,
}

impl Message {
    /// Whether we wrote it (a note is nobody's).
    pub fn own(&self) -> bool {
        !matches!(self.mark, Mark::Incoming | Mark::Note)
    }
}

/// A conversation in the sidebar.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: ConvId,
    pub messages: Vec<Message>,
    /// Messages that arrived while it was not in view.
    pub unread: usize,
    /// Lines scrolled up from the newest message (0: following the newest).
    pub scroll: usize,
    /// What was being typed here, kept while another conversation is open.
    pub draft: Editor,
    seen: HashSet<String>,
}

impl Conversation {
    pub fn new(id: ConvId) -> Conversation {
        Conversation {
            id,
            messages: Vec::new(),
            unread: 0,
            scroll: 0,
            draft: Editor::default(),
            seen: HashSet::new(),
        }
    }

    /// Whether a message with this uuid is here already.
    pub fn has(&self, uuid: &str) -> bool {
        self.seen.contains(uuid)
    }

    /// Appends `m` unless its uuid is here already; returns whether it was added.
    pub fn push(&mut self, m: Message) -> bool {
        if !self.seen.insert(m.uuid.clone()) {
            return false;
        }
        self.messages.push(m);
        true
    }

    /// Our message `uuid`, newest first (where marks usually land).
    pub fn own_mut(&mut self, uuid: &str) -> Option<&mut Message> {
        if !self.has(uuid) {
            return None;
        }
        self.messages
            .iter_mut()
            .rev()
            .find(|m| m.uuid == uuid && m.own())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_only_move_forward() {
        assert!(Mark::Pending.advances_to(&Mark::Sent));
        assert!(Mark::Sent.advances_to(&Mark::Delivered));
        assert!(Mark::Pending.advances_to(&Mark::Delivered));
        assert!(!Mark::Delivered.advances_to(&Mark::Sent));
        assert!(!Mark::Sent.advances_to(&Mark::Pending));
        assert!(!Mark::Incoming.advances_to(&Mark::Delivered));
        assert!(Mark::Pending.advances_to(&Mark::Failed("x".into())));
    }

    #[test]
    fn a_conversation_keeps_one_copy_of_each_uuid() {
        let mut c = Conversation::new(ConvId::Person("bob".into()));
        let m = Message {
            uuid: "u1".into(),
            from: "bob".into(),
            text: "hi".into(),
            at_ms: 1,
            mark: Mark::Incoming,
            offline: false,
        };
        assert!(c.push(m.clone()));
        assert!(!c.push(m));
        assert_eq!(c.messages.len(), 1);
        assert!(c.own_mut("u1").is_none(), "not ours");
    }

    #[test]
    fn ids_serialize_readably() {
        let j = serde_json::to_string(&ConvId::Topic("rust".into())).unwrap();
        assert_eq!(j, r#"{"topic":"rust"}"#);
        let j = serde_json::to_string(&Mark::Failed("no".into())).unwrap();
        assert_eq!(j, r#"{"failed":"no"}"#);
        assert_eq!(serde_json::to_string(&Mark::Sent).unwrap(), r#""sent""#);
    }
}
