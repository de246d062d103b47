//! The codes of `ERROR [code, detail]`, our answer to any frame the server cannot act on.

use std::fmt;
use std::str::FromStr;

/// A stable, upper-case error code. Clients match on these; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The body is not a JSON envelope.
    BadJson,
    /// `CmdName` is not a command this server knows.
    UnknownCmd,
    /// Too few, too many or invalid arguments.
    BadArgs,
    /// The command needs `SEND_CLIENT_ID` first.
    NotLoggedIn,
    /// Not allowed: a spoofed sender, a wrong secret, another client's id.
    Forbidden,
    /// The topic does not exist.
    NoSuchTopic,
    /// `CREATE_TOPIC` for a topic that exists already.
    TopicExists,
    /// A backend (store, msg_server) is down; try again later.
    Unavailable,
    /// The frame is longer than the server's maximum; the connection closes after it.
    FrameTooLong,
    /// The command is not meant for this role (e.g. `REQ_MSG_SERVER` to a msg_server).
    WrongRole,
    /// `LOGIN` (or `PASSWD`'s old password) failed: it says no more than that.
    AuthFailed,
    /// The id has an account, or the cluster needs one for every id: `LOGIN` first.
    AuthRequired,
    /// `REGISTER` (or `USER_ADD`) of an id that has an account.
    IdTaken,
    /// Too many failed sign-ins, or too many at once; the detail says when to try again.
    RateLimited,
    /// No device by that id on this account.
    NoSuchDevice,
    /// No account by that id.
    NoSuchAccount,
    /// This session was ended, just before its connection closes: its device was revoked or
    /// logged out, the password changed, the account deleted, the id claimed, or an operator
    /// kicked it. The detail says which.
    SignedOut,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::BadJson,
        ErrorCode::UnknownCmd,
        ErrorCode::BadArgs,
        ErrorCode::NotLoggedIn,
        ErrorCode::Forbidden,
        ErrorCode::NoSuchTopic,
        ErrorCode::TopicExists,
        ErrorCode::Unavailable,
        ErrorCode::FrameTooLong,
        ErrorCode::WrongRole,
        ErrorCode::AuthFailed,
        ErrorCode::AuthRequired,
        ErrorCode::IdTaken,
        ErrorCode::RateLimited,
        ErrorCode::NoSuchDevice,
        ErrorCode::NoSuchAccount,
        ErrorCode::SignedOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "BAD_JSON",
            ErrorCode::UnknownCmd => "UNKNOWN_CMD",
            ErrorCode::BadArgs => "BAD_ARGS",
            ErrorCode::NotLoggedIn => "NOT_LOGGED_IN",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NoSuchTopic => "NO_SUCH_TOPIC",
            ErrorCode::TopicExists => "TOPIC_EXISTS",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::FrameTooLong => "FRAME_TOO_LONG",
            ErrorCode::WrongRole => "WRONG_ROLE",
            ErrorCode::AuthFailed => "AUTH_FAILED",
            ErrorCode::AuthRequired => "AUTH_REQUIRED",
            ErrorCode::IdTaken => "ID_TAKEN",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::NoSuchDevice => "NO_SUCH_DEVICE",
            ErrorCode::NoSuchAccount => "NO_SUCH_ACCOUNT",
            ErrorCode::SignedOut => "SIGNED_OUT",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no error code of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error code {0:?}")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(s.to_string()))
    }
}
