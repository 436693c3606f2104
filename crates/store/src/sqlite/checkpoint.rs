//! Copies the write-ahead log back into the database off the writer thread.
//!
//! A background thread checkpoints passively after commits. Under steady writes the log
//! would never be fully copied at a moment when no write is in progress, so it would never
//! restart from the beginning; once it is long, the background thread hands over and the
//! writer copies the small remainder between two batches, after which the next write
//! restarts the log.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::error::{SqlContext, SqliteError};
use super::schema;

/// Least time between the starts of two background checkpoints; fewer database syncs
/// compete with the writer's log syncs.
const MIN_GAP: Duration = Duration::from_millis(25);
/// Log length (in pages) at which the writer is asked to finish a checkpoint.
const FINISH_PAGES: i64 = 4_096;

/// The writer's handle on the checkpoint thread; dropping it stops the thread.
pub(crate) struct Checkpointer {
    signal: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Set by the thread when the writer should finish the checkpoint; cleared by the writer.
    finish: Arc<AtomicBool>,
}

impl Checkpointer {
    /// Starts the checkpoint thread on its own connection to `path`.
    pub fn spawn(path: &Path) -> Result<Self, SqliteError> {
        let conn = schema::open_checkpointer(path)?;
        let (signal, rx) = mpsc::sync_channel(1);
        let finish = Arc::new(AtomicBool::new(false));
        let thread_finish = Arc::clone(&finish);
        let thread = std::thread::Builder::new()
            .name("skiff-store-checkpoint".into())
            .spawn(move || run(&conn, &rx, &thread_finish))
            .map_err(SqliteError::SpawnThread)?;
        Ok(Checkpointer {
            signal: Some(signal),
            thread: Some(thread),
            finish,
        })
    }

    /// Called by the writer after each commit: wakes the thread, or finishes its checkpoint.
    pub fn committed(&self, writer: &Connection) {
        if self.finish.load(Ordering::Acquire) {
            checkpoint(writer, "PASSIVE");
            self.finish.store(false, Ordering::Release);
        }
        if let Some(signal) = &self.signal {
            match signal.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => {
                    tracing::warn!("sqlite checkpoint thread is gone");
                }
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.signal.take();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("sqlite checkpoint thread panicked");
            }
        }
    }
}

fn run(conn: &Connection, rx: &mpsc::Receiver<()>, finish: &AtomicBool) {
    while rx.recv().is_ok() {
        if finish.load(Ordering::Acquire) {
            continue;
        }
        let began = Instant::now();
        if checkpoint(conn, "PASSIVE").is_some_and(|pages| pages >= FINISH_PAGES) {
            finish.store(true, Ordering::Release);
        }
        std::thread::sleep(MIN_GAP.saturating_sub(began.elapsed()));
    }
    checkpoint(conn, "TRUNCATE");
}

/// Runs one checkpoint and returns the log's length in pages.
pub(crate) fn checkpoint(conn: &Connection, mode: &str) -> Option<i64> {
    let sql = format!("PRAGMA wal_checkpoint({mode})");
    let result = conn
        .query_row(&sql, [], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
        })
        .ctx("checkpoint the write-ahead log");
    match result {
        Ok((_busy, log_pages)) => Some(log_pages),
        Err(err) => {
            tracing::warn!(error = %err, mode, "sqlite checkpoint failed");
            None
        }
    }
}
