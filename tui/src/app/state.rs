//! The client's state as plain data: [`App`] and the types of its fields, with what the
//! screen asks of it. The changes are in the modules beside this one (listed in
//! [`crate::app`]); it imports none of them, so that each of them can import it.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::editor::Editor;
use crate::history::Record;
use crate::model::{Conversation, Mark};
use crate::net::Request;

/// The link to the cluster as the status line shows it: how far the worker got in
/// reaching a msg_server, or why it is cut off and when it tries again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Starting,
    Connecting { via: String, attempt: u32 },
    Connected { server: String },
    Disconnected { reason: String, retry_at: Instant },
}

/// A line of news for the status line: an error, or something that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
    pub until: Instant,
}

/// A search in the open conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub query: Editor,
    /// The message found, an index into the conversation's messages.
    pub hit: Option<usize>,
}

impl Search {
    /// Whether `text` matches (case-insensitive; an empty query matches nothing).
    pub fn matches(&self, text: &str) -> bool {
        let q = self.query.text();
        !q.is_empty() && text.to_lowercase().contains(&q.to_lowercase())
    }
}

/// How this client is known to the cluster, as the status line shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Account {
    /// Signed in to the id's account, as this device.
    SignedIn { device_id: String },
    /// The id has no account: anyone can use it.
    Unclaimed,
    /// The cluster no longer accepts this client's login (the device was revoked, the
    /// password changed, the id claimed): the worker stopped trying. Starts "signed out".
    SignedOut { reason: String },
}

/// Which password `/passwd` asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordStep {
    Old,
    New,
    /// The new one again, to catch a typing mistake.
    Again,
}

/// `/passwd` under way: the passwords are typed into the input box, masked, one after the
/// other; they are handed to the worker with the request and not kept.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordChange {
    pub step: PasswordStep,
    /// What is being typed (drawn masked).
    pub input: Editor,
    pub keep_devices: bool,
    pub(super) old: String,
    pub(super) new: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange")
            .field("step", &self.step)
            .field("keep_devices", &self.keep_devices)
            .finish_non_exhaustive()
    }
}

/// What fills the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Chat,
    Search(Search),
    Help {
        scroll: u16,
    },
    /// `/passwd` asking for the passwords.
    Password(PasswordChange),
}

/// What the last drawing found, so that scrolling can be clamped and a search can stay
/// where it was drawn. [`crate::ui::draw`] returns it and the run loop hands it back
/// ([`App::drawn`]): drawing reads the state and changes nothing.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// Lines of messages on screen.
    pub page: usize,
    /// The most the open conversation can scroll up.
    pub max_scroll: usize,
    /// How far up it was drawn.
    pub scroll: usize,
    /// The most the help can scroll.
    pub help_max: u16,
}

/// The whole client state.
pub struct App {
    pub me: String,
    pub convs: Vec<Conversation>,
    pub selected: Option<usize>,
    /// The message being typed in the open conversation.
    pub input: Editor,
    pub mode: Mode,
    pub link: Link,
    pub rtt: Option<Duration>,
    pub notice: Option<Notice>,
    /// How the cluster knows us: signed in, unclaimed, or signed out.
    pub account: Account,
    pub quit: bool,
    /// `/logout` went through: the run loop deletes the token file as it quits.
    pub logged_out: bool,
    pub(super) view: View,
    /// What to write to the history, for [`App::take_saves`].
    pub(super) saves: Vec<Record>,
    /// How many of `saves` were queued before the latest notice was set.
    pub(super) saves_before_notice: usize,
    /// The same, for what [`App::take_saves`] returned last.
    pub(super) taken_before_notice: usize,
    /// A history write has failed (and was shown); later ones are only logged.
    pub(super) history_failed: bool,
    /// What to hand the worker, for [`App::take_requests`].
    pub(super) requests: Vec<Request>,
    /// Our messages handed to the worker and not yet answered.
    pub(super) in_flight: HashSet<String>,
}

/// Unix milliseconds now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl App {
    /// A client for `me`, with the conversations read from the history (or none); an
    /// unclaimed id until [`App::account`] says otherwise.
    pub fn new(me: impl Into<String>, convs: Vec<Conversation>) -> App {
        App {
            me: me.into(),
            selected: (!convs.is_empty()).then_some(0),
            convs,
            input: Editor::default(),
            mode: Mode::Chat,
            link: Link::Starting,
            rtt: None,
            notice: None,
            account: Account::Unclaimed,
            quit: false,
            logged_out: false,
            view: View::default(),
            saves: Vec::new(),
            saves_before_notice: 0,
            taken_before_notice: 0,
            history_failed: false,
            requests: Vec::new(),
            in_flight: HashSet::new(),
        }
    }

    /// What the last drawing found.
    pub fn view(&self) -> View {
        self.view
    }

    /// Takes in what the screen was drawn with ([`crate::ui::draw`] returns it).
    pub fn drawn(&mut self, view: View) {
        self.view = view;
    }

    /// The open conversation.
    pub fn current(&self) -> Option<&Conversation> {
        self.selected.map(|i| &self.convs[i])
    }

    /// Whether a msg_server has us logged in (so messages go now, and topics can be made).
    pub fn connected(&self) -> bool {
        matches!(self.link, Link::Connected { .. })
    }

    /// Our messages waiting to be sent (or confirmed).
    pub fn waiting(&self) -> usize {
        self.convs
            .iter()
            .flat_map(|c| &c.messages)
            .filter(|m| m.mark == Mark::Pending)
            .count()
    }
}
