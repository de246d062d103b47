//! The device token kept between runs: `DATA_DIR/chat/<id>/token`, beside the history.
//! Whoever can read it can use the account from this device, so the file is created with
//! mode 0600 (its directory 0700) from the start, never written first and restricted after.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use fishchat_cluster::private;

const FILE: &str = "token";

/// The token file of one id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFile {
    path: PathBuf,
}

impl TokenFile {
    /// The token file in `dir`, the id's directory ([`crate::history::dir_for`]).
    pub fn in_dir(dir: &Path) -> TokenFile {
        TokenFile {
            path: dir.join(FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The token kept, if there is one.
    pub fn read(&self) -> io::Result<Option<String>> {
        match fs::read_to_string(&self.path) {
            Ok(s) => Ok(Some(s.trim().to_string()).filter(|t| !t.is_empty())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Keeps `token`, replacing any before it: written to a temporary file beside it,
    /// created 0600, then renamed over it, so a reader sees the old token or the new one.
    /// The directory is made 0700 where it is missing.
    pub fn write(&self, token: &str) -> io::Result<()> {
        if let Some(dir) = self.path.parent() {
            private::create_dir(dir)?;
        }
        private::write_atomic(&self.path, format!("{token}\n").as_bytes())
    }

    /// Forgets the token; no file is no error.
    pub fn remove(&self) -> io::Result<()> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_kept_replaced_and_forgotten() {
        let root = tempfile::tempdir().unwrap();
        let t = TokenFile::in_dir(&root.path().join("chat/alice"));
        assert_eq!(t.read().unwrap(), None);
        t.write("fct1_first").unwrap();
        assert_eq!(t.read().unwrap().as_deref(), Some("fct1_first"));
        t.write("fct1_second").unwrap();
        assert_eq!(t.read().unwrap().as_deref(), Some("fct1_second"));
        assert!(!t.path().with_file_name("token.tmp").exists());
        t.remove().unwrap();
        assert_eq!(t.read().unwrap(), None);
        t.remove().unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_the_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("chat/alice");
        let t = TokenFile::in_dir(&dir);
        t.write("fct1_x").unwrap();
        assert_eq!(mode(t.path()), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("chat")), 0o700);
    }
}
