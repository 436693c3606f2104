//! Database layout, connection settings and the revision counters stored in `meta`.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::error::{SqlContext, SqliteError};
use crate::types::Revision;

/// Schema version written to `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

/// How long a connection waits for a lock held by a checkpoint before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Durable commits; checkpoints run on their own thread (see `checkpoint.rs`), and a log
/// that grew large is truncated once it has been copied back.
const WRITER_PRAGMAS: &str = "
PRAGMA synchronous = FULL;
PRAGMA wal_autocheckpoint = 0;
PRAGMA journal_size_limit = 67108864;
";

/// Tables: `kv` holds live values, `log` one row per revision (value NULL for a delete),
/// `meta` the current and compacted revisions. An empty store is at revision 1.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (
    key BLOB PRIMARY KEY,
    value BLOB NOT NULL,
    create_revision INTEGER NOT NULL,
    mod_revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log (
    revision INTEGER PRIMARY KEY,
    key BLOB NOT NULL,
    value BLOB,
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key_revision ON log (key, revision);
CREATE TABLE IF NOT EXISTS meta (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    current_revision INTEGER NOT NULL,
    compacted_revision INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (id, current_revision, compacted_revision) VALUES (0, 1, 0);
";

/// The revision counters persisted in `meta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    /// Revision of the last committed write.
    pub current: Revision,
    /// History at or below this revision is gone.
    pub compacted: Revision,
}

/// Opens the read-write connection used by the writer thread and creates the schema.
pub(crate) fn open_writer(path: &Path) -> Result<Connection, SqliteError> {
    let open_err = |source| SqliteError::Open {
        path: path.to_path_buf(),
        source,
    };
    let conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(SqliteError::Corrupt(format!(
            "journal_mode is {mode}, expected wal"
        )));
    }
    conn.execute_batch(WRITER_PRAGMAS).map_err(open_err)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(open_err)?;
    if version > SCHEMA_VERSION {
        return Err(SqliteError::SchemaVersion {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
    ))
    .map_err(open_err)?;
    Ok(conn)
}

/// Opens the connection that checkpoints the write-ahead log.
pub(crate) fn open_checkpointer(path: &Path) -> Result<Connection, SqliteError> {
    let open_err = |source| SqliteError::Open {
        path: path.to_path_buf(),
        source,
    };
    let conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    conn.execute_batch("PRAGMA synchronous = FULL;")
        .map_err(open_err)?;
    Ok(conn)
}

/// Opens a read-only connection to an existing database.
pub(crate) fn open_reader(path: &Path) -> Result<Connection, SqliteError> {
    let open_err = |source| SqliteError::Open {
        path: path.to_path_buf(),
        source,
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    Ok(conn)
}

/// Reads the revision counters.
pub(crate) fn load_meta(conn: &Connection) -> Result<Meta, SqliteError> {
    conn.prepare_cached("SELECT current_revision, compacted_revision FROM meta WHERE id = 0")
        .and_then(|mut stmt| {
            stmt.query_row([], |row| {
                Ok(Meta {
                    current: row.get(0)?,
                    compacted: row.get(1)?,
                })
            })
        })
        .ctx("read the revision counters")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_database_starts_at_revision_one_and_reopens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.db");
        let conn = open_writer(&path).expect("open");
        assert_eq!(
            load_meta(&conn).expect("meta"),
            Meta {
                current: 1,
                compacted: 0
            }
        );
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .expect("pragma");
        assert_eq!(sync, 2, "synchronous must be FULL");
        conn.execute("UPDATE meta SET current_revision = 9", [])
            .expect("update");
        drop(conn);
        let conn = open_writer(&path).expect("reopen");
        assert_eq!(load_meta(&conn).expect("meta").current, 9);
        let reader = open_reader(&path).expect("reader");
        assert_eq!(load_meta(&reader).expect("meta").current, 9);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.db");
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch("PRAGMA user_version = 99").expect("set");
        drop(conn);
        let err = open_writer(&path).expect_err("must refuse");
        assert!(matches!(err, SqliteError::SchemaVersion { found: 99, .. }));
    }
}
