//! The backend-neutral store trait.

use crate::error::Result;
use crate::types::{KeyValue, ListOptions, ListResult, Revision};
use crate::watch_stream::WatchStream;

/// A revisioned key-value store with compare-and-swap writes and resumable watches.
///
/// Every successful write gets the next global revision. An empty store's current revision
/// is 1 (as in etcd), so the first write gets revision 2 and no list ever reports revision 0,
/// which Kubernetes clients read as "any".
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Returns the live value of `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>>;

    /// Lists keys with `prefix` at a revision (`Compacted` below the compaction point,
    /// `FutureRevision` above the current one), paged by `limit` and `start_after`.
    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult>;

    /// Creates `key`; `AlreadyExists` if it is live.
    async fn create(&self, key: &str, value: Vec<u8>) -> Result<KeyValue>;

    /// Replaces `key` if its `mod_revision` is `expected`; `NotFound` if absent, `Conflict` otherwise.
    async fn update(&self, key: &str, value: Vec<u8>, expected: Revision) -> Result<KeyValue>;

    /// Deletes `key` (if its `mod_revision` is `expected`, when given) and returns its last
    /// value with `mod_revision` set to the delete's revision.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue>;

    /// Streams events for keys with `prefix` and revision > `after`, in revision order and
    /// without gaps; `after == 0` means from now. `Compacted` if `after` is below the
    /// compaction point; a stream that falls behind a later compaction yields `Compacted` and ends.
    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream>;

    /// Returns the revision of the last write (1 for an empty store).
    async fn current_revision(&self) -> Result<Revision>;

    /// Returns the revision at or below which history has been dropped (0 if none).
    async fn compacted_revision(&self) -> Result<Revision>;

    /// Drops history at or below `revision`, keeping every key's live value; compacting at or
    /// below the current compaction point does nothing.
    async fn compact(&self, revision: Revision) -> Result<()>;
}
