//! The client's state and every way it changes, with no terminal and no network: an
//! [`Action`] (from a key, [`crate::keys`]) or an [`Update`] (from the network worker, in
//! the words of [`crate::net`]) goes in; the state changes, and [`Request`]s for the worker
//! ([`App::take_requests`]) and [`Record`]s for the history ([`App::take_saves`]) come out:
//! the run loop does the I/O. [`crate::ui`] draws the state; tests drive it directly.

use std::collections::HashSet;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::action::{Action, Scope};
use crate::commands::{self, SlashCommand};
use crate::editor::Editor;
use crate::history::Record;
use crate::model::{ConvId, Conversation, Mark, Message};
use crate::net::{Request, Update};

/// The longest message the client sends. Far under the server's frame limit, so one paste
/// cannot get the connection cut.
pub const MAX_MESSAGE: usize = 64 * 1024;

const INFO_FOR: Duration = Duration::from_secs(6);
const ERROR_FOR: Duration = Duration::from_secs(15);

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

/// What fills the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Chat,
    Search(Search),
    Help { scroll: u16 },
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
    pub quit: bool,
    view: View,
    /// What to write to the history, for [`App::take_saves`].
    saves: Vec<Record>,
    /// How many of `saves` were queued before the latest notice was set.
    saves_before_notice: usize,
    /// The same, for what [`App::take_saves`] returned last.
    taken_before_notice: usize,
    history_failed: bool,
    requests: Vec<Request>,
    /// Our messages handed to the worker and not yet answered.
    in_flight: HashSet<String>,
}

/// Unix milliseconds now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl App {
    /// A client for `me`, with the conversations read from the history (or none).
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
            quit: false,
            view: View::default(),
            saves: Vec::new(),
            saves_before_notice: 0,
            taken_before_notice: 0,
            history_failed: false,
            requests: Vec::new(),
            in_flight: HashSet::new(),
        }
    }

    /// The requests for the worker since the last call.
    pub fn take_requests(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.requests)
    }

    /// What the last drawing found.
    pub fn view(&self) -> View {
        self.view
    }

    /// Takes in what the screen was drawn with ([`crate::ui::draw`] returns it).
    pub fn drawn(&mut self, view: View) {
        self.view = view;
    }

    /// Which keys apply now.
    pub fn scope(&self) -> Scope {
        match self.mode {
            Mode::Chat => Scope::Chat,
            Mode::Search(_) => Scope::Search,
            Mode::Help { .. } => Scope::Help,
        }
    }

    pub fn current(&self) -> Option<&Conversation> {
        self.selected.map(|i| &self.convs[i])
    }

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

    pub fn info(&mut self, text: impl Into<String>) {
        self.set_notice(Some(Notice {
            text: text.into(),
            error: false,
            until: Instant::now() + INFO_FOR,
        }));
    }

    pub fn error(&mut self, text: impl Into<String>) {
        let text = text.into();
        tracing::info!(%text, "shown as an error");
        self.set_notice(Some(Notice {
            text,
            error: true,
            until: Instant::now() + ERROR_FOR,
        }));
    }

    /// Every change of the notice goes through here, so that a failed history write is
    /// shown only where nothing newer replaced it ([`App::save_failed`]).
    fn set_notice(&mut self, notice: Option<Notice>) {
        self.saves_before_notice = self.saves.len();
        self.notice = notice;
    }

    // ---- actions -------------------------------------------------------------------

    /// Applies what a key asked for.
    pub fn update(&mut self, a: Action) {
        match a {
            Action::Quit => self.quit = true,
            Action::Help => {
                self.mode = match self.mode {
                    Mode::Help { .. } => Mode::Chat,
                    _ => Mode::Help { scroll: 0 },
                }
            }
            Action::Reconnect => {
                self.requests.push(Request::Reconnect);
                self.info("reconnecting…");
            }
            Action::Tick => {
                if self
                    .notice
                    .as_ref()
                    .is_some_and(|n| n.until <= Instant::now())
                {
                    self.set_notice(None);
                }
            }
            a => match self.mode {
                Mode::Help { .. } => self.update_help(a),
                Mode::Search(_) => self.update_search(a),
                Mode::Chat => self.update_chat(a),
            },
        }
        // What arrived while the help covered the open conversation is read once it shows.
        if let (Some(i), false) = (self.selected, matches!(self.mode, Mode::Help { .. })) {
            if self.convs[i].scroll == 0 {
                self.convs[i].unread = 0;
            }
        }
    }

    fn update_help(&mut self, a: Action) {
        let Mode::Help { scroll } = &mut self.mode else {
            return;
        };
        let view = self.view;
        let page = view.page.max(2) as i32 - 1;
        let by = match a {
            Action::Escape => {
                self.mode = Mode::Chat;
                return;
            }
            Action::Wheel(n) => n,
            Action::PageUp => -page,
            Action::PageDown => page,
            _ => return,
        };
        *scroll = (i32::from(*scroll) + by).clamp(0, i32::from(view.help_max)) as u16;
    }

    fn update_chat(&mut self, a: Action) {
        if edit(&mut self.input, &a) {
            return;
        }
        let n = self.convs.len();
        match a {
            Action::Submit => self.submit(),
            Action::NextConversation if n > 0 => {
                self.select(self.selected.map_or(0, |i| (i + 1) % n))
            }
            Action::PrevConversation if n > 0 => {
                self.select(self.selected.map_or(0, |i| (i + n - 1) % n))
            }
            Action::GoTo(i) if i < n => self.select(i),
            Action::GoTo(i) => self.error(format!(
                "there is no conversation {}; the sidebar has {n}",
                i + 1
            )),
            Action::PageUp => self.scroll_by(self.page() as i64),
            Action::PageDown => self.scroll_by(-(self.page() as i64)),
            Action::Wheel(lines) => self.scroll_by(-i64::from(lines)),
            Action::OpenSearch => self.open_search(String::new()),
            Action::Escape => {
                self.set_notice(None);
                if let Some(i) = self.selected {
                    self.convs[i].scroll = 0;
                    self.convs[i].unread = 0;
                }
            }
            _ => {}
        }
    }

    fn update_search(&mut self, a: Action) {
        let Mode::Search(search) = &mut self.mode else {
            return;
        };
        if matches!(a, Action::Newline | Action::Submit) {
            return;
        }
        if edit(&mut search.query, &a) {
            self.find_from_newest();
            return;
        }
        match a {
            Action::SearchOlder => self.search_step(true),
            Action::SearchNewer => self.search_step(false),
            Action::OpenSearch => {}
            Action::Escape => self.close_search(),
            // Anything else ends the search where it stands, then does what it does.
            other => {
                self.close_search();
                self.update_chat(other);
            }
        }
    }

    fn page(&self) -> usize {
        self.view.page.saturating_sub(1).max(1)
    }

    /// Scrolls the open conversation `by` lines up (negative: down).
    fn scroll_by(&mut self, by: i64) {
        let max = self.view.max_scroll as i64;
        if let Some(i) = self.selected {
            let c = &mut self.convs[i];
            c.scroll = (c.scroll as i64 + by).clamp(0, max.max(0)) as usize;
            if c.scroll == 0 {
                c.unread = 0;
            }
        }
    }

    /// Opens conversation `i`, keeping what was typed in the one it leaves.
    pub fn select(&mut self, i: usize) {
        if self.selected == Some(i) || i >= self.convs.len() {
            return;
        }
        match self.selected {
            Some(old) => {
                self.convs[old].draft = std::mem::take(&mut self.input);
                self.input = std::mem::take(&mut self.convs[i].draft);
            }
            // Nothing was open: what is being typed stays (it may be a command).
            None if self.input.is_empty() => {
                self.input = std::mem::take(&mut self.convs[i].draft);
            }
            None => {}
        }
        self.selected = Some(i);
        let c = &mut self.convs[i];
        if c.scroll == 0 {
            c.unread = 0;
        }
        if matches!(self.mode, Mode::Search(_)) {
            self.mode = Mode::Chat;
        }
    }

    /// The index of `id`'s conversation, opened (and kept) where it is new.
    fn open(&mut self, id: ConvId) -> usize {
        if let Some(i) = self.convs.iter().position(|c| c.id == id) {
            return i;
        }
        self.save(Record::Conv { conv: id.clone() });
        self.convs.push(Conversation::new(id));
        self.convs.len() - 1
    }

    fn submit(&mut self) {
        let text = self.input.text().to_string();
        if text.trim().is_empty() {
            return;
        }
        if commands::is_command(&text) {
            match commands::parse(&text) {
                Ok(cmd) => self.run(cmd),
                Err(e) => self.error(e.to_string()),
            }
            return;
        }
        // `//text` sends `/text`.
        let body = if text.starts_with("//") {
            &text[1..]
        } else {
            &text[..]
        };
        let Some(i) = self.selected else {
            self.error(
                "no conversation is open: /msg ID TEXT writes to someone, /join TOPIC joins a topic",
            );
            return;
        };
        let body = body.to_string();
        if self.send(i, &body) {
            self.input.take();
        }
    }

    fn run(&mut self, cmd: SlashCommand) {
        match cmd {
            SlashCommand::Msg { to, text } => {
                self.input.take();
                let i = self.open(ConvId::Person(to));
                self.select(i);
                if let Some(text) = text {
                    if !self.send(i, &text) {
                        self.input = Editor::with_text(text);
                    }
                }
            }
            // Topics need the server's answer: refused while down, the command kept typed.
            SlashCommand::Create { .. } | SlashCommand::Join { .. } if !self.connected() => {
                self.error(
                    "not connected: try again once the status line says connected \
                     (Ctrl+R reconnects now)",
                );
            }
            SlashCommand::Create { topic } => {
                self.input.take();
                self.info(format!("creating #{topic}…"));
                self.requests.push(Request::Create { topic });
            }
            SlashCommand::Join { topic } => {
                self.input.take();
                self.info(format!("joining #{topic}…"));
                self.requests.push(Request::Join { topic });
            }
            SlashCommand::Search { query } => {
                if self.selected.is_some() {
                    self.input.take();
                }
                self.open_search(query);
            }
            SlashCommand::Help => {
                self.input.take();
                self.mode = Mode::Help { scroll: 0 };
            }
            SlashCommand::Quit => self.quit = true,
        }
    }

    /// Writes `text` to conversation `i`: shown at once, kept, and sent when connected.
    /// False (with a notice) where it cannot be sent at all.
    fn send(&mut self, i: usize, text: &str) -> bool {
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

    fn open_search(&mut self, query: String) {
        if self.selected.is_none() {
            self.error("open a conversation first; search looks in the open one");
            return;
        }
        self.mode = Mode::Search(Search {
            query: Editor::with_text(query),
            hit: None,
        });
        self.find_from_newest();
    }

    fn find_from_newest(&mut self) {
        let (Some(i), Mode::Search(s)) = (self.selected, &mut self.mode) else {
            return;
        };
        s.hit = self.convs[i]
            .messages
            .iter()
            .rposition(|m| s.matches(&m.text));
    }

    fn search_step(&mut self, older: bool) {
        let (Some(i), Mode::Search(s)) = (self.selected, &mut self.mode) else {
            return;
        };
        let msgs = &self.convs[i].messages;
        let found = match (s.hit, older) {
            (None, _) => msgs.iter().rposition(|m| s.matches(&m.text)),
            (Some(h), true) => msgs[..h].iter().rposition(|m| s.matches(&m.text)),
            (Some(h), false) => msgs[h + 1..]
                .iter()
                .position(|m| s.matches(&m.text))
                .map(|j| h + 1 + j),
        };
        match found {
            Some(f) => s.hit = Some(f),
            None if s.hit.is_some() => {
                let which = if older { "older" } else { "newer" };
                self.info(format!("no {which} match"));
            }
            None => {}
        }
    }

    /// Leaves the search with the conversation scrolled to where it was drawn.
    fn close_search(&mut self) {
        self.mode = Mode::Chat;
        let drawn = self.view.scroll;
        if let Some(i) = self.selected {
            self.convs[i].scroll = drawn;
        }
    }

    // ---- the network ---------------------------------------------------------------

    /// Applies what the network reported.
    pub fn apply(&mut self, u: Update) {
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
            Update::P2p {
                from,
                text,
                uuid,
                sent_at_ms,
                offline,
            } => {
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
            Update::Topic {
                topic,
                from,
                text,
                uuid,
                sent_at_ms,
            } => {
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
            Update::Created { topic } => {
                let i = self.open(ConvId::Topic(topic.clone()));
                self.select(i);
                self.info(format!(
                    "created #{topic}; others join it with /join {topic}"
                ));
            }
            Update::Joined { topic } => {
                let i = self.open(ConvId::Topic(topic.clone()));
                self.select(i);
                self.info(format!("joined #{topic}"));
            }
            Update::Refused { what, error } => self.error(format!("{what}: {error}")),
            Update::Error { text } => self.error(text),
            Update::Rtt(d) => self.rtt = Some(d),
        }
    }

    fn index(&self, id: &ConvId) -> Option<usize> {
        self.convs.iter().position(|c| c.id == *id)
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

    fn set_mark(&mut self, i: usize, uuid: &str, mark: Mark) {
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

    fn mark_any(&mut self, uuid: &str, mark: Mark) {
        if let Some(i) = self.convs.iter().position(|c| c.has(uuid)) {
            self.set_mark(i, uuid, mark);
        }
    }

    /// Sends every message of ours still waiting; returns how many.
    fn flush(&mut self) -> usize {
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

    /// Queues `r` for the history.
    fn save(&mut self, r: Record) {
        self.saves.push(r);
    }

    /// What to write to the history since the last call, in order. The caller writes it
    /// ([`crate::history::History::write`]) before it hands over [`App::take_requests`]:
    /// a message is kept before the server is told it may let it go.
    pub fn take_saves(&mut self) -> Vec<Record> {
        self.taken_before_notice = std::mem::replace(&mut self.saves_before_notice, 0);
        std::mem::take(&mut self.saves)
    }

    /// The record at `at` in what [`App::take_saves`] returned last could not be written
    /// to the history file at `path`. The first failure is shown, later ones are not (the
    /// caller logs them). Notices keep the order things happened in: one set after that
    /// record was queued is the newer news, and stays.
    pub fn save_failed(&mut self, at: usize, path: &Path, e: &io::Error) {
        if self.history_failed {
            return;
        }
        self.history_failed = true;
        if at >= self.taken_before_notice {
            self.error(format!(
                "cannot save the history to {}: {e}; messages are shown but not kept",
                path.display()
            ));
        }
    }
}

/// Applies an editing action to `e`; false when `a` is not one.
fn edit(e: &mut Editor, a: &Action) -> bool {
    match a {
        Action::Insert(c) => e.insert(*c),
        Action::Paste(s) => e.insert_str(s),
        Action::Newline => e.insert('\n'),
        Action::Backspace => e.backspace(),
        Action::Delete => e.delete(),
        Action::Left => e.left(),
        Action::Right => e.right(),
        Action::WordLeft => e.word_left(),
        Action::WordRight => e.word_right(),
        Action::LineStart => e.line_start(),
        Action::LineEnd => e.line_end(),
        Action::Up => {
            e.up();
        }
        Action::Down => {
            e.down();
        }
        Action::DeleteWord => e.delete_word_before(),
        Action::ClearInput => {
            e.take();
        }
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(app: &mut App, s: &str) {
        for c in s.chars() {
            app.update(if c == '\n' {
                Action::Newline
            } else {
                Action::Insert(c)
            });
        }
    }

    fn enter(app: &mut App, s: &str) {
        typed(app, s);
        app.update(Action::Submit);
    }

    fn connected() -> App {
        let mut app = App::new("alice", Vec::new());
        app.apply(Update::Connected {
            server: "127.0.0.1:19000".into(),
        });
        app
    }

    fn p2p(from: &str, text: &str, uuid: &str) -> Update {
        Update::P2p {
            from: from.into(),
            text: text.into(),
            uuid: uuid.into(),
            sent_at_ms: Some(1_700_000_000_000),
            offline: false,
        }
    }

    #[test]
    fn msg_opens_the_conversation_and_sends_with_a_tracked_uuid() {
        let mut app = connected();
        enter(&mut app, "/msg bob hello\nthere");
        assert!(app.input.is_empty());
        let c = app.current().unwrap();
        assert_eq!(c.id, ConvId::Person("bob".into()));
        let m = &c.messages[0];
        assert_eq!((m.text.as_str(), &m.mark), ("hello\nthere", &Mark::Pending));
        let uuid = m.uuid.clone();
        assert_eq!(
            app.take_requests(),
            [Request::SendP2p {
                to: "bob".into(),
                text: "hello\nthere".into(),
                uuid: uuid.clone()
            }]
        );

        app.apply(Update::Sent { uuid: uuid.clone() });
        assert_eq!(app.current().unwrap().messages[0].mark, Mark::Sent);
        app.apply(Update::Delivered {
            uuid: uuid.clone(),
            to: "bob".into(),
        });
        assert_eq!(app.current().unwrap().messages[0].mark, Mark::Delivered);
        // A late "sent" does not take "delivered" back.
        app.apply(Update::Sent { uuid });
        assert_eq!(app.current().unwrap().messages[0].mark, Mark::Delivered);

        // Plain text goes to the open conversation.
        enter(&mut app, "second");
        assert!(matches!(
            &app.take_requests()[..],
            [Request::SendP2p { to, text, .. }] if to == "bob" && text == "second"
        ));
    }

    #[test]
    fn incoming_messages_are_acked_counted_and_deduplicated() {
        let mut app = connected();
        enter(&mut app, "/msg bob hi");
        app.take_requests();
        app.apply(p2p("carol", "psst", "u1"));
        app.apply(p2p("carol", "psst", "u1"));
        app.apply(Update::P2p {
            from: "carol".into(),
            text: "while you were away".into(),
            uuid: "u2".into(),
            sent_at_ms: Some(1_700_000_000_000),
            offline: true,
        });
        // Both copies are acked; the message is shown once.
        assert_eq!(
            app.take_requests(),
            [
                Request::Ack { uuid: "u1".into() },
                Request::Ack { uuid: "u1".into() },
                Request::Ack { uuid: "u2".into() }
            ]
        );
        let carol = &app.convs[1];
        assert_eq!(carol.messages.len(), 2);
        assert!(carol.messages[1].offline);
        assert_eq!(carol.unread, 2);
        // Reading it clears the count.
        app.update(Action::NextConversation);
        assert_eq!(app.current().unwrap().id, ConvId::Person("carol".into()));
        assert_eq!(app.convs[1].unread, 0);
        // A message for the open conversation is not unread.
        app.apply(p2p("carol", "more", "u3"));
        assert_eq!(app.convs[1].unread, 0);
    }

    #[test]
    fn the_first_message_opens_its_conversation() {
        let mut app = connected();
        assert!(app.current().is_none());
        app.apply(p2p("bob", "hi", "u1"));
        assert_eq!(app.selected, Some(0));
        assert_eq!(app.convs[0].unread, 0);
    }

    #[test]
    fn topic_echoes_confirm_our_message_instead_of_repeating_it() {
        let mut app = connected();
        enter(&mut app, "/create rust");
        assert_eq!(
            app.take_requests(),
            [Request::Create {
                topic: "rust".into()
            }]
        );
        app.apply(Update::Created {
            topic: "rust".into(),
        });
        assert_eq!(app.current().unwrap().id, ConvId::Topic("rust".into()));
        enter(&mut app, "hello topic");
        let uuid = match &app.take_requests()[..] {
            [Request::SendTopic { topic, uuid, .. }] if topic == "rust" => uuid.clone(),
            other => panic!("{other:?}"),
        };
        app.apply(Update::Topic {
            topic: "rust".into(),
            from: "alice".into(),
            text: "hello topic".into(),
            uuid: Some(uuid.clone()),
            sent_at_ms: None,
        });
        let c = app.current().unwrap();
        assert_eq!(c.messages.len(), 1);
        assert_eq!(c.messages[0].mark, Mark::Sent);
        app.apply(Update::Topic {
            topic: "rust".into(),
            from: "bob".into(),
            text: "welcome".into(),
            uuid: Some("t2".into()),
            sent_at_ms: None,
        });
        assert_eq!(app.current().unwrap().messages.len(), 2);
        assert_eq!(app.current().unwrap().messages[1].mark, Mark::Incoming);
    }

    #[test]
    fn while_disconnected_messages_wait_and_go_once_connected() {
        let mut app = connected();
        enter(&mut app, "/msg bob one");
        let first = app.take_requests();
        assert_eq!(first.len(), 1);
        // The connection drops before the server confirmed it.
        app.apply(Update::Disconnected {
            reason: "closed by the server".into(),
            retry_in: Duration::from_secs(2),
        });
        let Request::SendP2p { uuid: u1, .. } = &first[0] else {
            panic!()
        };
        app.apply(Update::NotSent { uuid: u1.clone() });
        enter(&mut app, "two");
        assert!(app.take_requests().is_empty(), "nothing is sent while down");
        assert_eq!(app.waiting(), 2);
        // Topics need the server: refused, and the command stays typed.
        enter(&mut app, "/join rust");
        assert!(app.take_requests().is_empty());
        assert_eq!(app.input.text(), "/join rust");
        assert!(app.notice.as_ref().unwrap().error);
        app.update(Action::ClearInput);

        app.apply(Update::Connected {
            server: "127.0.0.1:19001".into(),
        });
        let again = app.take_requests();
        let texts: Vec<_> = again
            .iter()
            .map(|r| match r {
                Request::SendP2p { text, uuid, .. } => (text.as_str(), uuid.clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(texts.len(), 2);
        assert_eq!(texts[0], ("one", u1.clone()), "same uuid: no duplicate");
        assert_eq!(texts[1].0, "two");
        assert!(app.notice.as_ref().unwrap().text.contains("2 waiting"));
        // In flight: a second connection does not send them twice.
        app.apply(Update::Connected {
            server: "127.0.0.1:19001".into(),
        });
        assert!(app.take_requests().is_empty());
    }

    #[test]
    fn drafts_stay_with_their_conversation() {
        let mut app = connected();
        enter(&mut app, "/msg bob");
        enter(&mut app, "/msg carol");
        typed(&mut app, "for carol");
        app.update(Action::GoTo(0));
        assert!(app.input.is_empty());
        typed(&mut app, "for bob");
        app.update(Action::Tick);
        app.update(Action::NextConversation);
        assert_eq!(app.input.text(), "for carol");
        app.update(Action::PrevConversation);
        assert_eq!(app.input.text(), "for bob");
        app.update(Action::GoTo(5));
        assert!(app
            .notice
            .as_ref()
            .unwrap()
            .text
            .contains("no conversation 6"));
    }

    #[test]
    fn bad_commands_keep_the_input_and_say_why() {
        let mut app = connected();
        enter(&mut app, "/frobnicate");
        assert_eq!(app.input.text(), "/frobnicate");
        let n = app.notice.clone().unwrap();
        assert!(n.error && n.text.contains("/help"), "{n:?}");
        app.update(Action::ClearInput);
        enter(&mut app, "no one to send to");
        assert!(app.notice.as_ref().unwrap().text.contains("/msg ID TEXT"));
        assert_eq!(app.input.text(), "no one to send to");
        app.update(Action::ClearInput);
        enter(&mut app, "/msg bob");
        enter(&mut app, "//not a command");
        assert_eq!(app.current().unwrap().messages[0].text, "/not a command");
        typed(&mut app, &"x".repeat(MAX_MESSAGE + 1));
        app.update(Action::Submit);
        assert!(app.notice.as_ref().unwrap().text.contains("KiB"));
        assert_eq!(app.input.text().len(), MAX_MESSAGE + 1);
    }

    #[test]
    fn errors_from_the_server_mark_the_message_and_show() {
        let mut app = connected();
        enter(&mut app, "/msg bob x");
        let uuid = app.current().unwrap().messages[0].uuid.clone();
        app.apply(Update::SendFailed {
            uuid,
            error: "not allowed (FORBIDDEN)".into(),
        });
        assert!(matches!(
            app.current().unwrap().messages[0].mark,
            Mark::Failed(_)
        ));
        assert!(app.notice.as_ref().unwrap().text.contains("FORBIDDEN"));
        app.apply(Update::Refused {
            what: "/join x".into(),
            error: "no such topic".into(),
        });
        assert_eq!(app.notice.as_ref().unwrap().text, "/join x: no such topic");
        app.update(Action::Escape);
        assert!(app.notice.is_none());
    }

    #[test]
    fn search_walks_matches_and_stays_where_it_was() {
        let mut app = connected();
        for (i, t) in ["Rust is fun", "tea?", "more rust", "bye"]
            .iter()
            .enumerate()
        {
            app.apply(p2p("bob", t, &format!("u{i}")));
        }
        enter(&mut app, "/search RUST");
        let hit = |app: &App| match &app.mode {
            Mode::Search(s) => s.hit,
            m => panic!("{m:?}"),
        };
        assert_eq!(hit(&app), Some(2));
        app.update(Action::SearchOlder);
        assert_eq!(hit(&app), Some(0));
        app.update(Action::SearchOlder);
        assert_eq!(hit(&app), Some(0));
        assert!(app.notice.as_ref().unwrap().text.contains("no older match"));
        app.update(Action::SearchNewer);
        assert_eq!(hit(&app), Some(2));
        // Typing changes the query and searches again from the newest.
        app.update(Action::ClearInput);
        typed(&mut app, "tea");
        assert_eq!(hit(&app), Some(1));
        app.drawn(View {
            scroll: 4,
            max_scroll: 9,
            ..View::default()
        });
        app.update(Action::Escape);
        assert_eq!(app.mode, Mode::Chat);
        assert_eq!(app.current().unwrap().scroll, 4);
        app.update(Action::Escape);
        assert_eq!(app.current().unwrap().scroll, 0);
    }

    #[test]
    fn scrolling_is_clamped_and_reaching_the_bottom_reads_everything() {
        let mut app = connected();
        app.apply(p2p("bob", "hi", "u1"));
        app.drawn(View {
            page: 10,
            max_scroll: 15,
            ..View::default()
        });
        app.update(Action::PageUp);
        assert_eq!(app.current().unwrap().scroll, 9);
        app.update(Action::PageUp);
        assert_eq!(app.current().unwrap().scroll, 15);
        app.apply(p2p("bob", "new", "u2"));
        assert_eq!(app.convs[0].unread, 1, "scrolled up: not seen yet");
        app.update(Action::Wheel(3));
        assert_eq!(app.current().unwrap().scroll, 12);
        app.update(Action::PageDown);
        app.update(Action::PageDown);
        assert_eq!(app.current().unwrap().scroll, 0);
        assert_eq!(app.convs[0].unread, 0);
    }

    #[test]
    fn help_opens_scrolls_and_closes() {
        let mut app = connected();
        enter(&mut app, "/msg bob");
        app.update(Action::Help);
        assert_eq!(app.scope(), Scope::Help);
        app.drawn(View {
            help_max: 5,
            page: 4,
            ..View::default()
        });
        app.update(Action::PageDown);
        app.update(Action::PageDown);
        assert_eq!(app.mode, Mode::Help { scroll: 5 });
        // A message that arrives under the help is unread until the help closes.
        app.apply(p2p("bob", "while you read", "h1"));
        assert_eq!(app.convs[0].unread, 1);
        app.update(Action::Escape);
        assert_eq!(app.mode, Mode::Chat);
        assert_eq!(app.convs[0].unread, 0);
        enter(&mut app, "/help");
        assert_eq!(app.scope(), Scope::Help);
        app.update(Action::Quit);
        assert!(app.quit);
    }

    #[test]
    fn what_happens_comes_out_as_history_records() {
        let mut app = connected();
        assert!(app.take_saves().is_empty());
        enter(&mut app, "/msg bob hello");
        let bob = ConvId::Person("bob".into());
        let hello = app.current().unwrap().messages[0].clone();
        assert_eq!(hello.mark, Mark::Pending);
        assert_eq!(
            app.take_saves(),
            [
                Record::Conv { conv: bob.clone() },
                Record::Msg {
                    conv: bob.clone(),
                    msg: hello.clone()
                }
            ]
        );
        app.apply(Update::Delivered {
            uuid: hello.uuid.clone(),
            to: "bob".into(),
        });
        assert_eq!(
            app.take_saves(),
            [Record::Mark {
                conv: bob.clone(),
                uuid: hello.uuid.clone(),
                mark: Mark::Delivered
            }]
        );
        // A late "sent" changes nothing, so nothing is written.
        app.apply(Update::Sent {
            uuid: hello.uuid.clone(),
        });
        assert!(app.take_saves().is_empty());
        app.apply(p2p("bob", "hi back", "b1"));
        let back = app.convs[0].messages[1].clone();
        assert_eq!(back.text, "hi back");
        let saved = app.take_saves();
        assert_eq!(
            saved,
            [Record::Msg {
                conv: bob.clone(),
                msg: back
            }]
        );
        // A second copy is not kept twice.
        app.apply(p2p("bob", "hi back", "b1"));
        assert!(app.take_saves().is_empty());
        app.apply(Update::Joined {
            topic: "rust".into(),
        });
        assert_eq!(
            app.take_saves(),
            [Record::Conv {
                conv: ConvId::Topic("rust".into())
            }]
        );
    }

    #[test]
    fn a_message_written_offline_is_kept_as_pending() {
        let mut app = App::new("alice", Vec::new());
        enter(&mut app, "/msg bob written offline");
        assert!(app.take_requests().is_empty());
        assert!(matches!(
            &app.take_saves()[..],
            [Record::Conv { .. }, Record::Msg { msg, .. }]
                if msg.text == "written offline" && msg.mark == Mark::Pending
        ));
    }

    #[test]
    fn the_first_failed_history_write_is_shown_unless_newer_news_covers_it() {
        let path = Path::new("/data/chat/alice/history.jsonl");
        let full = io::Error::other("no space left");
        let mut app = connected();
        enter(&mut app, "/msg bob hello");
        assert_eq!(app.take_saves().len(), 2);
        app.save_failed(1, path, &full);
        let n = app.notice.clone().unwrap();
        assert!(n.error, "{n:?}");
        assert!(
            n.text.contains("/data/chat/alice/history.jsonl") && n.text.contains("no space left"),
            "{n:?}"
        );
        // Only the first failure is shown.
        app.update(Action::Escape);
        enter(&mut app, "again");
        app.take_saves();
        app.save_failed(0, path, &full);
        assert!(app.notice.is_none());

        // A notice set after the record that failed is newer: it stays.
        let mut app = connected();
        app.apply(Update::Joined {
            topic: "rust".into(),
        });
        assert_eq!(app.take_saves().len(), 1);
        app.save_failed(0, path, &full);
        assert_eq!(app.notice.as_ref().unwrap().text, "joined #rust");
    }
}
