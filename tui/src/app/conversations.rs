//! Which conversation is open: moving between them (each keeps what was typed in it),
//! opening new ones, and scrolling the open one as far as the last drawing allows.

use crate::history::Record;
use crate::model::{ConvId, Conversation};

use super::state::{App, Mode};

impl App {
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
    pub(super) fn open(&mut self, id: ConvId) -> usize {
        if let Some(i) = self.convs.iter().position(|c| c.id == id) {
            return i;
        }
        self.save(Record::Conv { conv: id.clone() });
        self.convs.push(Conversation::new(id));
        self.convs.len() - 1
    }

    /// Where `id`'s conversation is, if there is one.
    pub(super) fn index(&self, id: &ConvId) -> Option<usize> {
        self.convs.iter().position(|c| c.id == *id)
    }

    /// How far PageUp / PageDown scroll: the page drawn, less a line kept in sight.
    pub(super) fn page(&self) -> usize {
        self.view.page.saturating_sub(1).max(1)
    }

    /// Scrolls the open conversation `by` lines up (negative: down).
    pub(super) fn scroll_by(&mut self, by: i64) {
        let max = self.view.max_scroll as i64;
        if let Some(i) = self.selected {
            let c = &mut self.convs[i];
            c.scroll = (c.scroll as i64 + by).clamp(0, max.max(0)) as usize;
            if c.scroll == 0 {
                c.unread = 0;
            }
        }
    }
}
