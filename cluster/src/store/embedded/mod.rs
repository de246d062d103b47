//! The default store: one redb file on disk, written through one group-committing thread.
//!
//! Durability: a write is *accepted* when its `async fn` returns `Ok`. Accepted writes are
//! visible to every read at once, and they survive a clean stop ([`Store::flush`], or dropping
//! the last handle). After a crash or SIGKILL, at most the last
//! [`EmbeddedOptions::commit_window`] of accepted writes may be lost; everything older is on
//! disk. Nothing is ever half applied: each write lands whole or not at all. A write whose
//! caller stops waiting (its future dropped) may still be applied.
//!
//! How: every write goes to one group-committing writer thread ([`writer`]), which applies
//! what is queued in one transaction, commits it without an fsync and answers, then fsyncs
//! within `commit_window`. Reads open their own read transaction on the caller's thread (see
//! `EmbeddedStore::read`). The tables, their keys and the writes on them are in [`schema`].
//!
//! The traits and the record types are in [`super`]; [`super::conformance`] is the test suite
//! this backend must pass.

mod schema;
#[cfg(test)]
pub(crate) mod tests;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition,
};
use tracing::debug;

use self::schema::*;
use self::writer::Writer;
use super::{
    Account, AccountStore, ClientRecord, ClientStore, Device, InboxOp, InboxResult, InboxStore,
    SessionLoc, SessionStore, Store, StoreError, StoreResult, StoredMessage, TopicRecord,
    TopicStore,
};

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
            crate::private::create_dir(parent).map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot create directory {} for the store {shown}: {e}",
                    parent.display()
                ))
            })?;
        }
        // Made readable by its owner only before redb writes anything to it (redb takes an
        // empty file for a new database).
        crate::private::options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot create the store {shown}: {e}"))
            })?;
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
        self.inner.writer.write(what, apply).await
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
        self.read("members", |txn| {
            ids_of_topic(txn, TOPIC_MEMBERS, topic, "members")
        })
    }

    async fn remove_member(&self, topic: &str, id: &str) -> StoreResult<bool> {
        let (topic, id) = (topic.to_owned(), id.to_owned());
        self.write("remove_member", move |t| t.remove_member(&topic, &id))
            .await
    }

    async fn set_invited(&self, topic: &str, id: &str, invited: bool) -> StoreResult<bool> {
        let (topic, id) = (topic.to_owned(), id.to_owned());
        self.write("set_invited", move |t| t.set_invited(&topic, &id, invited))
            .await
    }

    async fn invited(&self, topic: &str) -> StoreResult<Vec<String>> {
        self.read("invited", |txn| {
            ids_of_topic(txn, TOPIC_INVITED, topic, "invited")
        })
    }
}

/// The ids `table` holds for `topic` (its members, or those invited), ordered by id;
/// `NoSuchTopic` where the topic does not exist.
fn ids_of_topic(
    txn: &ReadTransaction,
    table: TableDefinition<(&str, &str), ()>,
    topic: &str,
    what: &str,
) -> StoreResult<Vec<String>> {
    // Both tables from one snapshot, so an id list never outlives its topic.
    if txn
        .open_table(TOPICS)
        .ctx(what)?
        .get(topic)
        .ctx(what)?
        .is_none()
    {
        return Err(StoreError::NoSuchTopic(topic.to_owned()));
    }
    let table = txn.open_table(table).ctx(what)?;
    let mut out = Vec::new();
    for entry in table.range((topic, "")..).ctx(what)? {
        let (key, _) = entry.ctx(what)?;
        let (t, id) = key.value();
        if t != topic {
            break;
        }
        out.push(id.to_owned());
    }
    Ok(out)
}

#[async_trait]
impl InboxStore for EmbeddedStore {
    async fn push(&self, msg: &StoredMessage) -> StoreResult<()> {
        let msg = msg.clone();
        self.write("push", move |t| t.push(&msg)).await
    }

    async fn claim_message_id(&self, uuid: &str, from: &str) -> StoreResult<bool> {
        let (uuid, from) = (uuid.to_owned(), from.to_owned());
        self.write("claim_message_id", move |t| {
            t.claim_message_id(&uuid, &from)
        })
        .await
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

    /// One job for the writer: the whole batch is applied in one transaction, in order, and
    /// commits once (with whatever else was queued).
    async fn apply_batch(&self, ops: &[InboxOp]) -> Vec<InboxResult> {
        if ops.is_empty() {
            return Vec::new();
        }
        self.inner
            .writer
            .write_each("apply_batch", ops.to_vec(), |t, op| match op {
                InboxOp::Push(msg) => t.push(msg).map(|()| None),
                InboxOp::Ack { id, uuid } => t.ack(id, uuid),
            })
            .await
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
impl AccountStore for EmbeddedStore {
    async fn create_account(&self, account: &Account) -> StoreResult<bool> {
        let account = account.clone();
        self.write("create_account", move |t| t.create_account(&account))
            .await
    }

    async fn account(&self, id: &str) -> StoreResult<Option<Account>> {
        let what = "account";
        self.read(what, |txn| {
            get_json(&txn.open_table(ACCOUNTS).ctx(what)?, id, what)
        })
    }

    async fn accounts(&self) -> StoreResult<Vec<Account>> {
        let what = "accounts";
        self.read_blocking(what, move |txn| {
            all_json(&txn.open_table(ACCOUNTS).ctx(what)?, what)
        })
        .await
    }

    async fn set_password(&self, id: &str, password_hash: &str) -> StoreResult<bool> {
        let (id, hash) = (id.to_owned(), password_hash.to_owned());
        self.write("set_password", move |t| t.set_password(&id, &hash))
            .await
    }

    async fn delete_account(&self, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        self.write("delete_account", move |t| t.delete_account(&id))
            .await
    }

    async fn put_device(&self, id: &str, device: &Device) -> StoreResult<bool> {
        let (id, device) = (id.to_owned(), device.clone());
        self.write("put_device", move |t| t.put_device(&id, &device))
            .await
    }

    async fn touch_device(&self, id: &str, device_id: &str, at_ms: u64) -> StoreResult<bool> {
        let (id, device_id) = (id.to_owned(), device_id.to_owned());
        self.write("touch_device", move |t| {
            t.touch_device(&id, &device_id, at_ms)
        })
        .await
    }

    async fn devices(&self, id: &str) -> StoreResult<Vec<Device>> {
        let what = "devices";
        let mut devices: Vec<Device> = self.read(what, |txn| {
            let table = txn.open_table(DEVICES).ctx(what)?;
            let mut out = Vec::new();
            for entry in table.range((id, "")..).ctx(what)? {
                let (key, record) = entry.ctx(what)?;
                if key.value().0 != id {
                    break;
                }
                out.push(decode(what, record.value())?);
            }
            Ok(out)
        })?;
        // Stored by device id; answered in the order they were made.
        devices
            .sort_by(|a, b| (a.created_at_ms, &a.device_id).cmp(&(b.created_at_ms, &b.device_id)));
        Ok(devices)
    }

    async fn remove_device(&self, id: &str, device_id: &str) -> StoreResult<bool> {
        let (id, device_id) = (id.to_owned(), device_id.to_owned());
        self.write("remove_device", move |t| t.remove_device(&id, &device_id))
            .await
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    fn backend(&self) -> &'static str {
        "embedded"
    }

    async fn flush(&self) -> StoreResult<()> {
        self.inner.writer.flush().await
    }
}
