//! Fixtures shared by the printer tests.

use chrono::{DateTime, Utc};

/// The fixed clock (2024-05-01T12:00:00Z) every printer test reads ages against.
pub(super) fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")
        .unwrap()
        .to_utc()
}
