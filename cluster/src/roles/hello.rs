//! `HELLO`, the same in every role: as a connection's first frame it puts the connection at
//! the fishchat level (see [`crate::protocol::level`]), and is answered `HELLO_OK` with the
//! version both sides speak, the server's name and what it offers.

use crate::protocol::level::VERSION;
use crate::protocol::{Command, ErrorCode};

/// The answer to `HELLO [version, client_name?]`, taken as frame number `nth` (1 for the
/// first) by `role`, which offers `features`; the `ERROR` to answer otherwise.
pub(crate) fn answer(
    role: &str,
    nth: u64,
    version: u64,
    features: &[&str],
) -> Result<Command, (ErrorCode, String)> {
    if nth != 1 {
        return Err((
            ErrorCode::BadArgs,
            "HELLO is only taken as a connection's first frame".into(),
        ));
    }
    if version == 0 {
        return Err((
            ErrorCode::BadArgs,
            format!("`version` must be 1 or more; this server speaks up to {VERSION}"),
        ));
    }
    Ok(Command::HelloOk {
        version: version.min(VERSION),
        server: format!("fishchat-{role}/{}", env!("CARGO_PKG_VERSION")),
        features: features.iter().map(|f| f.to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settles_on_the_lower_version_and_only_first() {
        let Ok(Command::HelloOk {
            version, server, ..
        }) = answer("gateway", 1, 7, &["sync"])
        else {
            panic!("HELLO refused")
        };
        assert_eq!(version, VERSION);
        assert!(server.starts_with("fishchat-gateway/"), "{server}");
        assert_eq!(
            answer("gateway", 2, 1, &[]).unwrap_err().0,
            ErrorCode::BadArgs
        );
        assert_eq!(
            answer("gateway", 1, 0, &[]).unwrap_err().0,
            ErrorCode::BadArgs
        );
    }
}
