//! Tuning knobs of the SQLite backend.

use std::time::Duration;

use crate::types::Revision;

/// How a [`super::SqliteStore`] retains history, batches writes and buffers watch events.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Automatic compaction always keeps at least this many recent revisions.
    pub keep_revisions: Revision,
    /// Automatic compaction always keeps at least this much recent history.
    pub keep_for: Duration,
    /// How often automatic compaction runs; `None` turns it off.
    pub compaction_interval: Option<Duration>,
    /// Recent events kept in memory for watches that start behind or fall behind.
    pub watch_buffer: usize,
    /// Events queued for one watcher before it counts as lagging and catches up on its own.
    pub watch_channel: usize,
    /// Most writes committed together in one transaction.
    pub max_batch: usize,
    /// Longest a batch waits for writers from the previous batch to send their next write.
    pub max_linger: Duration,
    /// Idle read-only connections kept open.
    pub read_connections: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            keep_revisions: 10_000,
            keep_for: Duration::from_secs(5 * 60),
            compaction_interval: Some(Duration::from_secs(60)),
            watch_buffer: 10_000,
            watch_channel: 1_024,
            max_batch: 256,
            max_linger: Duration::from_millis(2),
            read_connections: 8,
        }
    }
}

impl SqliteOptions {
    /// Returns these options with automatic compaction turned off.
    #[must_use]
    pub fn without_auto_compaction(mut self) -> Self {
        self.compaction_interval = None;
        self
    }
}
