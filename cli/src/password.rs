//! Passwords for the command-line tools (`fishchat chat`, `fishchat-admin user`): from a
//! file (`--password-file`), from `$FISHCHAT_PASSWORD`, or typed at the terminal without
//! echo, twice where a new one is chosen. Scripts and tests use the first two: then no
//! terminal is needed.

use std::path::Path;

use anyhow::{bail, Context, Result};

/// The environment variable that holds a password, for scripts.
pub const ENV: &str = "FISHCHAT_PASSWORD";

/// The shortest password the cluster takes (checked here too, to ask again at once).
pub use fishchat_cluster::protocol::command::MIN_PASSWORD_CHARS as MIN_CHARS;

/// The first line of `path`, without its line ending.
pub fn from_file(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the password file {} (given with --password-file)",
            path.display()
        )
    })?;
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        bail!(
            "the password file {} is empty: its first line is the password",
            path.display()
        );
    }
    Ok(line)
}

/// The password in the environment variable `var`, where it is set and not empty.
pub fn from_env(var: &str) -> Result<Option<String>> {
    match std::env::var(var) {
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            bail!("${var} is not valid UTF-8; use --password-file FILE instead")
        }
    }
}

/// The password from `file`, else from [`ENV`]; `None` where neither gives one.
pub fn given(file: Option<&Path>) -> Result<Option<String>> {
    match file {
        Some(path) => from_file(path).map(Some),
        None => from_env(ENV),
    }
}

/// A new password for `whose` (e.g. "bob"), typed twice at the terminal without echo;
/// three tries.
pub fn choose(whose: &str) -> Result<String> {
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt).with_context(|| {
            format!(
                "cannot ask for a password at the terminal; give it with --password-file FILE or ${ENV}"
            )
        })
    };
    for _ in 0..3 {
        let first = ask(&format!("New password for {whose}: "))?;
        if first.chars().count() < MIN_CHARS {
            eprintln!("A password needs at least {MIN_CHARS} characters.");
            continue;
        }
        if ask("The same password again: ")? != first {
            eprintln!("The two differ; once more.");
            continue;
        }
        return Ok(first);
    }
    bail!("no password chosen for {whose} after 3 tries")
}

/// A new password for `whose`: given (`file`, [`ENV`]) or chosen at the terminal.
pub fn new_password(file: Option<&Path>, whose: &str) -> Result<String> {
    match given(file)? {
        Some(p) => Ok(p),
        None => choose(whose),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_file_gives_its_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret pass\r\nignored\n").unwrap();
        assert_eq!(from_file(&path).unwrap(), "s3cret pass");
        std::fs::write(&path, "\n").unwrap();
        let e = from_file(&path).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = format!("{:#}", from_file(&dir.path().join("none")).unwrap_err());
        assert!(e.contains("--password-file"), "{e}");
    }
}
