//! Read-only queries, run on pooled connections off the async runtime.

use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::{Connection, Row};

use super::error::{SqlContext, SqliteError};
use super::schema::{self, Meta};
use super::Shared;
use crate::error::{Error, Result};
use crate::types::{
    list_start, prefix_end, Event, EventKind, KeyValue, ListOptions, ListResult, Revision,
};

/// Idle read-only connections, opened on demand.
pub(crate) struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
}

impl ReadPool {
    /// Creates an empty pool for the database at `path`.
    pub fn new(path: PathBuf, max_idle: usize) -> Self {
        ReadPool {
            path,
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    /// Runs `f` on an idle connection (or a new one) and returns the connection to the pool.
    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let pooled = self.idle.lock().pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => schema::open_reader(&self.path)?,
        };
        let out = f(&mut conn);
        let mut idle = self.idle.lock();
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
        out
    }
}

/// Runs a read on the blocking thread pool.
pub(crate) async fn run<T, F>(shared: &Arc<Shared>, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
{
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || shared.pool.with(f))
        .await
        .map_err(SqliteError::ReadTask)?
}

/// Returns the live value of `key`.
pub(crate) fn get(conn: &mut Connection, key: &str) -> Result<Option<KeyValue>> {
    let mut stmt = conn
        .prepare_cached("SELECT key, value, create_revision, mod_revision FROM kv WHERE key = ?1")
        .ctx("prepare get")?;
    let mut rows = stmt.query([key.as_bytes()]).ctx("get a key")?;
    match rows.next().ctx("get a key")? {
        Some(row) => Ok(Some(kv_from_row(row)?)),
        None => Ok(None),
    }
}

/// Live values from `kv` (parameters: low key, high key, limit).
const LIST_LATEST: &str = "SELECT key, value, create_revision, mod_revision FROM kv
    WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3";
const COUNT_LATEST: &str = "SELECT COUNT(*) FROM kv WHERE key >= ?1 AND key < ?2";
/// Each key's newest log row at or below a past revision, unless it is a delete
/// (parameters: low key, high key, limit, revision).
const LIST_AT: &str = "SELECT key, value, create_revision, revision FROM (
    SELECT key, value, create_revision, MAX(revision) AS revision FROM log
    WHERE key >= ?1 AND key < ?2 AND revision <= ?4 GROUP BY key
) WHERE value IS NOT NULL ORDER BY key LIMIT ?3";
const COUNT_AT: &str = "SELECT COUNT(*) FROM (
    SELECT value, MAX(revision) FROM log
    WHERE key >= ?1 AND key < ?2 AND revision <= ?4 GROUP BY key
) WHERE value IS NOT NULL";

/// Lists keys with `prefix` in one read transaction.
pub(crate) fn list(conn: &mut Connection, prefix: &str, opts: &ListOptions) -> Result<ListResult> {
    let tx = conn.transaction().ctx("begin read transaction")?;
    let meta = schema::load_meta(&tx)?;
    let revision = match opts.revision {
        None | Some(0) => meta.current,
        Some(rev) => rev,
    };
    check_readable(meta, revision)?;
    let limit = opts.limit.filter(|&l| l > 0);
    let sql_limit = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let lo = list_start(prefix, opts.start_after.as_deref());
    let hi = prefix_end(prefix);
    let all_params = rusqlite::params![lo, hi, sql_limit, revision];
    let (select, count, params) = if revision == meta.current {
        (LIST_LATEST, COUNT_LATEST, &all_params[..3])
    } else {
        (LIST_AT, COUNT_AT, all_params)
    };
    let mut items = Vec::new();
    {
        let mut stmt = tx.prepare_cached(select).ctx("prepare list")?;
        let mut rows = stmt.query(params).ctx("list keys")?;
        while let Some(row) = rows.next().ctx("list keys")? {
            items.push(kv_from_row(row)?);
        }
    }
    let mut remaining = 0;
    if limit.is_some_and(|l| items.len() >= l) {
        let count_params = if params.len() == 3 {
            &params[..2]
        } else {
            params
        };
        let total: i64 = tx
            .prepare_cached(count)
            .and_then(|mut stmt| stmt.query_row(count_params, |row| row.get(0)))
            .ctx("count remaining keys")?;
        remaining = u64::try_from(total)
            .unwrap_or(0)
            .saturating_sub(items.len() as u64);
    }
    Ok(ListResult {
        items,
        revision,
        remaining,
    })
}

/// Events a watch replays from the log, and the revision the replay is complete through.
pub(crate) struct EventPage {
    /// Matching events in revision order.
    pub events: Vec<Event>,
    /// Every matching event at or below this revision is in `events` or was before `after`.
    pub through: Revision,
}

/// Returns up to `limit` events for keys with `prefix` and revision > `after`.
pub(crate) fn events_after(
    conn: &mut Connection,
    prefix: &str,
    after: Revision,
    limit: usize,
) -> Result<EventPage> {
    let tx = conn.transaction().ctx("begin read transaction")?;
    let meta = schema::load_meta(&tx)?;
    if after < meta.compacted {
        return Err(compacted(meta));
    }
    let mut stmt = tx
        .prepare_cached(
            "SELECT l.revision, l.key, l.value, l.create_revision, l.prev_revision, p.value
             FROM log l LEFT JOIN log p ON p.revision = l.prev_revision
             WHERE l.revision > ?1 AND l.key >= ?2 AND l.key < ?3
             ORDER BY l.revision LIMIT ?4",
        )
        .ctx("prepare log replay")?;
    let sql_limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let params = rusqlite::params![after, prefix.as_bytes(), prefix_end(prefix), sql_limit];
    let mut rows = stmt.query(params).ctx("replay the log")?;
    let mut events = Vec::new();
    while let Some(row) = rows.next().ctx("replay the log")? {
        events.push(event_from_row(row)?);
    }
    let through = match events.last() {
        Some(last) if events.len() >= limit => last.revision(),
        _ => meta.current,
    };
    Ok(EventPage { events, through })
}

fn check_readable(meta: Meta, revision: Revision) -> Result<()> {
    if revision > meta.current {
        return Err(Error::FutureRevision {
            requested: revision,
            current: meta.current,
        });
    }
    if revision < meta.compacted || revision < 0 {
        return Err(compacted(meta));
    }
    Ok(())
}

fn compacted(meta: Meta) -> Error {
    Error::Compacted {
        compact_revision: meta.compacted,
        current_revision: meta.current,
    }
}

fn key_from_bytes(bytes: Vec<u8>) -> Result<String, SqliteError> {
    String::from_utf8(bytes).map_err(|e| SqliteError::Corrupt(format!("key is not UTF-8: {e}")))
}

/// Reads `key, value, create_revision, mod_revision`.
fn kv_from_row(row: &Row<'_>) -> Result<KeyValue> {
    let read =
        || -> rusqlite::Result<_> { Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)) };
    let (key, value, create_revision, mod_revision) = read().ctx("read a row")?;
    Ok(KeyValue {
        key: key_from_bytes(key)?,
        value,
        create_revision,
        mod_revision,
    })
}

/// A `log` row joined with its predecessor's value.
type LogRow = (
    Revision,
    Vec<u8>,
    Option<Vec<u8>>,
    Revision,
    Revision,
    Option<Vec<u8>>,
);

/// Reads `revision, key, value, create_revision, prev_revision, prev value` into an event.
fn event_from_row(row: &Row<'_>) -> Result<Event> {
    let read = || -> rusqlite::Result<LogRow> {
        Ok((
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(4)?,
            row.get(5)?,
        ))
    };
    let (revision, key, value, create_revision, prev_revision, prev_value) =
        read().ctx("read a log row")?;
    let key = key_from_bytes(key)?;
    let prev = prev_value
        .filter(|_| prev_revision > 0)
        .map(|value| KeyValue {
            key: key.clone(),
            value,
            create_revision,
            mod_revision: prev_revision,
        });
    let (kind, value) = match value {
        Some(value) => (EventKind::Put, value),
        None => match &prev {
            Some(prev) => (EventKind::Delete, prev.value.clone()),
            None => {
                return Err(SqliteError::Corrupt(format!(
                    "delete of {key} at revision {revision} has no previous value in the log"
                ))
                .into())
            }
        },
    };
    let kv = KeyValue {
        key,
        value,
        create_revision,
        mod_revision: revision,
    };
    Ok(Event { kind, kv, prev })
}
