//! The embedded SQLite backend: one group-committing writer thread, pooled read connections,
//! and in-process push-based watches.

mod apply;
mod checkpoint;
mod compact;
mod error;
mod hub;
mod options;
mod read;
mod schema;
mod watch;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

pub use self::error::SqliteError;
pub use self::options::SqliteOptions;

use self::hub::Hub;
use self::read::ReadPool;
use self::writer::{WriteOp, WriterHandle};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::types::{KeyValue, ListOptions, ListResult, Revision};
use crate::watch_stream::WatchStream;

/// State shared by the store, its writer thread and its watch streams.
pub(crate) struct Shared {
    pool: ReadPool,
    hub: Hub,
    current: AtomicI64,
    compacted: AtomicI64,
    closed: AtomicBool,
}

impl Shared {
    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        Ok(())
    }

    fn revisions(&self) -> (Revision, Revision) {
        (
            self.current.load(Ordering::Acquire),
            self.compacted.load(Ordering::Acquire),
        )
    }
}

/// A [`Store`] kept in one SQLite database file (WAL mode, `synchronous=FULL`).
pub struct SqliteStore {
    shared: Arc<Shared>,
    writer: WriterHandle,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and starts its writer thread.
    pub fn open(path: &Path, opts: SqliteOptions) -> Result<Arc<SqliteStore>> {
        let conn = schema::open_writer(path)?;
        let meta = schema::load_meta(&conn)?;
        let shared = Arc::new(Shared {
            pool: ReadPool::new(path.to_path_buf(), opts.read_connections),
            hub: Hub::new(meta.current, opts.watch_buffer, opts.watch_channel),
            current: AtomicI64::new(meta.current),
            compacted: AtomicI64::new(meta.compacted),
            closed: AtomicBool::new(false),
        });
        let writer = WriterHandle::spawn(path, conn, meta, Arc::clone(&shared), &opts)?;
        tracing::debug!(path = %path.display(), revision = meta.current, "opened sqlite store");
        Ok(Arc::new(SqliteStore {
            shared,
            writer,
            path: path.to_path_buf(),
        }))
    }

    /// Returns the database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the writer after its current batch, ends every watch with `Closed` and fails later calls.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.writer.close();
        self.shared.hub.close();
    }

    async fn write(&self, op: WriteOp) -> Result<KeyValue> {
        self.shared.check_open()?;
        self.writer.write(op).await
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        self.shared.check_open()?;
        let key = key.to_owned();
        read::run(&self.shared, move |conn| read::get(conn, &key)).await
    }

    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult> {
        self.shared.check_open()?;
        let prefix = prefix.to_owned();
        read::run(&self.shared, move |conn| read::list(conn, &prefix, &opts)).await
    }

    async fn create(&self, key: &str, value: Vec<u8>) -> Result<KeyValue> {
        let key = key.to_owned();
        self.write(WriteOp::Create { key, value }).await
    }

    async fn update(&self, key: &str, value: Vec<u8>, expected: Revision) -> Result<KeyValue> {
        let key = key.to_owned();
        self.write(WriteOp::Update {
            key,
            value,
            expected,
        })
        .await
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue> {
        let key = key.to_owned();
        self.write(WriteOp::Delete { key, expected }).await
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream> {
        self.shared.check_open()?;
        watch::watch(Arc::clone(&self.shared), prefix.to_owned(), after)
    }

    async fn current_revision(&self) -> Result<Revision> {
        self.shared.check_open()?;
        Ok(self.shared.revisions().0)
    }

    async fn compacted_revision(&self) -> Result<Revision> {
        self.shared.check_open()?;
        Ok(self.shared.revisions().1)
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        self.shared.check_open()?;
        self.writer.compact(revision).await
    }
}
