//! The account and the topics we own: `/devices`, `/revoke`, `/passwd` (its passwords typed
//! into the input box, masked, one after the other), `/logout`, and in the open topic
//! `/invite`, `/kick`, `/members`, `/leave`; then what the worker answers to them. A list
//! (devices, members) comes as a note in the conversation ([`Mark::Note`]), a single result
//! as a notice, like the other commands'.

use chrono::{Local, TimeZone};
use fishchat_cluster::protocol::account::{DeviceList, TopicMembers};

use crate::action::Action;
use crate::commands::SlashCommand;
use crate::model::{ConvId, Mark, Message};
use crate::net::{Request, Update};

use super::editing::edit;
use super::state::{now_ms, Account, App, Mode, PasswordChange, PasswordStep};

use fishchat_cluster::protocol::command::MIN_PASSWORD_CHARS;

impl App {
    /// Carries out an account or topic command; false where `cmd` is not one.
    pub(super) fn account_command(&mut self, cmd: SlashCommand) -> bool {
        let account_only = matches!(
            cmd,
            SlashCommand::Devices
                | SlashCommand::Revoke { .. }
                | SlashCommand::Passwd { .. }
                | SlashCommand::Logout
        );
        let in_topic = matches!(
            cmd,
            SlashCommand::Invite { .. }
                | SlashCommand::Kick { .. }
                | SlashCommand::Members
                | SlashCommand::Leave
        );
        if !account_only && !in_topic {
            return false;
        }
        if account_only {
            match &self.account {
                Account::SignedIn { .. } => {}
                Account::Unclaimed => {
                    self.error(format!(
                        "{} has no account, so no devices or password: restart fishchat chat and \
                         choose a password to claim it",
                        self.me
                    ));
                    return true;
                }
                Account::SignedOut { reason } => {
                    self.error(format!("{reason}: restart fishchat chat to sign in again"));
                    return true;
                }
            }
        }
        let topic = match self.current().map(|c| &c.id) {
            Some(ConvId::Topic(t)) => Some(t.clone()),
            _ => None,
        };
        if in_topic && topic.is_none() {
            self.error(
                "open a topic first: /invite, /kick, /members and /leave work in the open topic \
                 (Tab or Alt+N moves between conversations)",
            );
            return true;
        }
        if !self.connected() {
            self.error(
                "not connected: try again once the status line says connected (Ctrl+R reconnects now)",
            );
            return true;
        }
        let topic = topic.unwrap_or_default();
        self.input.take();
        let request = match cmd {
            SlashCommand::Invite { id } => Request::Invite { topic, id },
            SlashCommand::Kick { id } => Request::Kick { topic, id },
            SlashCommand::Members => Request::Members { topic },
            SlashCommand::Leave => Request::Leave { topic },
            SlashCommand::Devices => Request::Devices,
            SlashCommand::Revoke { device_id } => {
                if matches!(&self.account, Account::SignedIn { device_id: d } if *d == device_id) {
                    self.error("that is this device: /logout signs it out (and quits)");
                    return true;
                }
                Request::Revoke { device_id }
            }
            SlashCommand::Logout => {
                self.info("signing this device out…");
                Request::Logout
            }
            SlashCommand::Passwd { keep_devices } => {
                self.mode = Mode::Password(PasswordChange {
                    step: PasswordStep::Old,
                    input: Default::default(),
                    keep_devices,
                    old: String::new(),
                    new: String::new(),
                });
                self.info("changing your password: type the current one, then Enter (Esc cancels)");
                return true;
            }
            // Not an account or topic command: the caller handles it.
            _ => return false,
        };
        self.requests.push(request);
        true
    }

    /// `/passwd` under way: the keys edit the password being typed; Enter goes to the next
    /// step, Esc gives up (and forgets what was typed).
    pub(super) fn update_password(&mut self, a: Action) {
        let Mode::Password(pc) = &mut self.mode else {
            return;
        };
        if matches!(a, Action::Newline) {
            return;
        }
        if edit(&mut pc.input, &a) {
            return;
        }
        match a {
            Action::Escape => {
                self.mode = Mode::Chat;
                self.info("password unchanged");
            }
            Action::Submit => self.password_step(),
            _ => {}
        }
    }

    fn password_step(&mut self) {
        let Mode::Password(pc) = &mut self.mode else {
            return;
        };
        let typed = pc.input.take();
        match pc.step {
            PasswordStep::Old if typed.is_empty() => {
                self.error("type your current password, then Enter (Esc cancels)");
            }
            PasswordStep::Old => {
                pc.old = typed;
                pc.step = PasswordStep::New;
                self.info(format!(
                    "now the new password (at least {MIN_PASSWORD_CHARS} characters), then Enter"
                ));
            }
            PasswordStep::New if typed.chars().count() < MIN_PASSWORD_CHARS => {
                self.error(format!(
                    "the new password needs at least {MIN_PASSWORD_CHARS} characters; type another"
                ));
            }
            PasswordStep::New => {
                pc.new = typed;
                pc.step = PasswordStep::Again;
                self.info("the new password again, to be sure, then Enter");
            }
            PasswordStep::Again if typed != pc.new => {
                pc.new.clear();
                pc.step = PasswordStep::New;
                self.error("the two new passwords differ: type the new one again");
            }
            PasswordStep::Again => {
                let Mode::Password(pc) = std::mem::replace(&mut self.mode, Mode::Chat) else {
                    return;
                };
                if !self.connected() {
                    self.error("not connected: the password is unchanged; try /passwd again once connected");
                    return;
                }
                self.info("changing the password…");
                self.requests.push(Request::Passwd {
                    old: pc.old.into(),
                    new: pc.new.into(),
                    keep_devices: pc.keep_devices,
                });
            }
        }
    }

    /// Applies an answer to an account or topic command; gives back any other update.
    pub(super) fn apply_account(&mut self, u: Update) -> Option<Update> {
        match u {
            Update::Invited { topic, id } => self.info(format!(
                "{id} may join #{topic} now (they type /join {topic})"
            )),
            Update::Kicked { topic, id } => self.info(format!("{id} is out of #{topic}")),
            Update::Left { topic } => self.info(format!(
                "you left #{topic}; its history stays here (/join {topic} to come back, where you may)"
            )),
            Update::Members(m) => {
                let i = self.open(ConvId::Topic(m.topic.clone()));
                self.select(i);
                self.note(i, members_text(&m));
                self.info(format!(
                    "#{}: {} members, {} invited",
                    m.topic,
                    m.members.len(),
                    m.invited.len()
                ));
            }
            Update::Devices(list) => {
                let n = list.devices.len();
                let devices = if n == 1 { "device" } else { "devices" };
                let summary = format!("{n} {devices} signed in to {}", self.me);
                match self.selected {
                    Some(i) => {
                        self.note(i, devices_text(&list));
                        self.info(summary);
                    }
                    // Nowhere to list them: the ids on the status line.
                    None => {
                        let ids: Vec<String> = list
                            .devices
                            .iter()
                            .map(|d| {
                                let this = if d.current { " (this one)" } else { "" };
                                format!("{}{this}", d.device_id)
                            })
                            .collect();
                        self.info(format!("{summary}: {}", ids.join(", ")));
                    }
                }
            }
            Update::Revoked { device_id } => {
                self.info(format!("device {device_id} is signed out for good"))
            }
            Update::PasswordChanged { kept_devices: true } => {
                self.info("password changed; your other devices stay signed in")
            }
            Update::PasswordChanged {
                kept_devices: false,
            } => self.info("password changed; your other devices are signed out"),
            Update::SignedIn { device_id } => {
                self.account = Account::SignedIn { device_id };
            }
            Update::LoggedOut => {
                self.logged_out = true;
                self.quit = true;
            }
            Update::SignedOut { reason } => {
                self.error(format!("{reason}: restart fishchat chat to sign in again"));
                self.account = Account::SignedOut { reason };
            }
            other => return Some(other),
        }
        None
    }

    /// Shows `text` in conversation `i` as a note: not a message, never sent nor kept.
    pub(super) fn note(&mut self, i: usize, text: String) {
        let c = &mut self.convs[i];
        c.push(Message {
            uuid: uuid::Uuid::new_v4().to_string(),
            from: "*".into(),
            text,
            at_ms: now_ms(),
            mark: Mark::Note,
            offline: false,
        });
        c.scroll = 0;
    }
}

/// Unix milliseconds as local date and time, for a note.
fn when(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| Local.timestamp_millis_opt(ms).single())
        .map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

/// `/devices` as a note: one line a device, this one marked.
fn devices_text(list: &DeviceList) -> String {
    let mut out = format!(
        "your devices ({}; * this one; /revoke DEVICE_ID signs one out):",
        list.devices.len()
    );
    for d in &list.devices {
        let this = if d.current { "*" } else { " " };
        out.push_str(&format!(
            "\n{this} {}  {}  last used {}",
            d.device_id,
            d.name,
            when(d.last_used_ms)
        ));
    }
    out
}

/// `/members` as a note.
fn members_text(m: &TopicMembers) -> String {
    let list = |ids: &[String]| {
        if ids.is_empty() {
            "none".to_string()
        } else {
            ids.join(", ")
        }
    };
    let kind = if m.invite_only {
        "invite-only"
    } else {
        "open to all"
    };
    format!(
        "#{}: owner {} · {kind}\nmembers ({}): {}\ninvited ({}): {}",
        m.topic,
        m.owner,
        m.members.len(),
        list(&m.members),
        m.invited.len(),
        list(&m.invited)
    )
}
