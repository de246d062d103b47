//! Local history: conversations and their messages, kept between runs.
//!
//! One directory per id, `DATA_DIR/chat/<id>/`, holding `history.jsonl` (one JSON record a
//! line, appended as things happen: a conversation opened, a message, a mark changed),
//! `lock` (so two clients with the same id and data directory do not interleave), and
//! the client's log, `chat.log`. At start the records are replayed into conversations; a
//! file holding many superseded records, or unreadable ones (a line cut by a crash), is
//! rewritten compactly.
//!
//! [`crate::app`] says what to keep as [`Record`]s ([`crate::app::App::take_saves`]); the
//! run loop writes them here ([`History::write`]).

use std::fs::{self, File, TryLockError};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use fishchat_cluster::private;

use crate::model::{ConvId, Conversation, Mark, Message};

const FILE: &str = "history.jsonl";
const LOCK: &str = "lock";

/// One line of the history file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Record {
    /// A conversation was opened (it shows in the sidebar, with or without messages).
    Conv { conv: ConvId },
    /// A message, ours or someone else's, as it was when it was first shown.
    Msg { conv: ConvId, msg: Message },
    /// Our message `uuid` moved on (sent, delivered, refused).
    Mark {
        conv: ConvId,
        uuid: String,
        mark: Mark,
    },
}

/// Why the history cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(
        "another fishchat chat is running as this id with this data directory ({}); \
         close it first, or pass another --data-dir",
        .dir.display()
    )]
    Locked { dir: PathBuf },
    #[error("cannot use the chat history in {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What was read at start.
#[derive(Debug, Default)]
pub struct Loaded {
    pub conversations: Vec<Conversation>,
    /// Lines that could not be read (and were dropped when the file was rewritten).
    pub skipped: usize,
}

/// The open history of one id.
pub struct History {
    path: PathBuf,
    file: File,
    _lock: File,
}

/// The directory for `id`'s history under the data directory.
pub fn dir_for(data_dir: &Path, id: &str) -> PathBuf {
    data_dir.join("chat").join(file_name(id))
}

/// `id` as a file name: letters, digits, `-`, `_` and inner dots as they are, every other
/// byte as `%XX`, so that no id can name another directory (`..`, `a/b`).
fn file_name(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for (i, b) in id.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl History {
    /// Opens (creating where missing) the history in `dir` and reads it.
    pub fn open(dir: &Path) -> Result<(History, Loaded), HistoryError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| HistoryError::Io { path, source }
        };
        private::create_dir(dir).map_err(io_err(dir))?;
        let lock_path = dir.join(LOCK);
        let lock = private::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(HistoryError::Locked {
                    dir: dir.to_path_buf(),
                })
            }
            Err(TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }

        let path = dir.join(FILE);
        let (loaded, records) = match File::open(&path) {
            Ok(f) => read(f).map_err(io_err(&path))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => (Loaded::default(), 0),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let live: usize = loaded
            .conversations
            .iter()
            .map(|c| c.messages.len() + 1)
            .sum();
        if loaded.skipped > 0 || records > 2 * live + 256 {
            tracing::info!(
                path = %path.display(),
                records,
                live,
                skipped = loaded.skipped,
                "rewriting the history compactly"
            );
            rewrite(&path, &loaded.conversations).map_err(io_err(&path))?;
        }
        let file = private::options()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        Ok((
            History {
                path,
                file,
                _lock: lock,
            },
            loaded,
        ))
    }

    /// The history file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `r` to the file.
    pub fn write(&mut self, r: &Record) -> io::Result<()> {
        let mut line = serde_json::to_string(r).map_err(io::Error::other)?;
        line.push('\n');
        // One write per record, so a crash cuts at most the last line.
        self.file.write_all(line.as_bytes())
    }
}

/// Replays the records; returns what they make and how many records were read.
fn read(f: File) -> io::Result<(Loaded, usize)> {
    let mut loaded = Loaded::default();
    let mut records = 0;
    let mut reader = BufReader::new(f);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        records += 1;
        match serde_json::from_str::<Record>(line) {
            Ok(r) => apply(&mut loaded.conversations, r),
            Err(e) => {
                tracing::warn!(error = %e, "skipping an unreadable history line");
                loaded.skipped += 1;
            }
        }
    }
    Ok((loaded, records))
}

fn apply(convs: &mut Vec<Conversation>, r: Record) {
    fn conv(convs: &mut Vec<Conversation>, id: ConvId) -> &mut Conversation {
        match convs.iter().position(|c| c.id == id) {
            Some(i) => &mut convs[i],
            None => {
                convs.push(Conversation::new(id));
                convs.last_mut().expect("just pushed")
            }
        }
    }
    match r {
        Record::Conv { conv: id } => {
            conv(convs, id);
        }
        Record::Msg { conv: id, msg } => {
            conv(convs, id).push(msg);
        }
        Record::Mark {
            conv: id,
            uuid,
            mark,
        } => {
            if let Some(m) = conv(convs, id).own_mut(&uuid) {
                m.mark = mark;
            }
        }
    }
}

/// Writes `convs` as fresh records to a temporary file, then renames it over `path`.
fn rewrite(path: &Path, convs: &[Conversation]) -> io::Result<()> {
    let tmp = path.with_extension("jsonl.tmp");
    let mut out = io::BufWriter::new(private::create(&tmp)?);
    for c in convs {
        let mut write = |r: &Record| -> io::Result<()> {
            serde_json::to_writer(&mut out, r).map_err(io::Error::other)?;
            out.write_all(b"\n")
        };
        write(&Record::Conv { conv: c.id.clone() })?;
        for m in &c.messages {
            write(&Record::Msg {
                conv: c.id.clone(),
                msg: m.clone(),
            })?;
        }
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(conv: &ConvId) -> Record {
        Record::Conv { conv: conv.clone() }
    }

    fn message(conv: &ConvId, msg: Message) -> Record {
        Record::Msg {
            conv: conv.clone(),
            msg,
        }
    }

    fn mark(conv: &ConvId, uuid: &str, mark: Mark) -> Record {
        Record::Mark {
            conv: conv.clone(),
            uuid: uuid.into(),
            mark,
        }
    }

    fn msg(uuid: &str, from: &str, mark: Mark) -> Message {
        Message {
            uuid: uuid.into(),
            from: from.into(),
            text: format!("text of {uuid}"),
            at_ms: 1_700_000_000_000,
            mark,
            offline: false,
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_history_is_the_owners_only_from_the_start() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("chat/alice");
        let (mut h, _) = History::open(&dir).unwrap();
        let bob = ConvId::Person("bob".into());
        h.write(&conversation(&bob)).unwrap();
        assert_eq!(mode(&root.path().join("chat")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(FILE)), 0o600);
        assert_eq!(mode(&dir.join(LOCK)), 0o600);
    }

    #[test]
    fn conversations_marks_and_order_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let bob = ConvId::Person("bob".into());
        let rust = ConvId::Topic("rust".into());
        {
            let (mut h, loaded) = History::open(dir.path()).unwrap();
            assert!(loaded.conversations.is_empty());
            h.write(&conversation(&rust)).unwrap();
            h.write(&conversation(&bob)).unwrap();
            h.write(&message(&bob, msg("u1", "alice", Mark::Pending)))
                .unwrap();
            h.write(&message(&bob, msg("u2", "bob", Mark::Incoming)))
                .unwrap();
            h.write(&mark(&bob, "u1", Mark::Sent)).unwrap();
            h.write(&mark(&bob, "u1", Mark::Delivered)).unwrap();
            // A mark for someone else's message is ignored.
            h.write(&mark(&bob, "u2", Mark::Delivered)).unwrap();
            // A duplicate (a message delivered twice) is kept once.
            h.write(&message(&bob, msg("u2", "bob", Mark::Incoming)))
                .unwrap();
        }
        let (_h, loaded) = History::open(dir.path()).unwrap();
        assert_eq!(loaded.skipped, 0);
        let ids: Vec<_> = loaded.conversations.iter().map(|c| c.id.clone()).collect();
        assert_eq!(ids, [rust, bob]);
        let b = &loaded.conversations[1];
        assert_eq!(b.messages.len(), 2);
        assert_eq!(b.messages[0].mark, Mark::Delivered);
        assert_eq!(b.messages[1].mark, Mark::Incoming);
        assert_eq!(b.messages[1].text, "text of u2");
    }

    #[test]
    fn a_second_client_with_the_same_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _first = History::open(dir.path()).unwrap();
        let e = History::open(dir.path()).err().expect("locked");
        let text = e.to_string();
        assert!(matches!(e, HistoryError::Locked { .. }), "{text}");
        assert!(text.contains("--data-dir"), "{text}");
    }

    #[test]
    fn a_line_cut_by_a_crash_is_skipped_and_the_file_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let bob = ConvId::Person("bob".into());
        {
            let (mut h, _) = History::open(dir.path()).unwrap();
            h.write(&message(&bob, msg("u1", "bob", Mark::Incoming)))
                .unwrap();
        }
        let path = dir.path().join(FILE);
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"t":"msg","conv":{"person":"bob"},"msg":{"uu"#)
            .unwrap();
        drop(f);
        {
            let (mut h, loaded) = History::open(dir.path()).unwrap();
            assert_eq!(loaded.skipped, 1);
            assert_eq!(loaded.conversations[0].messages.len(), 1);
            h.write(&message(&bob, msg("u2", "bob", Mark::Incoming)))
                .unwrap();
        }
        let (_h, loaded) = History::open(dir.path()).unwrap();
        assert_eq!(loaded.skipped, 0, "the file was rewritten");
        assert_eq!(loaded.conversations[0].messages.len(), 2);
    }

    #[test]
    fn many_superseded_records_are_compacted() {
        let dir = tempfile::tempdir().unwrap();
        let bob = ConvId::Person("bob".into());
        {
            let (mut h, _) = History::open(dir.path()).unwrap();
            h.write(&message(&bob, msg("u1", "alice", Mark::Pending)))
                .unwrap();
            for _ in 0..300 {
                h.write(&mark(&bob, "u1", Mark::Sent)).unwrap();
            }
        }
        let before = fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert_eq!(before.lines().count(), 301);
        let (_h, loaded) = History::open(dir.path()).unwrap();
        assert_eq!(loaded.conversations[0].messages[0].mark, Mark::Sent);
        let after = fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert_eq!(after.lines().count(), 2, "{after}");
    }

    #[test]
    fn ids_cannot_escape_the_chat_directory() {
        let d = Path::new("/data");
        assert_eq!(dir_for(d, "alice"), Path::new("/data/chat/alice"));
        assert_eq!(dir_for(d, "a.b-c_d"), Path::new("/data/chat/a.b-c_d"));
        assert_eq!(dir_for(d, ".."), Path::new("/data/chat/%2E."));
        assert_eq!(dir_for(d, "a/b"), Path::new("/data/chat/a%2Fb"));
        assert_eq!(dir_for(d, "é"), Path::new("/data/chat/%C3%A9"));
    }
}
