//! What each [`Mode`] does with an action: chatting (editing, moving between
//! conversations, scrolling), the search (typed like a message, walking the matches), the
//! help (scrolled a page at a time); and which keys apply in each.

use crate::action::{Action, Scope};
use crate::editor::Editor;

use super::editing::edit;
use super::state::{App, Mode, Search};

impl App {
    /// Which keys apply now.
    pub fn scope(&self) -> Scope {
        match self.mode {
            // Typing a password: the chat's editing keys, Enter and Esc.
            Mode::Chat | Mode::Password(_) => Scope::Chat,
            Mode::Search(_) => Scope::Search,
            Mode::Help { .. } => Scope::Help,
        }
    }

    /// Chatting: editing the message, Enter, moving between conversations, scrolling.
    pub(super) fn update_chat(&mut self, a: Action) {
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

    /// Searching: the keys edit the query and walk the matches; others end the search.
    pub(super) fn update_search(&mut self, a: Action) {
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

    /// The help: scrolled as far as it was drawn, closed with Esc.
    pub(super) fn update_help(&mut self, a: Action) {
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

    /// Starts a search of the open conversation for `query`, at the newest match.
    pub(super) fn open_search(&mut self, query: String) {
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

    /// Puts the search at its newest match (or none).
    fn find_from_newest(&mut self) {
        let (Some(i), Mode::Search(s)) = (self.selected, &mut self.mode) else {
            return;
        };
        s.hit = self.convs[i]
            .messages
            .iter()
            .rposition(|m| s.matches(&m.text));
    }

    /// Moves the search to the next older (or newer) match, saying so where there is none.
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
}
