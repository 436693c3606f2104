//! Errors a controller sync can end with; the key is retried with backoff.

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API request failed.
    #[error("API request failed: {0}")]
    Api(#[from] kube::Error),
}

/// Result of a sync.
pub type Result<T, E = Error> = std::result::Result<T, E>;
