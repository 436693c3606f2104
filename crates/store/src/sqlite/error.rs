//! Errors of the SQLite engine, carried inside [`crate::Error::Backend`].

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::Error;

/// What went wrong inside the SQLite backend.
#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    /// The database file could not be opened or prepared.
    #[error("cannot open sqlite database {}: {source}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A statement failed.
    #[error("sqlite failed to {op}: {source}")]
    Sql {
        /// What the statement was doing.
        op: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A stored row does not satisfy the schema's invariants.
    #[error("corrupt database row: {0}")]
    Corrupt(String),
    /// The database was written by a newer schema.
    #[error("database schema version {found} is newer than the supported version {supported}")]
    SchemaVersion {
        /// Version found in the file.
        found: i64,
        /// Newest version this build understands.
        supported: i64,
    },
    /// A blocking read task panicked or was cancelled.
    #[error("read task failed: {0}")]
    ReadTask(#[source] tokio::task::JoinError),
    /// A store thread (writer or checkpointer) could not be started.
    #[error("cannot start a store thread: {0}")]
    SpawnThread(#[source] std::io::Error),
    /// The transaction holding this write failed and was rolled back.
    #[error("write batch rolled back: {0}")]
    BatchFailed(#[source] Arc<SqliteError>),
}

impl From<SqliteError> for Error {
    fn from(err: SqliteError) -> Self {
        Error::Backend(Box::new(err))
    }
}

/// Attaches what a statement was doing to a rusqlite error.
pub(crate) trait SqlContext<T> {
    /// Names the failed operation.
    fn ctx(self, op: &'static str) -> Result<T, SqliteError>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn ctx(self, op: &'static str) -> Result<T, SqliteError> {
        self.map_err(|source| SqliteError::Sql { op, source })
    }
}
