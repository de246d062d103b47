//! [`Secret`]: a password or a device token as it travels in a command. Its `Debug` shows
//! no character of it, so that a log line, a panic message or a failed assertion that prints
//! a command never prints a password.

use std::fmt;

/// A password or a device token in a command (`REGISTER`, `LOGIN`, `LOGIN_OK`, `PASSWD`,
/// `USER_ADD`, `USER_PASSWD`). `Debug` prints `Secret(…)`; [`Secret::expose`] is the one
/// way to the text.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// The text, for the one place that needs it (the wire, a hash, a file of mode 0600).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_nothing_of_it() {
        let s = Secret::from("hunter2 hunter2");
        assert_eq!(format!("{s:?}"), "Secret(…)");
        assert_eq!(s.expose(), "hunter2 hunter2");
        let cmd = crate::protocol::Command::Register {
            id: "bob".into(),
            password: s,
        };
        assert!(!format!("{cmd:?}").contains("hunter2"), "{cmd:?}");
    }
}
