//! Slash commands: `/msg ID TEXT`, `/create TOPIC`, `/join TOPIC`, `/search TEXT`, `/help`,
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
    Create {
        topic: String,
    },
    Join {
        topic: String,
    },
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
        usage: "/create TOPIC",
        help: "create a topic (a group) and join it",
    },
    CommandHelp {
        names: &["join", "j"],
        usage: "/join TOPIC",
        help: "join a topic someone created",
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
        "create" | "join" => {
            let topic = one_word(rest, usage, "the topic's name")?;
            check_name("topic", &topic)?;
            Ok(if cmd.names[0] == "create" {
                SlashCommand::Create { topic }
            } else {
                SlashCommand::Join { topic }
            })
        }
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
                topic: "rust".into()
            }
        );
        assert_eq!(
            parse("/join  rust ").unwrap(),
            SlashCommand::Join {
                topic: "rust".into()
            }
        );
        let e = parse("/join rust lang").unwrap_err().to_string();
        assert!(e.contains("one word") && e.contains("rust lang"), "{e}");
        let e = parse("/create").unwrap_err().to_string();
        assert_eq!(e, "/create TOPIC needs the topic's name");
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
                    "create" | "join" | "search" => format!("/{n} x"),
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
