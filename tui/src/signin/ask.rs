//! Talking to the person at the terminal before the screen opens: lines on stderr, and
//! passwords read from the terminal itself (`/dev/tty`) with no echo, through `rpassword`.
//! The sign-in ([`super::sign_in`]) speaks through [`Ask`], so its tests script the answers.

use std::io;

/// What the sign-in says and asks.
pub trait Ask {
    /// Tells the person something: a line.
    fn say(&mut self, line: &str);
    /// Asks for a password, not shown as it is typed. An error where no one can answer
    /// (there is no terminal).
    fn password(&mut self, prompt: &str) -> io::Result<String>;
}

/// The terminal: lines on stderr, passwords from `/dev/tty` without echo.
pub struct Terminal {
    /// Ctrl+C at the prompt: `rpassword` raises SIGINT while the terminal is still in raw
    /// mode. With a handler installed the process is not killed there, the prompt ends
    /// (`Interrupted`) and puts the terminal back as it was.
    #[cfg(unix)]
    _interrupt: Option<tokio::signal::unix::Signal>,
}

impl Terminal {
    /// Must be made on the tokio runtime (it installs the SIGINT handler).
    pub fn new() -> Terminal {
        Terminal {
            #[cfg(unix)]
            _interrupt: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .ok(),
        }
    }
}

impl Default for Terminal {
    fn default() -> Terminal {
        Terminal::new()
    }
}

impl Ask for Terminal {
    fn say(&mut self, line: &str) {
        eprintln!("{line}");
    }

    /// Blocks this thread while the person types: on a multi-threaded runtime (as
    /// `fishchat chat` runs) the other tasks go on meanwhile.
    fn password(&mut self, prompt: &str) -> io::Result<String> {
        let read = || rpassword::prompt_password(prompt);
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(read),
            _ => read(),
        }
    }
}

/// A password given beforehand (`--password-file`, `FISHCHAT_PASSWORD`): never shown in
/// debug output, and dropped once the sign-in is over.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Password {
        Password(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<hidden>)")
    }
}
