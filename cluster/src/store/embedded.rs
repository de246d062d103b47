//! The default store: one redb file on disk, written through one group-committing thread.
//!
//! Durability: a write is *accepted* when its `async fn` returns `Ok`. Accepted writes are
//! visible to every read at once, and they survive a clean stop ([`Store::flush`], or dropping
//! the last handle). After a crash or SIGKILL, at most the last
//! [`EmbeddedOptions::commit_window`] of accepted writes may be lost; everything older is on
//! disk. Nothing is ever half applied: each write lands whole or not at all. A write whose
//! caller stops waiting (its future dropped) may still be applied.
//!
//! How: every write goes, as a closure over the open tables, to one writer thread
//! (`writer_loop`). It drains what is queued (up to `MAX_BATCH` requests), applies it all in
//! one write transaction committed with [`Durability::None`] (in memory, seen by readers, not
//! fsynced) and only then answers each caller. At the latest `commit_window` after the first such
//! commit, it makes an empty [`Durability::Immediate`] commit, which fsyncs everything before it.
//! Reads open their own read transaction on the caller's thread (see `EmbeddedStore::read`).
//!
//! The traits and the record types are in [`super`]; [`super::conformance`] is the test suite
//! this backend must pass.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redb::{
    Database, Durability, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    Table, TableDefinition, WriteTransaction,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::oneshot;
use tracing::{debug, error, warn};

use super::{
    ClientRecord, ClientStore, InboxStore, SessionLoc, SessionStore, Store, StoreError,
    StoreResult, StoredMessage, TopicRecord, TopicStore,
};

/// `(receiver, seq) -> StoredMessage` as JSON. `seq` comes from [`COUNTERS`], so a receiver's
/// range is its inbox in push order.
const INBOX: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("inbox");
/// `(receiver, uuid) -> seq`: finds the message an ack names, and refuses a duplicate push.
const INBOX_INDEX: TableDefinition<(&str, &str), u64> = TableDefinition::new("inbox_by_uuid");
/// `receiver -> pending messages`, absent when none, so `pending_count` reads one entry.
const INBOX_LEN: TableDefinition<&str, u64> = TableDefinition::new("inbox_len");
/// Named counters; [`NEXT_INBOX_SEQ`] is the only one.
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
const NEXT_INBOX_SEQ: &str = "next_inbox_seq";
/// `(id, server, conn) -> ()`: one entry per connection, ordered as `sessions` answers.
const SESSIONS: TableDefinition<(&str, &str, u64), ()> = TableDefinition::new("sessions");
/// `(server, id, conn) -> ()`: the same entries by server, for `clear_server`.
const SESSIONS_BY_SERVER: TableDefinition<(&str, &str, u64), ()> =
    TableDefinition::new("sessions_by_server");
/// `name -> TopicRecord` as JSON.
const TOPICS: TableDefinition<&str, &[u8]> = TableDefinition::new("topics");
/// `(topic, member) -> ()`.
const TOPIC_MEMBERS: TableDefinition<(&str, &str), ()> = TableDefinition::new("topic_members");
/// `id -> ClientRecord` as JSON.
const CLIENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("clients");

/// The most requests the writer applies in one transaction; bounds how long one commit takes
/// and so how long the first caller of a batch waits.
const MAX_BATCH: usize = 1024;

/// How the embedded store trades durability for throughput.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedOptions {
    /// The longest an accepted write stays only in memory before an fsync makes it durable;
    /// what a crash may lose.
    pub commit_window: Duration,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self {
            commit_window: Duration::from_millis(50),
        }
    }
}

/// The redb-backed [`Store`]. Cloning is cheap and shares the same file and writer thread;
/// dropping the last clone makes every accepted write durable and closes the file, blocking
/// the dropping thread for that one commit.
#[derive(Clone)]
pub struct EmbeddedStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    db: Arc<Database>,
    writer: Writer,
}

impl fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl EmbeddedStore {
    /// Opens the store in `path`, creating the file (and its parent directories) where missing.
    ///
    /// Fails, naming the path, where the file is open already (in another process, or in
    /// another `EmbeddedStore` of this one), or is not a redb database.
    pub fn open(path: &Path, opts: EmbeddedOptions) -> Result<EmbeddedStore, StoreError> {
        let shown = path.display();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot create directory {} for the store {shown}: {e}",
                    parent.display()
                ))
            })?;
        }
        let db = Database::create(path).ctx(&format!("opening the store {shown}"))?;
        // Read transactions fail on a table that was never created, so create them all now.
        let txn = db.begin_write().ctx(&format!("initialising {shown}"))?;
        Tables::open(&txn)?;
        txn.commit().ctx(&format!("initialising {shown}"))?;

        let db = Arc::new(db);
        let writer = Writer::spawn(db.clone(), opts.commit_window, path)?;
        debug!(path = %shown, window = ?opts.commit_window, "embedded store open");
        Ok(EmbeddedStore {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                db,
                writer,
            }),
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Queues `apply` for the writer and waits until the batch holding it has committed.
    ///
    /// Where the caller stops waiting, the write still happens.
    async fn write<T, F>(&self, what: &'static str, apply: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut Tables<'_>) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.inner.writer.send(
            Request::Write(Box::new(WriteJob {
                apply,
                outcome: None,
                reply,
            })),
            &self.inner.path,
            what,
        )?;
        answer
            .await
            .map_err(|_| writer_gone(&self.inner.path, what))?
    }

    /// Runs a short read on the caller's thread.
    ///
    /// redb reads are MVCC snapshots: `begin_read` never waits for the writer, so a point
    /// lookup or a scan of one id's entries costs microseconds, less than handing it to another
    /// thread. Whole-table listings use [`Self::read_blocking`] instead.
    fn read<T>(
        &self,
        what: &str,
        f: impl FnOnce(&ReadTransaction) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let txn = self.inner.db.begin_read().ctx(what)?;
        f(&txn)
    }

    /// Runs a read whose size has no bound (a whole table) on tokio's blocking pool, so that it
    /// does not hold up the runtime's worker.
    async fn read_blocking<T, F>(&self, what: &'static str, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction) -> StoreResult<T> + Send + 'static,
    {
        let db = self.inner.db.clone();
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_read().ctx(what)?;
            f(&txn)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("{what}: read task failed: {e}")))?
    }
}

fn writer_gone(path: &Path, what: &str) -> StoreError {
    StoreError::Unavailable(format!(
        "{what}: the writer thread of the store {} has stopped",
        path.display()
    ))
}

// ---------------------------------------------------------------------------------------------
// The writer thread.

/// What the writer thread is asked to do.
enum Request {
    Write(Box<dyn Job>),
    /// Make everything accepted so far durable, then answer.
    Flush(oneshot::Sender<StoreResult<()>>),
}

/// One queued write, type-erased so that writes with different answers share one queue.
trait Job: Send {
    /// Applies the write inside the batch's transaction and keeps its outcome for
    /// [`Job::finish`]. `Err` where redb itself failed: the transaction must then be dropped.
    fn apply(&mut self, tables: &mut Tables<'_>) -> StoreResult<()>;
    /// Answers the caller once the batch's fate (`commit`) is known.
    fn finish(self: Box<Self>, commit: StoreResult<()>);
}

struct WriteJob<T, F> {
    apply: F,
    outcome: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Job for WriteJob<T, F>
where
    T: Send,
    F: FnMut(&mut Tables<'_>) -> StoreResult<T> + Send,
{
    fn apply(&mut self, tables: &mut Tables<'_>) -> StoreResult<()> {
        let outcome = (self.apply)(tables);
        let failed = match &outcome {
            // A refusal (NoSuchTopic) changed nothing; the rest of the batch may commit.
            Err(e @ (StoreError::Unavailable(_) | StoreError::Corrupt(_))) => Err(e.clone()),
            _ => Ok(()),
        };
        self.outcome = Some(outcome);
        failed
    }

    fn finish(self: Box<Self>, commit: StoreResult<()>) {
        let answer = match (commit, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => Err(StoreError::Unavailable("write was never applied".into())),
            (Err(e), _) => Err(e),
        };
        // The caller may have stopped waiting; the write stands all the same.
        let _ = self.reply.send(answer);
    }
}

/// The sending half of the writer thread; dropping it stops the thread after a durable commit.
struct Writer {
    requests: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    fn spawn(db: Arc<Database>, window: Duration, path: &Path) -> StoreResult<Writer> {
        let (requests, queue) = mpsc::channel();
        let shown = path.display().to_string();
        let thread = std::thread::Builder::new()
            .name("fishchat-store-writer".into())
            .spawn(move || writer_loop(&db, &queue, window, &shown))
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot start the writer thread of the store {}: {e}",
                    path.display()
                ))
            })?;
        Ok(Writer {
            requests: Some(requests),
            thread: Some(thread),
        })
    }

    fn send(&self, request: Request, path: &Path, what: &str) -> StoreResult<()> {
        self.requests
            .as_ref()
            .and_then(|r| r.send(request).ok())
            .ok_or_else(|| writer_gone(path, what))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the queue tells the thread to make everything durable and stop. Waiting for
        // it means the file is closed, and may be reopened, once the last handle is gone.
        self.requests = None;
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                error!("the embedded store's writer thread panicked");
            }
        }
    }
}

/// The writer thread: batches queued writes into non-durable commits and makes them durable
/// within `window`, on [`Request::Flush`], and when the queue closes.
fn writer_loop(db: &Database, queue: &mpsc::Receiver<Request>, window: Duration, path: &str) {
    // When the oldest write not yet fsynced must be, if there is one.
    let mut durable_due: Option<Instant> = None;
    loop {
        let first = match durable_due {
            None => match queue.recv() {
                Ok(request) => Some(request),
                Err(mpsc::RecvError) => break,
            },
            Some(due) => match queue.recv_timeout(due.saturating_duration_since(Instant::now())) {
                Ok(request) => Some(request),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            },
        };

        let mut jobs: Vec<Box<dyn Job>> = Vec::new();
        let mut flushes = Vec::new();
        let mut next = first;
        while let Some(request) = next {
            match request {
                Request::Write(job) => jobs.push(job),
                Request::Flush(reply) => flushes.push(reply),
            }
            next = if jobs.len() + flushes.len() < MAX_BATCH {
                queue.try_recv().ok()
            } else {
                None
            };
        }

        if !jobs.is_empty() && commit_batch(db, jobs) {
            durable_due.get_or_insert_with(|| Instant::now() + window);
        }

        let overdue = durable_due.is_some_and(|due| Instant::now() >= due);
        if durable_due.is_some() && (overdue || !flushes.is_empty()) {
            let result = durable_commit(db);
            match &result {
                Ok(()) => durable_due = None,
                Err(e) => {
                    warn!(path, error = %e, "durable commit failed; retrying in one window");
                    durable_due = Some(Instant::now() + window);
                }
            }
            for reply in flushes {
                let _ = reply.send(result.clone());
            }
        } else {
            // Nothing is waiting for an fsync: what was accepted is durable already.
            for reply in flushes {
                let _ = reply.send(Ok(()));
            }
        }
    }

    if durable_due.is_some() {
        if let Err(e) = durable_commit(db) {
            error!(path, error = %e, "final durable commit failed; the last writes may be lost");
        }
    }
    debug!(path, "embedded store writer stopped");
}

/// Applies `jobs` in one non-durable transaction and answers each; returns whether anything
/// was committed.
///
/// Where redb fails inside one job, the transaction is dropped and each job is retried in a
/// transaction of its own, so that one bad record fails only the write that touched it.
fn commit_batch(db: &Database, mut jobs: Vec<Box<dyn Job>>) -> bool {
    match apply_all(db, &mut jobs) {
        Ok(()) => {
            for job in jobs {
                job.finish(Ok(()));
            }
            true
        }
        Err(_) if jobs.len() > 1 => {
            let mut committed = false;
            for job in jobs {
                committed |= commit_batch(db, vec![job]);
            }
            committed
        }
        Err(e) => {
            for job in jobs {
                job.finish(Err(e.clone()));
            }
            false
        }
    }
}

fn apply_all(db: &Database, jobs: &mut [Box<dyn Job>]) -> StoreResult<()> {
    let mut txn = db.begin_write().ctx("starting a write")?;
    txn.set_durability(Durability::None)
        .ctx("starting a write")?;
    {
        // The tables borrow the transaction and must be closed before it commits; an error
        // here drops the transaction, which aborts it.
        let mut tables = Tables::open(&txn)?;
        for job in jobs.iter_mut() {
            job.apply(&mut tables)?;
        }
        tables.finish()?;
    }
    txn.commit().ctx("committing a write")
}

/// An empty commit at [`Durability::Immediate`]: fsyncs it and every non-durable one before it.
fn durable_commit(db: &Database) -> StoreResult<()> {
    let mut txn = db.begin_write().ctx("durable commit")?;
    txn.set_durability(Durability::Immediate)
        .ctx("durable commit")?;
    txn.commit().ctx("durable commit")
}

// ---------------------------------------------------------------------------------------------
// Writes, applied by the writer thread inside a batch's transaction.

/// Every table, open for writing in one transaction.
struct Tables<'txn> {
    inbox: Table<'txn, (&'static str, u64), &'static [u8]>,
    inbox_index: Table<'txn, (&'static str, &'static str), u64>,
    inbox_len: Table<'txn, &'static str, u64>,
    counters: Table<'txn, &'static str, u64>,
    sessions: Table<'txn, (&'static str, &'static str, u64), ()>,
    sessions_by_server: Table<'txn, (&'static str, &'static str, u64), ()>,
    topics: Table<'txn, &'static str, &'static [u8]>,
    topic_members: Table<'txn, (&'static str, &'static str), ()>,
    clients: Table<'txn, &'static str, &'static [u8]>,
    /// [`NEXT_INBOX_SEQ`] as this batch has moved it: read at the first push, written once
    /// by [`Tables::finish`] rather than at every push.
    next_seq: Option<u64>,
    /// How this batch changes each inbox's length, written once per inbox by
    /// [`Tables::finish`]: a batch often pushes or acks many messages of one inbox.
    len_changes: HashMap<String, i64>,
}

impl<'txn> Tables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> StoreResult<Self> {
        let what = "opening the tables";
        Ok(Tables {
            inbox: txn.open_table(INBOX).ctx(what)?,
            inbox_index: txn.open_table(INBOX_INDEX).ctx(what)?,
            inbox_len: txn.open_table(INBOX_LEN).ctx(what)?,
            counters: txn.open_table(COUNTERS).ctx(what)?,
            sessions: txn.open_table(SESSIONS).ctx(what)?,
            sessions_by_server: txn.open_table(SESSIONS_BY_SERVER).ctx(what)?,
            topics: txn.open_table(TOPICS).ctx(what)?,
            topic_members: txn.open_table(TOPIC_MEMBERS).ctx(what)?,
            clients: txn.open_table(CLIENTS).ctx(what)?,
            next_seq: None,
            len_changes: HashMap::new(),
        })
    }

    /// Writes what the batch's jobs left to write at the end: the inbox seq counter and the
    /// inbox lengths. Called once, after the last job, before the commit.
    fn finish(&mut self) -> StoreResult<()> {
        let what = "finishing a write";
        if let Some(next) = self.next_seq {
            self.counters.insert(NEXT_INBOX_SEQ, next).ctx(what)?;
        }
        for (id, change) in self.len_changes.drain() {
            if change == 0 {
                continue;
            }
            let len = get_u64(&self.inbox_len, &id, what)? as i64 + change;
            if len <= 0 {
                self.inbox_len.remove(id.as_str()).ctx(what)?;
            } else {
                self.inbox_len.insert(id.as_str(), len as u64).ctx(what)?;
            }
        }
        Ok(())
    }

    /// The seq the next pushed message gets (see [`Tables::take_seq`]).
    fn peek_seq(&mut self) -> StoreResult<u64> {
        if let Some(next) = self.next_seq {
            return Ok(next);
        }
        let next = get_u64(&self.counters, NEXT_INBOX_SEQ, "push")?;
        self.next_seq = Some(next);
        Ok(next)
    }

    fn take_seq(&mut self) -> StoreResult<u64> {
        let seq = self.peek_seq()?;
        self.next_seq = Some(seq + 1);
        Ok(seq)
    }

    fn change_len(&mut self, id: &str, by: i64) {
        match self.len_changes.get_mut(id) {
            Some(n) => *n += by,
            None => {
                self.len_changes.insert(id.to_owned(), by);
            }
        }
    }

    fn add_session(&mut self, id: &str, loc: &SessionLoc) -> StoreResult<()> {
        let what = "add_session";
        let server = loc.server.as_str();
        self.sessions.insert((id, server, loc.conn), ()).ctx(what)?;
        self.sessions_by_server
            .insert((server, id, loc.conn), ())
            .ctx(what)?;
        Ok(())
    }

    fn remove_session(&mut self, id: &str, loc: &SessionLoc) -> StoreResult<()> {
        let what = "remove_session";
        let server = loc.server.as_str();
        self.sessions.remove((id, server, loc.conn)).ctx(what)?;
        self.sessions_by_server
            .remove((server, id, loc.conn))
            .ctx(what)?;
        Ok(())
    }

    fn clear_server(&mut self, server: &str) -> StoreResult<u64> {
        let what = "clear_server";
        let mut gone = Vec::new();
        for entry in self.sessions_by_server.range((server, "", 0)..).ctx(what)? {
            let (key, _) = entry.ctx(what)?;
            let (s, id, conn) = key.value();
            if s != server {
                break;
            }
            gone.push((id.to_owned(), conn));
        }
        for (id, conn) in &gone {
            self.sessions_by_server
                .remove((server, id.as_str(), *conn))
                .ctx(what)?;
            self.sessions
                .remove((id.as_str(), server, *conn))
                .ctx(what)?;
        }
        Ok(gone.len() as u64)
    }

    fn create_topic(&mut self, topic: &TopicRecord) -> StoreResult<bool> {
        let what = "create_topic";
        let name = topic.name.as_str();
        if self.topics.get(name).ctx(what)?.is_some() {
            return Ok(false);
        }
        let record = encode(what, topic)?;
        self.topics.insert(name, record.as_slice()).ctx(what)?;
        self.topic_members
            .insert((name, topic.creator.as_str()), ())
            .ctx(what)?;
        Ok(true)
    }

    fn add_member(&mut self, topic: &str, id: &str) -> StoreResult<bool> {
        let what = "add_member";
        if self.topics.get(topic).ctx(what)?.is_none() {
            return Err(StoreError::NoSuchTopic(topic.to_owned()));
        }
        let before = self.topic_members.insert((topic, id), ()).ctx(what)?;
        Ok(before.is_none())
    }

    fn push(&mut self, msg: &StoredMessage) -> StoreResult<()> {
        let what = "push";
        let (to, uuid) = (msg.to.as_str(), msg.uuid.as_str());
        let record = encode(what, msg)?;
        let seq = self.peek_seq()?;
        // One lookup both finds a duplicate and indexes a new message; a duplicate (rare)
        // gets its old entry back.
        let before = self
            .inbox_index
            .insert((to, uuid), seq)
            .ctx(what)?
            .map(|old| old.value());
        if let Some(old) = before {
            self.inbox_index.insert((to, uuid), old).ctx(what)?;
            return Ok(());
        }
        self.take_seq()?;
        self.inbox.insert((to, seq), record.as_slice()).ctx(what)?;
        self.change_len(to, 1);
        Ok(())
    }

    fn ack(&mut self, id: &str, uuid: &str) -> StoreResult<Option<StoredMessage>> {
        let what = "ack";
        let seq = match self.inbox_index.remove((id, uuid)).ctx(what)? {
            Some(seq) => seq.value(),
            None => return Ok(None),
        };
        let msg: StoredMessage = match self.inbox.remove((id, seq)).ctx(what)? {
            Some(record) => decode(what, record.value())?,
            None => {
                return Err(StoreError::Corrupt(format!(
                    "{what}: message {uuid} of {id} is indexed at {seq} but not stored"
                )))
            }
        };
        self.change_len(id, -1);
        Ok(Some(msg))
    }

    fn put_client(&mut self, client: &ClientRecord) -> StoreResult<()> {
        let what = "put_client";
        let record = encode(what, client)?;
        self.clients
            .insert(client.id.as_str(), record.as_slice())
            .ctx(what)?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Reads, shared by read transactions and the writer's tables.

fn get_u64(
    table: &impl ReadableTable<&'static str, u64>,
    key: &str,
    what: &str,
) -> StoreResult<u64> {
    Ok(table.get(key).ctx(what)?.map_or(0, |v| v.value()))
}

fn get_json<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
    what: &str,
) -> StoreResult<Option<T>> {
    match table.get(key).ctx(what)? {
        Some(record) => decode(what, record.value()).map(Some),
        None => Ok(None),
    }
}

fn all_json<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    what: &str,
) -> StoreResult<Vec<T>> {
    let mut out = Vec::new();
    for entry in table.iter().ctx(what)? {
        let (_, record) = entry.ctx(what)?;
        out.push(decode(what, record.value())?);
    }
    Ok(out)
}

fn encode<T: Serialize>(what: &str, value: &T) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|e| StoreError::Corrupt(format!("{what}: cannot encode: {e}")))
}

fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Corrupt(format!("{what}: cannot decode a stored record: {e}")))
}

/// Maps a redb error to a [`StoreError`], saying what was being done.
trait Context<T> {
    fn ctx(self, what: &str) -> StoreResult<T>;
}

impl<T, E: Into<redb::Error>> Context<T> for Result<T, E> {
    fn ctx(self, what: &str) -> StoreResult<T> {
        self.map_err(|e| match e.into() {
            e @ (redb::Error::Corrupted(_)
            | redb::Error::TableIsMultimap(_)
            | redb::Error::TableIsNotMultimap(_)
            | redb::Error::TypeDefinitionChanged { .. }) => {
                StoreError::Corrupt(format!("{what}: {e}"))
            }
            e => StoreError::Unavailable(format!("{what}: {e}")),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The traits.

#[async_trait]
impl SessionStore for EmbeddedStore {
    async fn add_session(&self, id: &str, loc: &SessionLoc) -> StoreResult<()> {
        let (id, loc) = (id.to_owned(), loc.clone());
        self.write("add_session", move |t| t.add_session(&id, &loc))
            .await
    }

    async fn remove_session(&self, id: &str, loc: &SessionLoc) -> StoreResult<()> {
        let (id, loc) = (id.to_owned(), loc.clone());
        self.write("remove_session", move |t| t.remove_session(&id, &loc))
            .await
    }

    async fn sessions(&self, id: &str) -> StoreResult<Vec<SessionLoc>> {
        let what = "sessions";
        self.read(what, |txn| {
            let table = txn.open_table(SESSIONS).ctx(what)?;
            let mut out = Vec::new();
            for entry in table.range((id, "", 0)..).ctx(what)? {
                let (key, _) = entry.ctx(what)?;
                let (i, server, conn) = key.value();
                if i != id {
                    break;
                }
                out.push(SessionLoc {
                    server: server.to_owned(),
                    conn,
                });
            }
            Ok(out)
        })
    }

    async fn all_sessions(&self) -> StoreResult<Vec<(String, SessionLoc)>> {
        let what = "all_sessions";
        self.read_blocking(what, move |txn| {
            let table = txn.open_table(SESSIONS).ctx(what)?;
            let mut out = Vec::new();
            for entry in table.iter().ctx(what)? {
                let (key, _) = entry.ctx(what)?;
                let (id, server, conn) = key.value();
                out.push((
                    id.to_owned(),
                    SessionLoc {
                        server: server.to_owned(),
                        conn,
                    },
                ));
            }
            Ok(out)
        })
        .await
    }

    async fn clear_server(&self, server: &str) -> StoreResult<u64> {
        let server = server.to_owned();
        self.write("clear_server", move |t| t.clear_server(&server))
            .await
    }
}

#[async_trait]
impl TopicStore for EmbeddedStore {
    async fn create_topic(&self, topic: &TopicRecord) -> StoreResult<bool> {
        let topic = topic.clone();
        self.write("create_topic", move |t| t.create_topic(&topic))
            .await
    }

    async fn topic(&self, name: &str) -> StoreResult<Option<TopicRecord>> {
        let what = "topic";
        self.read(what, |txn| {
            get_json(&txn.open_table(TOPICS).ctx(what)?, name, what)
        })
    }

    async fn topics(&self) -> StoreResult<Vec<TopicRecord>> {
        let what = "topics";
        self.read_blocking(what, move |txn| {
            all_json(&txn.open_table(TOPICS).ctx(what)?, what)
        })
        .await
    }

    async fn add_member(&self, topic: &str, id: &str) -> StoreResult<bool> {
        let (topic, id) = (topic.to_owned(), id.to_owned());
        self.write("add_member", move |t| t.add_member(&topic, &id))
            .await
    }

    async fn members(&self, topic: &str) -> StoreResult<Vec<String>> {
        let what = "members";
        self.read(what, |txn| {
            // Both tables from one snapshot, so a member list never outlives its topic.
            if txn
                .open_table(TOPICS)
                .ctx(what)?
                .get(topic)
                .ctx(what)?
                .is_none()
            {
                return Err(StoreError::NoSuchTopic(topic.to_owned()));
            }
            let table = txn.open_table(TOPIC_MEMBERS).ctx(what)?;
            let mut out = Vec::new();
            for entry in table.range((topic, "")..).ctx(what)? {
                let (key, _) = entry.ctx(what)?;
                let (t, member) = key.value();
                if t != topic {
                    break;
                }
                out.push(member.to_owned());
            }
            Ok(out)
        })
    }
}

#[async_trait]
impl InboxStore for EmbeddedStore {
    /// Every write is queued to the one writer thread when first polled, and the writer
    /// applies them in queue order.
    fn pipelines_in_order(&self) -> bool {
        true
    }

    async fn push(&self, msg: &StoredMessage) -> StoreResult<()> {
        let msg = msg.clone();
        self.write("push", move |t| t.push(&msg)).await
    }

    async fn pending(&self, id: &str) -> StoreResult<Vec<StoredMessage>> {
        let what = "pending";
        self.read(what, |txn| {
            let table = txn.open_table(INBOX).ctx(what)?;
            let mut out = Vec::new();
            for entry in table.range((id, 0)..=(id, u64::MAX)).ctx(what)? {
                let (_, record) = entry.ctx(what)?;
                out.push(decode(what, record.value())?);
            }
            Ok(out)
        })
    }

    async fn pending_count(&self, id: &str) -> StoreResult<u64> {
        let what = "pending_count";
        self.read(what, |txn| {
            get_u64(&txn.open_table(INBOX_LEN).ctx(what)?, id, what)
        })
    }

    async fn ack(&self, id: &str, uuid: &str) -> StoreResult<Option<StoredMessage>> {
        let (id, uuid) = (id.to_owned(), uuid.to_owned());
        self.write("ack", move |t| t.ack(&id, &uuid)).await
    }

    async fn pending_total(&self) -> StoreResult<Option<u64>> {
        let what = "pending_total";
        // redb keeps a table's length in its root: this reads one header, scans nothing.
        self.read(what, |txn| {
            Ok(Some(txn.open_table(INBOX).ctx(what)?.len().ctx(what)?))
        })
    }
}

#[async_trait]
impl ClientStore for EmbeddedStore {
    async fn put_client(&self, client: &ClientRecord) -> StoreResult<()> {
        let client = client.clone();
        self.write("put_client", move |t| t.put_client(&client))
            .await
    }

    async fn client(&self, id: &str) -> StoreResult<Option<ClientRecord>> {
        let what = "client";
        self.read(what, |txn| {
            get_json(&txn.open_table(CLIENTS).ctx(what)?, id, what)
        })
    }

    async fn clients(&self) -> StoreResult<Vec<ClientRecord>> {
        let what = "clients";
        self.read_blocking(what, move |txn| {
            all_json(&txn.open_table(CLIENTS).ctx(what)?, what)
        })
        .await
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    fn backend(&self) -> &'static str {
        "embedded"
    }

    async fn flush(&self) -> StoreResult<()> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .writer
            .send(Request::Flush(reply), &self.inner.path, "flush")?;
        answer
            .await
            .map_err(|_| writer_gone(&self.inner.path, "flush"))?
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    use super::*;
    use crate::store::conformance;

    fn open(path: &Path) -> EmbeddedStore {
        EmbeddedStore::open(path, EmbeddedOptions::default()).expect("open the store")
    }

    fn msg(to: &str, n: u64) -> StoredMessage {
        StoredMessage {
            uuid: format!("uuid-{n}"),
            from: "alice".into(),
            to: to.into(),
            msg: format!("hello {n}"),
            sent_at_ms: n,
        }
    }

    fn topic(name: &str, creator: &str) -> TopicRecord {
        TopicRecord {
            name: name.into(),
            creator: creator.into(),
            home: "127.0.0.1:19000".into(),
            created_at_ms: 7,
        }
    }

    fn client(id: &str) -> ClientRecord {
        ClientRecord {
            id: id.into(),
            client_addr: "10.0.0.2:5555".into(),
            msg_server: "127.0.0.1:19000".into(),
            alive: true,
            last_seen_ms: 9,
        }
    }

    #[tokio::test]
    async fn passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(open(&dir.path().join("store.redb")));
        conformance::run(store.clone()).await;
        // Twice at once on the same, now non-empty, store: the suite must not trip over itself.
        tokio::join!(conformance::run(store.clone()), conformance::run(store));
    }

    #[tokio::test]
    async fn pending_total_counts_every_inbox() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("store.redb"));
        assert_eq!(store.pending_total().await.unwrap(), Some(0));
        for n in 0..3 {
            store.push(&msg("bob", n)).await.unwrap();
        }
        store.push(&msg("carol", 9)).await.unwrap();
        // A duplicate push adds nothing.
        store.push(&msg("carol", 9)).await.unwrap();
        assert_eq!(store.pending_total().await.unwrap(), Some(4));
        store.ack("bob", "uuid-1").await.unwrap();
        store.ack("bob", "uuid-1").await.unwrap();
        assert_eq!(store.pending_total().await.unwrap(), Some(3));
    }

    #[tokio::test]
    async fn open_creates_parent_directories_and_names_the_path_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/store.redb");
        let store = open(&path);
        assert_eq!(store.path(), path);
        assert_eq!(store.backend(), "embedded");

        // The file is held by `store`: a second open must fail, saying which file.
        let err = EmbeddedStore::open(&path, EmbeddedOptions::default()).unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );

        // A parent that is a file cannot become a directory.
        let blocked = dir.path().join("file");
        std::fs::write(&blocked, b"x").unwrap();
        let err = EmbeddedStore::open(&blocked.join("store.redb"), EmbeddedOptions::default())
            .unwrap_err();
        assert!(
            err.to_string().contains(&blocked.display().to_string()),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("garbage.redb");
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        let err = EmbeddedStore::open(&path, EmbeddedOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }

    /// Fills every table, so that a reopened store can be checked for all of it.
    async fn fill(store: &EmbeddedStore) {
        for n in 0..5 {
            store.push(&msg("bob", n)).await.unwrap();
        }
        store.ack("bob", "uuid-1").await.unwrap().unwrap();
        assert!(store.create_topic(&topic("fish", "alice")).await.unwrap());
        assert!(store.add_member("fish", "carol").await.unwrap());
        store.put_client(&client("alice")).await.unwrap();
        let loc = SessionLoc {
            server: "127.0.0.1:19000".into(),
            conn: 3,
        };
        store.add_session("alice", &loc).await.unwrap();
    }

    async fn check_filled(store: &EmbeddedStore) {
        let uuids: Vec<_> = store
            .pending("bob")
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.uuid)
            .collect();
        assert_eq!(uuids, ["uuid-0", "uuid-2", "uuid-3", "uuid-4"]);
        assert_eq!(store.pending_count("bob").await.unwrap(), 4);
        assert_eq!(
            store.topic("fish").await.unwrap(),
            Some(topic("fish", "alice"))
        );
        assert_eq!(store.members("fish").await.unwrap(), ["alice", "carol"]);
        assert_eq!(store.clients().await.unwrap(), [client("alice")]);
        assert_eq!(store.all_sessions().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn data_survives_drop_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        // A window far longer than the test: only the durable commit on drop can save the data.
        let opts = EmbeddedOptions {
            commit_window: Duration::from_secs(3600),
        };
        let store = EmbeddedStore::open(&path, opts.clone()).unwrap();
        fill(&store).await;
        let clone = store.clone();
        drop(store);
        // A clone keeps the store open and writable.
        clone.push(&msg("bob", 5)).await.unwrap();
        clone.ack("bob", "uuid-5").await.unwrap().unwrap();
        drop(clone);

        let store = EmbeddedStore::open(&path, opts).unwrap();
        check_filled(&store).await;
        // The sequence counter survived too: a new push goes after the old ones.
        store.push(&msg("bob", 9)).await.unwrap();
        let last = store.pending("bob").await.unwrap().pop().unwrap();
        assert_eq!(last.uuid, "uuid-9");
    }

    #[tokio::test]
    async fn flush_then_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let store = EmbeddedStore::open(
            &path,
            EmbeddedOptions {
                commit_window: Duration::from_secs(3600),
            },
        )
        .unwrap();
        fill(&store).await;
        store.flush().await.unwrap();
        drop(store);
        check_filled(&open(&path)).await;
    }

    #[tokio::test]
    async fn writes_are_visible_before_any_durable_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(
            &dir.path().join("store.redb"),
            EmbeddedOptions {
                commit_window: Duration::from_secs(3600),
            },
        )
        .unwrap();
        // With an hour's window, nothing below is fsynced before the reads.
        store.push(&msg("bob", 1)).await.unwrap();
        assert_eq!(store.pending("bob").await.unwrap(), [msg("bob", 1)]);
        assert_eq!(store.pending_count("bob").await.unwrap(), 1);
        store.put_client(&client("bob")).await.unwrap();
        assert_eq!(store.client("bob").await.unwrap(), Some(client("bob")));
        assert!(store.create_topic(&topic("t", "bob")).await.unwrap());
        assert_eq!(store.members("t").await.unwrap(), ["bob"]);
    }

    #[tokio::test]
    async fn writes_in_one_batch_see_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("store.redb"));
        // Issued together, these likely share one transaction; their answers must be as if
        // applied one after another.
        let (t, m) = (topic("t", "a"), msg("bob", 1));
        let (created, added, pushed, acked, missing) = tokio::join!(
            store.create_topic(&t),
            store.add_member("t", "b"),
            store.push(&m),
            store.ack("bob", "uuid-1"),
            store.add_member("nope", "b"),
        );
        assert!(created.unwrap());
        assert!(added.unwrap());
        pushed.unwrap();
        assert_eq!(acked.unwrap(), Some(msg("bob", 1)));
        assert_eq!(missing, Err(StoreError::NoSuchTopic("nope".into())));
        assert_eq!(store.pending_count("bob").await.unwrap(), 0);
        assert_eq!(store.members("t").await.unwrap(), ["a", "b"]);
    }

    /// A batch writes the inbox lengths and the seq counter once at its end (see
    /// `Tables::finish`): many pushes, duplicates and acks of one inbox in one batch must
    /// leave them as if applied one by one.
    #[tokio::test]
    async fn a_batch_of_pushes_and_acks_keeps_counts_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("store.redb"));
        store.push(&msg("bob", 0)).await.unwrap();
        let msgs: Vec<StoredMessage> = (0..=20).map(|n| msg("bob", n)).collect();
        let acked_uuids = [3, 0, 17, 3].map(|n| format!("uuid-{n}"));
        let carol_msg = msg("carol", 5);
        let pushes = msgs[1..].iter().map(|m| store.push(m));
        let dups = msgs.iter().map(|m| store.push(m));
        let acks = acked_uuids.iter().map(|u| store.ack("bob", u));
        let carol = store.push(&carol_msg);
        let (pushed, duplicated, acked, carol) = tokio::join!(
            futures::future::join_all(pushes),
            futures::future::join_all(dups),
            futures::future::join_all(acks),
            carol,
        );
        assert!(pushed.into_iter().chain(duplicated).all(|r| r.is_ok()));
        carol.unwrap();
        let acked: Vec<_> = acked
            .into_iter()
            .map(|r| r.unwrap().map(|m| m.sent_at_ms))
            .collect();
        assert_eq!(
            acked,
            [Some(3), Some(0), Some(17), None],
            "the second ack of 3 finds nothing"
        );
        assert_eq!(store.pending_count("bob").await.unwrap(), 18);
        assert_eq!(store.pending_count("carol").await.unwrap(), 1);
        let order: Vec<u64> = store
            .pending("bob")
            .await
            .unwrap()
            .iter()
            .map(|m| m.sent_at_ms)
            .collect();
        let want: Vec<u64> = (1..=20).filter(|n| *n != 3 && *n != 17).collect();
        assert_eq!(order, want, "push order, each once");
        // The counter moved on: a later push still comes last.
        store.push(&msg("bob", 99)).await.unwrap();
        assert_eq!(
            store
                .pending("bob")
                .await
                .unwrap()
                .last()
                .unwrap()
                .sent_at_ms,
            99
        );
        for n in want {
            store
                .ack("bob", &format!("uuid-{n}"))
                .await
                .unwrap()
                .unwrap();
        }
        store.ack("bob", "uuid-99").await.unwrap().unwrap();
        assert_eq!(store.pending_count("bob").await.unwrap(), 0);
    }

    /// What the child process of [`writes_survive_sigkill_after_one_window`] runs: write,
    /// wait well past one commit window without flushing, say so, and wait to be killed.
    #[tokio::test]
    async fn sigkill_child_process() {
        let Ok(path) = std::env::var("FISHCHAT_SIGKILL_CHILD_DB") else {
            return; // run directly by the test harness: nothing to do
        };
        let store = EmbeddedStore::open(
            Path::new(&path),
            EmbeddedOptions {
                commit_window: Duration::from_millis(20),
            },
        )
        .unwrap();
        fill(&store).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        println!("FISHCHAT-CHILD-READY");
        tokio::time::sleep(Duration::from_secs(60)).await;
        unreachable!("the parent test should have killed this process");
    }

    #[test]
    fn writes_survive_sigkill_after_one_window() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["sigkill_child_process", "--nocapture", "--test-threads=1"])
            .env("FISHCHAT_SIGKILL_CHILD_DB", &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let ready = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains("FISHCHAT-CHILD-READY"));
        child.kill().unwrap(); // SIGKILL: no destructor, no flush
        child.wait().unwrap();
        assert!(
            ready,
            "the child process never reported that it had written"
        );

        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async { check_filled(&open(&path)).await });
    }
}
