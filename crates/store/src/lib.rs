//! Revisioned key-value store with watch, the API server's storage layer.
//!
//! Every write gets the next global revision (the Kubernetes `resourceVersion`); writes are
//! compare-and-swap on a key's `mod_revision`; watches resume from any revision inside the
//! compaction window. [`SqliteStore`] is the embedded default backend; [`conformance`] is the
//! test suite every backend must pass.

pub mod conformance;
mod error;
mod sqlite;
mod store;
mod types;
mod watch_stream;

pub use error::{BoxError, Error, Result};
pub use sqlite::{SqliteError, SqliteOptions, SqliteStore};
pub use store::Store;
pub use types::{Event, EventKind, KeyValue, ListOptions, ListResult, Revision};
pub use watch_stream::WatchStream;
