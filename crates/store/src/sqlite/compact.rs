//! Dropping old history: the retention policy and the compaction statements.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};

use super::error::{SqlContext, SqliteError};
use super::options::SqliteOptions;
use crate::types::Revision;

/// Most revisions one compaction transaction covers, so writers never wait long.
pub(crate) const STEP: Revision = 2_000;

/// Chooses the automatic compaction point: older than both `keep_revisions` and `keep_for`.
#[derive(Debug)]
pub(crate) struct Retention {
    keep_revisions: Revision,
    keep_for: Duration,
    interval: Duration,
    /// (time, current revision then), oldest first; at most one sample older than `keep_for`.
    samples: VecDeque<(Instant, Revision)>,
    next_tick: Instant,
}

impl Retention {
    /// Starts sampling at `now`, when the store is at `current`.
    pub fn new(
        keep_revisions: Revision,
        keep_for: Duration,
        interval: Duration,
        now: Instant,
        current: Revision,
    ) -> Self {
        Retention {
            keep_revisions,
            keep_for,
            interval,
            samples: VecDeque::from([(now, current)]),
            next_tick: now + interval,
        }
    }

    /// Builds the policy `opts` ask for, if automatic compaction is on.
    pub fn from_options(opts: &SqliteOptions, now: Instant, current: Revision) -> Option<Self> {
        let interval = opts.compaction_interval?;
        Some(Retention::new(
            opts.keep_revisions,
            opts.keep_for,
            interval,
            now,
            current,
        ))
    }

    /// When the next sample is due.
    pub fn next_tick(&self) -> Instant {
        self.next_tick
    }

    /// Records `current` at `now` and returns the newest revision that may be compacted.
    pub fn tick(&mut self, now: Instant, current: Revision) -> Revision {
        self.next_tick = now + self.interval;
        self.samples.push_back((now, current));
        while self.samples.len() >= 2 && self.samples[1].0 + self.keep_for <= now {
            self.samples.pop_front();
        }
        let by_time = match self.samples.front() {
            Some(&(at, revision)) if at + self.keep_for <= now => revision,
            _ => 0,
        };
        by_time.min(current - self.keep_revisions).max(0)
    }
}

/// Drops history in (`from`, `to`]: every row superseded by a row in that range, and its deletes.
///
/// Rows at or below `from` were already reduced to each key's newest row, so a row becomes
/// obsolete exactly when its successor (the row naming it as `prev_revision`) is at or below
/// `to`; the newest row of every live key always survives.
pub(crate) fn compact_step(
    conn: &mut Connection,
    from: Revision,
    to: Revision,
) -> Result<(), SqliteError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx("begin compaction")?;
    tx.prepare_cached(
        "DELETE FROM log WHERE revision IN (
             SELECT prev_revision FROM log
             WHERE revision > ?1 AND revision <= ?2 AND prev_revision > 0)",
    )
    .and_then(|mut stmt| stmt.execute([from, to]))
    .ctx("drop superseded log rows")?;
    tx.prepare_cached("DELETE FROM log WHERE revision > ?1 AND revision <= ?2 AND value IS NULL")
        .and_then(|mut stmt| stmt.execute([from, to]))
        .ctx("drop compacted deletes")?;
    tx.prepare_cached("UPDATE meta SET compacted_revision = ?1 WHERE id = 0")
        .and_then(|mut stmt| stmt.execute([to]))
        .ctx("record the compacted revision")?;
    tx.commit().ctx("commit compaction")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn keeps_both_the_revision_count_and_the_time_window() {
        let t0 = Instant::now();
        let mut r = Retention::new(100, 5 * MIN, MIN, t0, 1);
        // Young history is kept however many revisions it holds.
        assert_eq!(r.tick(t0 + MIN, 5_000), 0);
        assert_eq!(r.tick(t0 + 4 * MIN, 20_000), 0);
        // At 5 minutes, everything written before open (revision 1) is old enough.
        assert_eq!(r.tick(t0 + 5 * MIN, 21_000), 1);
        // At 6 minutes, what existed at minute 1 is old enough.
        assert_eq!(r.tick(t0 + 6 * MIN, 22_000), 5_000);
        // Old history within the last `keep_revisions` revisions stays.
        assert_eq!(r.tick(t0 + 60 * MIN, 22_050), 21_950);
        assert!(r.next_tick() == t0 + 61 * MIN);
    }

    #[test]
    fn never_targets_below_zero() {
        let t0 = Instant::now();
        let mut r = Retention::new(10_000, Duration::ZERO, MIN, t0, 1);
        assert_eq!(r.tick(t0 + MIN, 50), 0);
    }
}
