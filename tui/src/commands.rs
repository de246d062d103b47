//! Slash commands: messages and topics (`/msg ID TEXT`, `/create TOPIC [invite]`,
//! `/join TOPIC`, and in the open topic `/invite ID`, `/kick ID`, `/members`, `/leave`), the
//! account (`/devices`, `/revoke DEVICE_ID`, `/passwd`, `/logout`), `/search TEXT`, `/help`,
//! `/quit`. Parsing only; [`crate::app`] carries them out.
//!
//! [`COMMANDS`] is the one list of commands: the parser's error for an unknown command and
//! the help screen ([`crate::ui::help`]) both read it, so they cannot drift apart.

use fishchat_cluster::protocol::command::MAX_NAME_LEN;

/// A command typed in the input box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlashCommand {
    /// Open the conversation with `to`, and send `text` there when there is some.
    Msg {
        to: String,
        text: Option<String>,
    },
    /// A topic; `invite_only`: only those its creator invites may join.
    Create {
        topic: String,
        invite_only: bool,
    },
    Join {
        topic: String,
    },
    /// Let `id` join the open topic.
    Invite {
        id: String,
    },
    /// Take `id` out of the open topic.
    Kick {
        id: String,
    },
    /// Leave the open topic.
    Leave,
    /// Who is in the open topic.
    Members,
    /// This account's devices.
    Devices,
    Revoke {
        device_id: String,
    },
    /// Change the password (asked for inside the client, masked); the other devices are
    /// signed out unless `keep_devices`.
    Passwd {
        keep_devices: bool,
    },
    /// Sign this device out for good, forget its token, and quit.
    Logout,
    /// Search the open conversation.
    Search {
        query: String,
    },
    Help,
    Quit,
}

/// One command as the help screen lists it.
pub struct CommandHelp {
    /// The names it answers to, the first being the one shown.
    pub names: &'static [&'static str],
    pub usage: &'static str,
    pub help: &'static str,
}

/// Every command.
pub const COMMANDS: &[CommandHelp] = &[
    CommandHelp {
        names: &["msg", "m"],
        usage: "/msg ID [TEXT]",
        help: "open the conversation with ID, sending TEXT if given",
    },
    CommandHelp {
        names: &["create"],
        usage: "/create TOPIC [invite]",
        help: "create a topic (a group) and join it; with invite, only those you /invite may join",
    },
    CommandHelp {
        names: &["join", "j"],
        usage: "/join TOPIC",
        help: "join a topic someone created",
    },
    CommandHelp {
        names: &["invite"],
        usage: "/invite ID",
        help: "let ID join the open topic (you created it)",
    },
    CommandHelp {
        names: &["kick"],
        usage: "/kick ID",
        help: "take ID out of the open topic (you created it)",
    },
    CommandHelp {
        names: &["members"],
        usage: "/members",
        help: "who is in the open topic, who is invited, who owns it",
    },
    CommandHelp {
        names: &["leave"],
        usage: "/leave",
        help: "leave the open topic",
    },
    CommandHelp {
        names: &["devices"],
        usage: "/devices",
        help: "the devices signed in to your account (* this one)",
    },
    CommandHelp {
        names: &["revoke"],
        usage: "/revoke DEVICE_ID",
        help: "sign that device out for good (/devices lists them)",
    },
    CommandHelp {
        names: &["passwd"],
        usage: "/passwd [keep-devices]",
        help: "change your password (typed hidden); other devices sign out unless keep-devices",
    },
    CommandHelp {
        names: &["logout"],
        usage: "/logout",
        help: "sign this device out for good, forget its token, and quit",
    },
    CommandHelp {
        names: &["search", "s"],
        usage: "/search TEXT",
        help: "find TEXT in this conversation (also Ctrl+F)",
    },
    CommandHelp {
        names: &["help", "h", "?"],
        usage: "/help",
        help: "show every key and command (also F1)",
    },
    CommandHelp {
        names: &["quit", "q", "exit"],
        usage: "/quit",
        help: "leave fishchat (also Ctrl+C)",
    },
];

/// Why a line is not a command we can carry out; the text says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("/{0} is not a command; /help lists them (start a message with // to send a line beginning with /)")]
    Unknown(String),
    #[error("{usage} needs {what}")]
    Missing {
        usage: &'static str,
        what: &'static str,
    },
    #[error("{usage}: {what} is one word (no spaces); got {got:?}")]
    OneWord {
        usage: &'static str,
        what: &'static str,
        got: String,
    },
    #[error("{usage} takes no arguments")]
    NoArgs { usage: &'static str },
    #[error("{usage}: {got:?} is not one of the choices")]
    Unexpected { usage: &'static str, got: String },
    #[error("{what} {got:?} is not valid: {why}")]
    BadName {
        what: &'static str,
        got: String,
        why: String,
    },
}

/// Whether `line` is a command (starts with `/`, not `//`).
pub fn is_command(line: &str) -> bool {
    line.starts_with('/') && !line.starts_with("//")
}

/// Parses a line that [`is_command`].
pub fn parse(line: &str) -> Result<SlashCommand, CommandError> {
    let body = line.strip_prefix('/').unwrap_or(line).trim_start();
    let (name, rest) = split_word(body);
    let Some(cmd) = COMMANDS
        .iter()
        .find(|c| c.names.iter().any(|n| n.eq_ignore_ascii_case(name)))
    else {
        return Err(CommandError::Unknown(name.to_string()));
    };
    let usage = cmd.usage;
    match cmd.names[0] {
        "msg" => {
            let (to, text) = split_word(rest);
            if to.is_empty() {
                return Err(CommandError::Missing {
                    usage,
                    what: "the id of whom to write to",
                });
            }
            check_name("id", to)?;
            let text = (!text.trim().is_empty()).then(|| text.to_string());
            Ok(SlashCommand::Msg {
                to: to.to_string(),
                text,
            })
        }
        "create" => {
            let (topic, flag) = split_word(rest);
            if topic.is_empty() {
                return Err(CommandError::Missing {
                    usage,
                    what: "the topic's name",
                });
            }
            check_name("topic", topic)?;
            let invite_only = match flag.trim() {
                "" => false,
                "invite" => true,
                other => {
                    return Err(CommandError::Unexpected {
                        usage,
                        got: other.to_string(),
                    })
                }
            };
            Ok(SlashCommand::Create {
                topic: topic.to_string(),
                invite_only,
            })
        }
        "join" => {
            let topic = one_word(rest, usage, "the topic's name")?;
            check_name("topic", &topic)?;
            Ok(SlashCommand::Join { topic })
        }
        "invite" | "kick" => {
            let id = one_word(rest, usage, "the id")?;
            check_name("id", &id)?;
            Ok(if cmd.names[0] == "invite" {
                SlashCommand::Invite { id }
            } else {
                SlashCommand::Kick { id }
            })
        }
        "revoke" => {
            let device_id = one_word(rest, usage, "the device's id (/devices lists them)")?;
            Ok(SlashCommand::Revoke { device_id })
        }
        "passwd" => match rest.trim() {
            "" => Ok(SlashCommand::Passwd {
                keep_devices: false,
            }),
            "keep-devices" => Ok(SlashCommand::Passwd { keep_devices: true }),
            other => Err(CommandError::Unexpected {
                usage,
                got: other.to_string(),
            }),
        },
        "members" => no_args(rest, usage).map(|()| SlashCommand::Members),
        "leave" => no_args(rest, usage).map(|()| SlashCommand::Leave),
        "devices" => no_args(rest, usage).map(|()| SlashCommand::Devices),
        "logout" => no_args(rest, usage).map(|()| SlashCommand::Logout),
        "search" => {
            let query = rest.trim();
            if query.is_empty() {
                return Err(CommandError::Missing {
                    usage,
                    what: "the text to find",
                });
            }
            Ok(SlashCommand::Search {
                query: query.to_string(),
            })
        }
        "help" => no_args(rest, usage).map(|()| SlashCommand::Help),
        "quit" => no_args(rest, usage).map(|()| SlashCommand::Quit),
        other => unreachable!("COMMANDS lists /{other} but parse does not handle it"),
    }
}

/// The first word and what follows the whitespace after it (kept as typed: a message's
/// inner spaces and newlines are its own).
fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => {
            let rest = &s[i..];
            let sep = rest.chars().next().map_or(0, char::len_utf8);
            (&s[..i], &rest[sep..])
        }
        None => (s, ""),
    }
}

fn one_word(rest: &str, usage: &'static str, what: &'static str) -> Result<String, CommandError> {
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(CommandError::Missing { usage, what });
    }
    if rest.contains(char::is_whitespace) {
        return Err(CommandError::OneWord {
            usage,
            what,
            got: rest.to_string(),
        });
    }
    Ok(rest.to_string())
}

fn no_args(rest: &str, usage: &'static str) -> Result<(), CommandError> {
    if rest.trim().is_empty() {
        Ok(())
    } else {
        Err(CommandError::NoArgs { usage })
    }
}

/// The server's rules for ids and topic names, checked here so that a bad name gets a clear
/// answer at once rather than an `ERROR BAD_ARGS` later.
pub fn check_name(what: &'static str, name: &str) -> Result<(), CommandError> {
    let why = if name.is_empty() {
        Some("it is empty".to_string())
    } else if name.len() > MAX_NAME_LEN {
        Some(format!(
            "it is {} bytes long; the most is {MAX_NAME_LEN}",
            name.len()
        ))
    } else if name.chars().any(char::is_control) {
        Some("it holds control characters".to_string())
    } else {
        None
    };
    match why {
        Some(why) => Err(CommandError::BadName {
            what,
            got: name.to_string(),
            why,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msg_keeps_the_text_as_typed() {
        assert_eq!(
            parse("/msg bob hello  there\nsecond line").unwrap(),
            SlashCommand::Msg {
                to: "bob".into(),
                text: Some("hello  there\nsecond line".into())
            }
        );
        assert_eq!(
            parse("/m bob").unwrap(),
            SlashCommand::Msg {
                to: "bob".into(),
                text: None
            }
        );
        assert_eq!(
            parse("/MSG  bob   ").unwrap(),
            SlashCommand::Msg {
                to: "bob".into(),
                text: None
            }
        );
    }

    #[test]
    fn topics_are_one_word() {
        assert_eq!(
            parse("/create rust").unwrap(),
            SlashCommand::Create {
                topic: "rust".into(),
                invite_only: false,
            }
        );
        assert_eq!(
            parse("/create rust invite").unwrap(),
            SlashCommand::Create {
                topic: "rust".into(),
                invite_only: true,
            }
        );
        let e = parse("/create rust lang").unwrap_err().to_string();
        assert!(e.contains("\"lang\"") && e.contains("[invite]"), "{e}");
        assert_eq!(
            parse("/join  rust ").unwrap(),
            SlashCommand::Join {
                topic: "rust".into()
            }
        );
        let e = parse("/join rust lang").unwrap_err().to_string();
        assert!(e.contains("one word") && e.contains("rust lang"), "{e}");
        let e = parse("/create").unwrap_err().to_string();
        assert_eq!(e, "/create TOPIC [invite] needs the topic's name");
    }

    #[test]
    fn account_and_topic_owner_commands_parse() {
        assert_eq!(
            parse("/invite bob").unwrap(),
            SlashCommand::Invite { id: "bob".into() }
        );
        assert_eq!(
            parse("/kick  bob ").unwrap(),
            SlashCommand::Kick { id: "bob".into() }
        );
        assert_eq!(parse("/members").unwrap(), SlashCommand::Members);
        assert_eq!(parse("/leave").unwrap(), SlashCommand::Leave);
        assert_eq!(parse("/devices").unwrap(), SlashCommand::Devices);
        assert_eq!(parse("/logout").unwrap(), SlashCommand::Logout);
        assert_eq!(
            parse("/revoke d-123").unwrap(),
            SlashCommand::Revoke {
                device_id: "d-123".into()
            }
        );
        assert_eq!(
            parse("/passwd").unwrap(),
            SlashCommand::Passwd {
                keep_devices: false
            }
        );
        assert_eq!(
            parse("/passwd keep-devices").unwrap(),
            SlashCommand::Passwd { keep_devices: true }
        );
        assert!(parse("/passwd hunter2").is_err(), "no password on the line");
        assert_eq!(
            parse("/revoke").unwrap_err().to_string(),
            "/revoke DEVICE_ID needs the device's id (/devices lists them)"
        );
        assert!(parse("/invite").is_err());
        assert!(parse("/invite bob carol").is_err());
        assert!(parse("/leave now").is_err());
    }

    #[test]
    fn errors_say_what_to_do() {
        let e = parse("/nope x").unwrap_err().to_string();
        assert!(e.contains("/nope") && e.contains("/help"), "{e}");
        assert_eq!(
            parse("/msg").unwrap_err().to_string(),
            "/msg ID [TEXT] needs the id of whom to write to"
        );
        assert_eq!(
            parse("/quit now").unwrap_err().to_string(),
            "/quit takes no arguments"
        );
        let long = format!("/msg {} hi", "x".repeat(MAX_NAME_LEN + 1));
        let e = parse(&long).unwrap_err().to_string();
        assert!(e.contains("257 bytes"), "{e}");
        assert!(parse("/search").is_err());
    }

    #[test]
    fn every_listed_command_parses() {
        for c in COMMANDS {
            for n in c.names {
                let line = match c.names[0] {
                    "msg" => format!("/{n} bob hi"),
                    "create" | "join" | "search" | "invite" | "kick" | "revoke" => {
                        format!("/{n} x")
                    }
                    _ => format!("/{n}"),
                };
                assert!(parse(&line).is_ok(), "{line}");
            }
        }
        assert_eq!(parse("/?").unwrap(), SlashCommand::Help);
        assert_eq!(parse("/exit").unwrap(), SlashCommand::Quit);
    }

    #[test]
    fn a_double_slash_is_a_message() {
        assert!(is_command("/msg bob"));
        assert!(!is_command("//not a command"));
        assert!(!is_command("hello /msg"));
    }
}
