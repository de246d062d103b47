//! The embedded store's group-commit writer: one thread that applies every write.
//!
//! Every write goes, as a closure over the open [`Tables`], to one writer thread
//! (`writer_loop`). It drains what is queued (up to [`MAX_BATCH`] requests), applies it all in
//! one write transaction committed with [`Durability::None`] (in memory, seen by readers, not
//! fsynced) and only then answers each caller. At the latest `window` after the first such
//! commit, it makes an empty [`Durability::Immediate`] commit, which fsyncs everything before
//! it: that window bounds what a crash may lose. A batch that fails is retried write by write,
//! so one bad record fails only the write that touched it.
//!
//! A job is one write ([`Writer::write`]) or several applied in order ([`Writer::write_each`]:
//! a msg_server's batch of inbox operations, one job and so one commit).

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redb::{Database, Durability};
use tokio::sync::oneshot;
use tracing::{debug, error, warn};

use super::schema::{Context, Tables};
use crate::store::{StoreError, StoreResult};

/// The most writes (and flushes) the writer applies in one transaction; bounds how long one
/// commit takes and so how long the first caller of a batch waits. A job of more writes is
/// still applied whole.
const MAX_BATCH: usize = 1024;

/// What the writer thread is asked to do.
enum Request {
    Write(Box<dyn Job>),
    /// Make everything accepted so far durable, then answer.
    Flush(oneshot::Sender<StoreResult<()>>),
}

/// One queued request's writes, type-erased so that writes with different answers share one
/// queue: one write, or several applied in order (a batch of inbox operations).
trait Job: Send {
    /// How many writes it holds.
    fn writes(&self) -> usize;
    /// Applies write `i` inside the batch's transaction and keeps its outcome for
    /// [`Job::finish`]. `Err` where redb itself failed: the transaction must then be dropped.
    fn apply(&mut self, i: usize, tables: &mut Tables<'_>) -> StoreResult<()>;
    /// Write `i` was not committed: its transaction failed with `e`.
    fn lost(&mut self, i: usize, e: StoreError);
    /// Answers the caller with what each write came to.
    fn finish(self: Box<Self>);
}

/// Whether a write's outcome means the transaction it is in must be dropped.
fn fails_the_transaction<T>(outcome: &StoreResult<T>) -> StoreResult<()> {
    match outcome {
        // A refusal (NoSuchTopic) changed nothing; the rest of the batch may commit.
        Err(e @ (StoreError::Unavailable(_) | StoreError::Corrupt(_))) => Err(e.clone()),
        _ => Ok(()),
    }
}

fn never_applied<T>() -> StoreResult<T> {
    Err(StoreError::Unavailable("write was never applied".into()))
}

/// One write.
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
    fn writes(&self) -> usize {
        1
    }

    fn apply(&mut self, _: usize, tables: &mut Tables<'_>) -> StoreResult<()> {
        let outcome = (self.apply)(tables);
        let failed = fails_the_transaction(&outcome);
        self.outcome = Some(outcome);
        failed
    }

    fn lost(&mut self, _: usize, e: StoreError) {
        self.outcome = Some(Err(e));
    }

    fn finish(self: Box<Self>) {
        // The caller may have stopped waiting; the write stands all the same.
        let _ = self.reply.send(self.outcome.unwrap_or_else(never_applied));
    }
}

/// Several writes, one per item, applied in order and answered together.
struct EachJob<I, T, F> {
    items: Vec<I>,
    apply: F,
    outcomes: Vec<Option<StoreResult<T>>>,
    reply: oneshot::Sender<Vec<StoreResult<T>>>,
}

impl<I, T, F> Job for EachJob<I, T, F>
where
    I: Send,
    T: Send,
    F: FnMut(&mut Tables<'_>, &I) -> StoreResult<T> + Send,
{
    fn writes(&self) -> usize {
        self.items.len()
    }

    fn apply(&mut self, i: usize, tables: &mut Tables<'_>) -> StoreResult<()> {
        let outcome = (self.apply)(tables, &self.items[i]);
        let failed = fails_the_transaction(&outcome);
        self.outcomes[i] = Some(outcome);
        failed
    }

    fn lost(&mut self, i: usize, e: StoreError) {
        self.outcomes[i] = Some(Err(e));
    }

    fn finish(self: Box<Self>) {
        let answers = self
            .outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(never_applied))
            .collect();
        let _ = self.reply.send(answers);
    }
}

/// The sending half of the writer thread; dropping it stops the thread after a durable commit.
pub(super) struct Writer {
    requests: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
    /// The store's file, for messages.
    path: PathBuf,
}

impl Writer {
    /// Starts the writer thread of the store `db` (the file `path`), making writes durable
    /// at the latest `window` after they are accepted.
    pub(super) fn spawn(db: Arc<Database>, window: Duration, path: &Path) -> StoreResult<Writer> {
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
            path: path.to_path_buf(),
        })
    }

    /// Queues `apply` and waits until the batch holding it has committed.
    ///
    /// Where the caller stops waiting, the write still happens.
    pub(super) async fn write<T, F>(&self, what: &'static str, apply: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut Tables<'_>) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.send(
            Request::Write(Box::new(WriteJob {
                apply,
                outcome: None,
                reply,
            })),
            what,
        )?;
        answer.await.map_err(|_| self.gone(what))?
    }

    /// Queues one write per item as one job, and waits until the batch holding it has
    /// committed: `apply` is called on each item in order, in one transaction, and each is
    /// answered in its place. Where one fails, the others stand (see [`commit_batch`]).
    pub(super) async fn write_each<I, T, F>(
        &self,
        what: &'static str,
        items: Vec<I>,
        apply: F,
    ) -> Vec<StoreResult<T>>
    where
        I: Send + 'static,
        T: Send + 'static,
        F: FnMut(&mut Tables<'_>, &I) -> StoreResult<T> + Send + 'static,
    {
        let n = items.len();
        let (reply, answer) = oneshot::channel();
        let job = EachJob {
            outcomes: items.iter().map(|_| None).collect(),
            items,
            apply,
            reply,
        };
        let answers = match self.send(Request::Write(Box::new(job)), what) {
            Ok(()) => answer.await.map_err(|_| self.gone(what)),
            Err(e) => Err(e),
        };
        answers.unwrap_or_else(|e| (0..n).map(|_| Err(e.clone())).collect())
    }

    /// Makes everything accepted so far durable.
    pub(super) async fn flush(&self) -> StoreResult<()> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Flush(reply), "flush")?;
        answer.await.map_err(|_| self.gone("flush"))?
    }

    fn send(&self, request: Request, what: &str) -> StoreResult<()> {
        self.requests
            .as_ref()
            .and_then(|r| r.send(request).ok())
            .ok_or_else(|| self.gone(what))
    }

    fn gone(&self, what: &str) -> StoreError {
        StoreError::Unavailable(format!(
            "{what}: the writer thread of the store {} has stopped",
            self.path.display()
        ))
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
        let mut size = 0;
        let mut next = first;
        while let Some(request) = next {
            match request {
                Request::Write(job) => {
                    size += job.writes().max(1);
                    jobs.push(job);
                }
                Request::Flush(reply) => {
                    size += 1;
                    flushes.push(reply);
                }
            }
            next = if size < MAX_BATCH {
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
/// Where redb fails inside one write, the transaction is dropped and each write is retried in
/// a transaction of its own, in order, so that one bad record fails only the write that
/// touched it.
fn commit_batch(db: &Database, mut jobs: Vec<Box<dyn Job>>) -> bool {
    let committed = match in_transaction(db, |tables| {
        for job in jobs.iter_mut() {
            for i in 0..job.writes() {
                job.apply(i, tables)?;
            }
        }
        Ok(())
    }) {
        Ok(()) => true,
        Err(e) if jobs.iter().map(|j| j.writes()).sum::<usize>() <= 1 => {
            for job in jobs.iter_mut() {
                for i in 0..job.writes() {
                    job.lost(i, e.clone());
                }
            }
            false
        }
        Err(_) => {
            let mut committed = false;
            for job in jobs.iter_mut() {
                for i in 0..job.writes() {
                    match in_transaction(db, |tables| job.apply(i, tables)) {
                        Ok(()) => committed = true,
                        Err(e) => job.lost(i, e),
                    }
                }
            }
            committed
        }
    };
    for job in jobs {
        job.finish();
    }
    committed
}

/// Runs `apply` in one non-durable write transaction and commits it.
fn in_transaction(
    db: &Database,
    apply: impl FnOnce(&mut Tables<'_>) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut txn = db.begin_write().ctx("starting a write")?;
    txn.set_durability(Durability::None)
        .ctx("starting a write")?;
    {
        // The tables borrow the transaction and must be closed before it commits; an error
        // here drops the transaction, which aborts it.
        let mut tables = Tables::open(&txn)?;
        apply(&mut tables)?;
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

#[cfg(test)]
mod tests {
    use redb::ReadableDatabase;

    use super::*;
    use crate::store::embedded::schema::{get_json, CLIENTS};
    use crate::store::embedded::tests::client;
    use crate::store::{ClientRecord, StoredMessage};

    fn writer(dir: &Path) -> (Arc<Database>, Writer) {
        let path = dir.join("w.redb");
        let db = Arc::new(Database::create(&path).unwrap());
        let writer = Writer::spawn(db.clone(), Duration::from_millis(50), &path).unwrap();
        (db, writer)
    }

    fn stored(db: &Database, id: &str) -> Option<ClientRecord> {
        let txn = db.begin_read().unwrap();
        get_json(&txn.open_table(CLIENTS).unwrap(), id, "test").unwrap()
    }

    /// What [`client_write`] does with its client.
    #[derive(Clone, Copy)]
    enum Outcome {
        Stored,
        /// Written, then failed as redb would: the transaction must be dropped.
        Broken,
        /// Refused without a change: the rest of the transaction may commit.
        Refused,
    }

    fn client_write(
        t: &mut Tables<'_>,
        (id, outcome): &(&'static str, Outcome),
    ) -> StoreResult<()> {
        t.put_client(&client(id))?;
        match outcome {
            Outcome::Stored => Ok(()),
            Outcome::Broken => Err(StoreError::Corrupt(format!("{id} is broken"))),
            Outcome::Refused => Err(StoreError::NoSuchTopic(id.to_string())),
        }
    }

    #[tokio::test]
    async fn a_job_of_several_writes_applies_them_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (_db, writer) = writer(dir.path());
        let m = StoredMessage {
            uuid: "u1".into(),
            from: "alice".into(),
            to: "bob".into(),
            msg: "hi".into(),
            sent_at_ms: 1,
            claims_uuid: false,
        };
        // Each write sees the one before it: pushed, acked (found), pushed again, acked again.
        let answers = writer
            .write_each("test", vec![0, 1, 2, 3], move |t, n| {
                if n % 2 == 0 {
                    t.push(&m).map(|()| None)
                } else {
                    t.ack("bob", "u1")
                }
            })
            .await;
        let found: Vec<_> = answers
            .into_iter()
            .map(|a| a.unwrap().map(|m| m.uuid))
            .collect();
        assert_eq!(found, [None, Some("u1".into()), None, Some("u1".into())]);
    }

    #[tokio::test]
    async fn a_broken_write_of_a_job_fails_alone_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (db, writer) = writer(dir.path());
        let items = vec![
            ("a", Outcome::Stored),
            ("b", Outcome::Broken),
            ("c", Outcome::Refused),
            ("d", Outcome::Stored),
        ];
        let answers = writer.write_each("test", items, client_write).await;
        assert_eq!(
            answers,
            [
                Ok(()),
                Err(StoreError::Corrupt("b is broken".into())),
                Err(StoreError::NoSuchTopic("c".into())),
                Ok(())
            ]
        );
        assert_eq!(stored(&db, "a"), Some(client("a")));
        assert_eq!(stored(&db, "b"), None, "the broken write was rolled back");
        assert_eq!(stored(&db, "d"), Some(client("d")));
    }

    #[tokio::test]
    async fn a_broken_job_of_a_batch_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (db, writer) = writer(dir.path());
        // The first job holds the writer thread until the others are queued, so that they
        // are drained together into one batch.
        let (started, has_started) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let hold = writer.write("hold", move |_| {
            let _ = started.send(());
            let _ = released.recv();
            Ok(())
        });
        let batch = async {
            has_started.recv().unwrap();
            let jobs = futures::future::join3(
                writer.write("test", |t| client_write(t, &("a", Outcome::Stored))),
                writer.write("test", |t| client_write(t, &("b", Outcome::Broken))),
                writer.write("test", |t| client_write(t, &("c", Outcome::Stored))),
            );
            // join polls the jobs first, which queues them, then lets the first job finish.
            let (answers, ()) = futures::future::join(jobs, async {
                release.send(()).unwrap();
            })
            .await;
            answers
        };
        let (held, (a, b, c)) = tokio::join!(hold, batch);
        held.unwrap();
        a.unwrap();
        assert_eq!(b, Err(StoreError::Corrupt("b is broken".into())));
        c.unwrap();
        assert_eq!(stored(&db, "a"), Some(client("a")));
        assert_eq!(stored(&db, "b"), None, "the broken write was rolled back");
        assert_eq!(stored(&db, "c"), Some(client("c")));
    }

    #[tokio::test]
    async fn an_empty_job_answers_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (_db, writer) = writer(dir.path());
        let answers = writer
            .write_each("test", Vec::<u8>::new(), |_, _| Ok(()))
            .await;
        assert!(answers.is_empty());
        writer.flush().await.unwrap();
    }
}
