//! The notice on the status line: a line of news (an error, or something that happened)
//! that goes away on its own.

use std::time::{Duration, Instant};

use super::state::{App, Notice};

const INFO_FOR: Duration = Duration::from_secs(6);
const ERROR_FOR: Duration = Duration::from_secs(15);

impl App {
    /// Shows news for a few seconds.
    pub fn info(&mut self, text: impl Into<String>) {
        self.set_notice(Some(Notice {
            text: text.into(),
            error: false,
            until: Instant::now() + INFO_FOR,
        }));
    }

    /// Shows an error, longer than news (and logs it).
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
    pub(super) fn set_notice(&mut self, notice: Option<Notice>) {
        self.saves_before_notice = self.saves.len();
        self.notice = notice;
    }

    /// Lets the notice go once its time is up.
    pub(super) fn expire_notice(&mut self) {
        if self
            .notice
            .as_ref()
            .is_some_and(|n| n.until <= Instant::now())
        {
            self.set_notice(None);
        }
    }
}
