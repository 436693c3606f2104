//! One write inside the writer's open transaction: the CAS check, then the `kv` and `log` rows.

use rusqlite::Connection;

use super::error::{SqlContext, SqliteError};
use crate::error::Error;
use crate::types::{Event, EventKind, KeyValue, Revision};

/// A write request's operation.
#[derive(Debug)]
pub(crate) enum WriteOp {
    /// Create a key that is not live.
    Create { key: String, value: Vec<u8> },
    /// Replace a key whose `mod_revision` is `expected`.
    Update {
        key: String,
        value: Vec<u8>,
        expected: Revision,
    },
    /// Delete a key, checking its `mod_revision` when `expected` is given.
    Delete {
        key: String,
        expected: Option<Revision>,
    },
}

/// Applies `op` at `revision`; the outer error aborts the batch, the inner one only this write.
pub(crate) fn apply(
    tx: &Connection,
    op: WriteOp,
    revision: Revision,
) -> Result<Result<Event, Error>, SqliteError> {
    match op {
        WriteOp::Create { key, value } => {
            if live(tx, &key)?.is_some() {
                return Ok(Err(Error::AlreadyExists));
            }
            tx.prepare_cached(
                "INSERT INTO kv (key, value, create_revision, mod_revision) VALUES (?1, ?2, ?3, ?3)",
            )
            .and_then(|mut stmt| stmt.execute(rusqlite::params![key.as_bytes(), value, revision]))
            .ctx("insert a live value")?;
            append_log(tx, revision, &key, Some(&value), revision, 0)?;
            let kv = KeyValue {
                key,
                value,
                create_revision: revision,
                mod_revision: revision,
            };
            Ok(Ok(Event {
                kind: EventKind::Put,
                kv,
                prev: None,
            }))
        }
        WriteOp::Update {
            key,
            value,
            expected,
        } => {
            let current = match check(live(tx, &key)?, Some(expected)) {
                Ok(current) => current,
                Err(err) => return Ok(Err(err)),
            };
            tx.prepare_cached("UPDATE kv SET value = ?2, mod_revision = ?3 WHERE key = ?1")
                .and_then(|mut stmt| {
                    stmt.execute(rusqlite::params![key.as_bytes(), value, revision])
                })
                .ctx("update a live value")?;
            let create_revision = current.create_revision;
            append_log(
                tx,
                revision,
                &key,
                Some(&value),
                create_revision,
                current.mod_revision,
            )?;
            let kv = KeyValue {
                key,
                value,
                create_revision,
                mod_revision: revision,
            };
            Ok(Ok(Event {
                kind: EventKind::Put,
                kv,
                prev: Some(current),
            }))
        }
        WriteOp::Delete { key, expected } => {
            let current = match check(live(tx, &key)?, expected) {
                Ok(current) => current,
                Err(err) => return Ok(Err(err)),
            };
            tx.prepare_cached("DELETE FROM kv WHERE key = ?1")
                .and_then(|mut stmt| stmt.execute([key.as_bytes()]))
                .ctx("delete a live value")?;
            let create_revision = current.create_revision;
            append_log(
                tx,
                revision,
                &key,
                None,
                create_revision,
                current.mod_revision,
            )?;
            let kv = KeyValue {
                key,
                value: current.value.clone(),
                create_revision,
                mod_revision: revision,
            };
            Ok(Ok(Event {
                kind: EventKind::Delete,
                kv,
                prev: Some(current),
            }))
        }
    }
}

/// Checks the key is live and, when `expected` is given, at that revision.
fn check(current: Option<KeyValue>, expected: Option<Revision>) -> Result<KeyValue, Error> {
    match (current, expected) {
        (None, _) => Err(Error::NotFound),
        (Some(current), Some(expected)) if current.mod_revision != expected => {
            Err(Error::Conflict {
                current: Some(current),
            })
        }
        (Some(current), _) => Ok(current),
    }
}

/// Reads the live value of `key` as this transaction sees it.
fn live(tx: &Connection, key: &str) -> Result<Option<KeyValue>, SqliteError> {
    let mut stmt = tx
        .prepare_cached("SELECT value, create_revision, mod_revision FROM kv WHERE key = ?1")
        .ctx("prepare a live-value read")?;
    let mut rows = stmt.query([key.as_bytes()]).ctx("read a live value")?;
    let Some(row) = rows.next().ctx("read a live value")? else {
        return Ok(None);
    };
    let read = || -> rusqlite::Result<KeyValue> {
        Ok(KeyValue {
            key: key.to_owned(),
            value: row.get(0)?,
            create_revision: row.get(1)?,
            mod_revision: row.get(2)?,
        })
    };
    read().map(Some).ctx("read a live value")
}

/// Records one revision in the log; `value` is `None` for a delete.
fn append_log(
    tx: &Connection,
    revision: Revision,
    key: &str,
    value: Option<&[u8]>,
    create_revision: Revision,
    prev_revision: Revision,
) -> Result<(), SqliteError> {
    tx.prepare_cached(
        "INSERT INTO log (revision, key, value, create_revision, prev_revision)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute(rusqlite::params![
            revision,
            key.as_bytes(),
            value,
            create_revision,
            prev_revision
        ])
    })
    .ctx("append to the log")?;
    Ok(())
}
