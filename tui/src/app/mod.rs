//! The client's state and every way it changes, with no terminal and no network: an
//! [`Action`] (from a key, [`crate::keys`]) or an [`Update`](crate::net::Update) (from the
//! network worker, in the words of [`crate::net`]) goes in; the state changes, and
//! [`Request`]s for the worker ([`App::take_requests`]) and
//! [`Record`](crate::history::Record)s for the history ([`App::take_saves`]) come out: the
//! run loop does the I/O. [`crate::ui`] draws the state; tests drive it directly.
//!
//! One file per concern, each adding to `impl App`; all of them build on `state`, which
//! imports none of them:
//! - `state`: [`App`] and the types of its fields;
//! - this file: the actions every mode shares, then on to the mode's own ([`App::update`]);
//! - `modes`: chatting, the search and the help, and which keys apply ([`App::scope`]);
//! - `editing`: editing keys applied to the message or the search text;
//! - `conversations`: which one is open, drafts, scrolling;
//! - `submit`: Enter, a slash command carried out or a message written;
//! - `account`: the account and topic-owner commands, `/passwd`'s masked prompts, and
//!   their answers;
//! - `send_queue`: our messages, handed to the worker while connected, again after a
//!   reconnection, and marked as the answers come;
//! - `network`: what the worker reports ([`App::apply`]);
//! - `persistence`: the history records to write, and a failed write;
//! - `notices`: the status line's news, which expires.

mod account;
mod conversations;
mod editing;
mod modes;
mod network;
mod notices;
mod persistence;
mod send_queue;
mod state;
mod submit;
#[cfg(test)]
pub(crate) mod tests;

pub use send_queue::MAX_MESSAGE;
pub use state::{
    now_ms, Account, App, Link, Mode, Notice, PasswordChange, PasswordStep, Search, View,
};

use crate::action::Action;
use crate::net::Request;

impl App {
    /// The requests for the worker since the last call.
    pub fn take_requests(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.requests)
    }

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
            Action::Tick => self.expire_notice(),
            a => match self.mode {
                Mode::Help { .. } => self.update_help(a),
                Mode::Search(_) => self.update_search(a),
                Mode::Chat => self.update_chat(a),
                Mode::Password(_) => self.update_password(a),
            },
        }
        // What arrived while the help covered the open conversation is read once it shows.
        if let (Some(i), false) = (self.selected, matches!(self.mode, Mode::Help { .. })) {
            if self.convs[i].scroll == 0 {
                self.convs[i].unread = 0;
            }
        }
    }
}
