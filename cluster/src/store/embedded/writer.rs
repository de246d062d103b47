//! The embedded store's group-commit writer: one thread that applies every write.
//!
//! Every write goes, as a closure over the open [`Tables`], to one writer thread
//! (`writer_loop`). It drains what is queued (up to [`MAX_BATCH`] requests), applies it all in
//! one write transaction committed with [`Durability::None`] (in memory, seen by readers, not
//! fsynced) and only then answers each caller. At the latest `window` after the first such
//! commit, it makes an empty [`Durability::Immediate`] commit, which fsyncs everything before
//! it: that window bounds what a crash may lose. A batch that fails is retried job by job, so
//! one bad record fails only the write that touched it.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redb::{Database, Durability};
use tokio::sync::oneshot;
use tracing::{debug, error, warn};

use super::schema::{Context, Tables};
use crate::store::{StoreError, StoreResult};

/// The most requests the writer applies in one transaction; bounds how long one commit takes
/// and so how long the first caller of a batch waits.
const MAX_BATCH: usize = 1024;

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
