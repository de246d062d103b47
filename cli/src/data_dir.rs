//! The data directory: where a cluster keeps its store (`store.redb`), its secret
//! (`secret`) and, while it runs, `cluster.json` saying where its roles are.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The file holding the generated cluster secret.
pub const SECRET_FILE: &str = "secret";
/// The file a running cluster writes its addresses to.
pub const CLUSTER_FILE: &str = "cluster.json";

/// The platform's data directory for fishchat, e.g. `~/.local/share/fishchat` on Linux.
pub fn default_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "fishchat")
        .map(|d| d.data_dir().to_path_buf())
        .context("cannot tell where this platform keeps data (is HOME set?); pass --data-dir")
}

/// `dir`, or the default; created where missing, readable by its owner only (0700).
pub fn prepare(dir: Option<PathBuf>) -> Result<PathBuf> {
    let dir = match dir {
        Some(d) => d,
        None => default_dir()?,
    };
    fishchat_cluster::private::create_dir(&dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    Ok(dir)
}

pub fn cluster_file(dir: &Path) -> PathBuf {
    dir.join(CLUSTER_FILE)
}

/// The secret kept in `dir/secret`; made on first use (32 random bytes as hex), readable
/// by the owner only.
pub fn load_or_create_secret(dir: &Path) -> Result<String> {
    let path = dir.join(SECRET_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let secret = text.trim();
            if secret.is_empty() {
                bail!(
                    "the secret file {} is empty; delete it to have a new secret made, or pass --secret",
                    path.display()
                );
            }
            warn_if_shared(&path);
            Ok(secret.to_string())
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let secret = new_secret();
            write_private(&path, &secret)
                .with_context(|| format!("cannot write the secret file {}", path.display()))?;
            tracing::info!(path = %path.display(), "made a new cluster secret");
            Ok(secret)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read the secret file {}", path.display())),
    }
}

fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates `path` with `text`, mode 0600 from the start (never briefly readable by others);
/// fails where it exists.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = fishchat_cluster::private::options()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

#[cfg(unix)]
fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the secret file is readable by others; chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_made_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_secret(dir.path()).unwrap();
        assert_eq!(first.len(), 64);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()), "{first}");
        assert_eq!(load_or_create_secret(dir.path()).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let other = tempfile::tempdir().unwrap();
        assert_ne!(load_or_create_secret(other.path()).unwrap(), first);
    }

    #[test]
    fn an_empty_secret_file_is_an_error_that_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(SECRET_FILE), "\n").unwrap();
        let e = load_or_create_secret(dir.path()).unwrap_err().to_string();
        assert!(e.contains("empty") && e.contains("--secret"), "{e}");
    }
}
