//! Errors returned by every store backend.

use crate::types::{KeyValue, Revision};

/// A boxed error from a backend's storage engine.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result of a store operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key does not exist (or is deleted).
    #[error("key not found")]
    NotFound,
    /// A create found the key already live.
    #[error("key already exists")]
    AlreadyExists,
    /// A compare-and-swap saw a different `mod_revision`; `current` is the live value, if any.
    #[error("revision conflict: the key was modified (current mod_revision {})", current_revision(.current))]
    Conflict {
        /// The key's live value at the time of the check.
        current: Option<KeyValue>,
    },
    /// The requested revision is older than the compaction point.
    #[error("revision compacted: requested history at or below {compact_revision} is gone (current revision {current_revision})")]
    Compacted {
        /// Revisions at or below this one have been dropped.
        compact_revision: Revision,
        /// The store's current revision.
        current_revision: Revision,
    },
    /// The requested revision has not been written yet.
    #[error("revision {requested} is newer than the current revision {current}")]
    FutureRevision {
        /// The revision asked for.
        requested: Revision,
        /// The store's current revision.
        current: Revision,
    },
    /// The store has been closed.
    #[error("store is closed")]
    Closed,
    /// The storage engine failed.
    #[error("store backend failed: {0}")]
    Backend(#[source] BoxError),
}

impl Error {
    /// Wraps a storage-engine error.
    pub fn backend(err: impl Into<BoxError>) -> Self {
        Error::Backend(err.into())
    }
}

fn current_revision(current: &Option<KeyValue>) -> String {
    current
        .as_ref()
        .map_or_else(|| "none".to_owned(), |kv| kv.mod_revision.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_revisions() {
        let err = Error::Compacted {
            compact_revision: 7,
            current_revision: 42,
        };
        assert_eq!(
            err.to_string(),
            "revision compacted: requested history at or below 7 is gone (current revision 42)"
        );
        let kv = KeyValue {
            key: "/a".into(),
            value: vec![],
            create_revision: 3,
            mod_revision: 5,
        };
        let err = Error::Conflict { current: Some(kv) };
        assert!(err.to_string().contains("current mod_revision 5"), "{err}");
        let err = Error::backend(std::io::Error::other("disk full"));
        assert_eq!(err.to_string(), "store backend failed: disk full");
        assert!(std::error::Error::source(&err).is_some());
    }
}
