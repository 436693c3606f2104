//! The writer thread: group commit of queued writes, one fsync per batch, then events and replies.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

pub(crate) use super::apply::WriteOp;
use super::checkpoint::Checkpointer;
use super::compact::{self, Retention};
use super::error::{SqlContext, SqliteError};
use super::options::SqliteOptions;
use super::schema::Meta;
use super::{apply, Shared};
use crate::error::{Error, Result};
use crate::types::{Event, KeyValue, Revision};

/// A request queued for the writer thread.
enum Request {
    Write {
        op: WriteOp,
        reply: oneshot::Sender<Result<KeyValue>>,
    },
    Compact {
        revision: Revision,
        reply: oneshot::Sender<Result<()>>,
    },
}

/// The store's side of the writer thread.
pub(crate) struct WriterHandle {
    tx: Mutex<Option<mpsc::Sender<Request>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl WriterHandle {
    /// Starts the writer thread on `conn`.
    pub fn spawn(
        path: &Path,
        conn: Connection,
        meta: Meta,
        shared: Arc<Shared>,
        opts: &SqliteOptions,
    ) -> Result<Self> {
        let retention = Retention::from_options(opts, Instant::now(), meta.current);
        let writer = Writer {
            conn,
            checkpointer: Checkpointer::spawn(path)?,
            shared,
            current: meta.current,
            compacted: meta.compacted,
            compact_target: meta.compacted,
            retention,
            max_batch: opts.max_batch.max(1),
            max_linger: opts.max_linger,
            last_batch: 0,
            last_commit: Duration::ZERO,
        };
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("skiff-store-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(SqliteError::SpawnThread)?;
        Ok(WriterHandle {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues a write and waits until it is durable (or refused).
    pub async fn write(&self, op: WriteOp) -> Result<KeyValue> {
        let (reply, rx) = oneshot::channel();
        self.send(Request::Write { op, reply })?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Compacts history up to `revision` and waits until done.
    pub async fn compact(&self, revision: Revision) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.send(Request::Compact { revision, reply })?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Lets the thread finish what is queued, then waits for it to exit.
    pub fn close(&self) {
        self.tx.lock().take();
        let thread = self.thread.lock().take();
        if let Some(thread) = thread {
            if thread.join().is_err() {
                tracing::error!("sqlite store writer thread panicked");
            }
        }
    }

    fn send(&self, request: Request) -> Result<()> {
        let tx = self.tx.lock();
        let tx = tx.as_ref().ok_or(Error::Closed)?;
        tx.send(request).map_err(|_| Error::Closed)
    }
}

/// The state owned by the writer thread.
struct Writer {
    conn: Connection,
    checkpointer: Checkpointer,
    shared: Arc<Shared>,
    current: Revision,
    compacted: Revision,
    /// Automatic compaction proceeds towards this revision in steps between batches.
    compact_target: Revision,
    retention: Option<Retention>,
    max_batch: usize,
    max_linger: Duration,
    /// Writes in the last batch: roughly how many writers are active.
    last_batch: usize,
    /// How long the last batch took to apply and commit.
    last_commit: Duration,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Request>) {
        loop {
            let wait = if self.compact_target > self.compacted {
                Some(Duration::ZERO)
            } else {
                self.retention
                    .as_ref()
                    .map(|r| r.next_tick().saturating_duration_since(Instant::now()))
            };
            let first = match wait {
                Some(wait) => match rx.recv_timeout(wait) {
                    Ok(request) => Some(request),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                },
                None => match rx.recv() {
                    Ok(request) => Some(request),
                    Err(_) => break,
                },
            };
            if let Some(first) = first {
                let batch = self.gather(first, &rx);
                self.run_batch(batch);
            }
            self.maintain();
        }
        tracing::debug!(revision = self.current, "sqlite store writer stopped");
    }

    /// Collects queued requests after `first`; while fewer are queued than the last batch held,
    /// waits up to half the last commit's duration for the rest of those writers to come back.
    fn gather(&mut self, first: Request, rx: &mpsc::Receiver<Request>) -> Vec<Request> {
        let mut batch = vec![first];
        while batch.len() < self.max_batch {
            match rx.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let expect = self.last_batch.min(self.max_batch);
        if batch.len() < expect {
            let deadline = Instant::now() + (self.last_commit / 2).min(self.max_linger);
            while batch.len() < expect {
                match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
        }
        batch
    }

    fn run_batch(&mut self, batch: Vec<Request>) {
        let mut writes = Vec::with_capacity(batch.len());
        let mut compactions = Vec::new();
        for request in batch {
            match request {
                Request::Write { op, reply } => writes.push((op, reply)),
                Request::Compact { revision, reply } => compactions.push((revision, reply)),
            }
        }
        if !writes.is_empty() {
            self.commit_writes(writes);
        }
        for (revision, reply) in compactions {
            // The caller may have gone away; the compaction still happened.
            let _ = reply.send(self.compact_to(revision));
        }
    }

    /// Applies `writes` in one transaction, publishes their events, then answers each.
    fn commit_writes(&mut self, writes: Vec<(WriteOp, oneshot::Sender<Result<KeyValue>>)>) {
        let (ops, replies): (Vec<_>, Vec<_>) = writes.into_iter().unzip();
        let began = Instant::now();
        self.last_batch = ops.len();
        let result = self.apply_all(ops);
        self.last_commit = began.elapsed();
        match result {
            Ok((outcomes, revision)) => {
                self.current = revision;
                self.shared.current.store(revision, Ordering::Release);
                let outcomes: Vec<Result<Arc<Event>>> =
                    outcomes.into_iter().map(|o| o.map(Arc::new)).collect();
                let events: Vec<Arc<Event>> = outcomes
                    .iter()
                    .filter_map(|o| o.as_ref().ok().cloned())
                    .collect();
                self.shared.hub.publish(&events);
                for (outcome, reply) in outcomes.into_iter().zip(replies) {
                    // A caller that stopped waiting still had its write applied.
                    let _ = reply.send(outcome.map(|event| event.kv.clone()));
                }
                self.checkpointer.committed(&self.conn);
            }
            Err(err) => {
                tracing::error!(error = %err, "sqlite write batch failed");
                let err = Arc::new(err);
                for reply in replies {
                    let _ = reply.send(Err(SqliteError::BatchFailed(Arc::clone(&err)).into()));
                }
            }
        }
    }

    fn apply_all(
        &mut self,
        ops: Vec<WriteOp>,
    ) -> Result<(Vec<Result<Event>>, Revision), SqliteError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("begin write transaction")?;
        let mut revision = self.current;
        let mut outcomes = Vec::with_capacity(ops.len());
        for op in ops {
            let outcome = apply::apply(&tx, op, revision + 1)?;
            if outcome.is_ok() {
                revision += 1;
            }
            outcomes.push(outcome);
        }
        if revision != self.current {
            tx.prepare_cached("UPDATE meta SET current_revision = ?1 WHERE id = 0")
                .and_then(|mut stmt| stmt.execute([revision]))
                .ctx("record the current revision")?;
        }
        tx.commit().ctx("commit writes")?;
        Ok((outcomes, revision))
    }

    /// Compacts through `revision` now, in steps.
    fn compact_to(&mut self, revision: Revision) -> Result<()> {
        if revision > self.current {
            return Err(Error::FutureRevision {
                requested: revision,
                current: self.current,
            });
        }
        while self.compacted < revision {
            self.compact_step(revision)?;
        }
        Ok(())
    }

    fn compact_step(&mut self, target: Revision) -> Result<(), SqliteError> {
        let to = target.min(self.compacted + compact::STEP);
        compact::compact_step(&mut self.conn, self.compacted, to)?;
        self.checkpointer.committed(&self.conn);
        self.compacted = to;
        self.shared.compacted.store(to, Ordering::Release);
        tracing::debug!(revision = to, "compacted sqlite store history");
        Ok(())
    }

    /// Samples retention when due and advances automatic compaction by one step.
    fn maintain(&mut self) {
        if let Some(retention) = &mut self.retention {
            let now = Instant::now();
            if now >= retention.next_tick() {
                let target = retention.tick(now, self.current);
                self.compact_target = self.compact_target.max(target);
            }
        }
        if self.compact_target > self.compacted {
            if let Err(err) = self.compact_step(self.compact_target) {
                tracing::error!(error = %err, "sqlite store compaction failed");
                // Retry at the next retention tick rather than spinning.
                self.compact_target = self.compacted;
            }
        }
    }
}
