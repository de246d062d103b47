//! What the history is to keep: [`Record`]s queued as things happen and handed to the run
//! loop, which writes them ([`crate::history::History::write`]); and what a failed write
//! shows.

use std::io;
use std::path::Path;

use crate::history::Record;

use super::state::App;

impl App {
    /// Queues `r` for the history.
    pub(super) fn save(&mut self, r: Record) {
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
