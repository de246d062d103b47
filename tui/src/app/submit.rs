//! Enter: a slash command carried out ([`crate::commands`] parses it), or the text written
//! to the open conversation.

use crate::commands::{self, SlashCommand};
use crate::editor::Editor;
use crate::model::ConvId;
use crate::net::Request;

use super::state::{App, Mode};

impl App {
    pub(super) fn submit(&mut self) {
        let text = self.input.text().to_string();
        if text.trim().is_empty() {
            return;
        }
        if commands::is_command(&text) {
            match commands::parse(&text) {
                Ok(cmd) => self.run_command(cmd),
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

    /// Carries out a slash command.
    fn run_command(&mut self, cmd: SlashCommand) {
        if matches!(self.account, super::Account::SignedOut { .. })
            && matches!(cmd, SlashCommand::Create { .. } | SlashCommand::Join { .. })
        {
            self.error("signed out: restart fishchat chat to sign in again");
            return;
        }
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
            SlashCommand::Create { topic, invite_only } => {
                self.input.take();
                self.info(format!("creating #{topic}…"));
                self.requests.push(Request::Create { topic, invite_only });
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
            other => {
                let handled = self.account_command(other);
                debug_assert!(handled, "every command is carried out somewhere");
            }
        }
    }
}
