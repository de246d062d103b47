//! Files and directories only their owner may read, created so from the start: a data
//! directory (0700) and what it holds that is nobody else's business (0600): the store, the
//! cluster file with its secret, chat history, logs, device tokens. A file is never written
//! first and restricted after, which would leave a moment when others could open it.
//!
//! On other platforms than Unix these are the ordinary calls.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Creates `dir` and any missing parents, each made with mode 0700. An existing directory
/// is left as it is.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// `OpenOptions` whose newly created files get mode 0600 (an existing file keeps its mode).
pub fn options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut opts = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts
}

/// Creates (or truncates) `path` for writing, mode 0600 where it is new.
pub fn create(path: &Path) -> io::Result<File> {
    options().write(true).create(true).truncate(true).open(path)
}

/// Writes `bytes` to `path` atomically (a reader sees the old file or the new one, never
/// half), through a temporary file beside it created 0600.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let _ = fs::remove_file(&tmp);
    let mut f = options().write(true).create_new(true).open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn directories_and_files_are_the_owners_only() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        let f = dir.join("f");
        create(&f).unwrap();
        assert_eq!(mode(&f), 0o600);
        let g = dir.join("g.json");
        write_atomic(&g, b"{}").unwrap();
        assert_eq!(mode(&g), 0o600);
        assert_eq!(fs::read(&g).unwrap(), b"{}");
        write_atomic(&g, b"[]").unwrap();
        assert_eq!(fs::read(&g).unwrap(), b"[]");
        assert!(!dir.join("g.json.tmp").exists());
    }
}
