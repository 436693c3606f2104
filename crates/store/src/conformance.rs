//! The behaviour every [`Store`] backend must show, as async test cases over `Arc<dyn Store>`.
//!
//! Each case expects a store of its own (it may assert on the store's revisions) and panics
//! on the first violation. A backend's test file runs every case, e.g. with one
//! `#[tokio::test]` per case; see `tests/sqlite.rs`.

mod crud;
mod durability;
mod list;
mod watch;
mod watch_lag;

use std::time::Duration;

use futures::StreamExt;

pub use self::crud::{
    compare_and_swap_conflicts, concurrent_cas_counter, concurrent_creates_admit_one,
    create_existing_key_fails, create_get_update_delete, values_round_trip_byte_for_byte,
};
pub use self::durability::writes_survive_reopen;
pub use self::list::{
    compaction_keeps_live_values, list_at_old_revision, list_pages_with_limit_and_start_after,
    prefix_isolation,
};
pub use self::watch::{
    delete_events_carry_last_value, watch_from_compacted_revision_fails,
    watch_from_future_revision_waits_for_it, watch_from_now_sees_only_later_writes,
    watch_orders_concurrent_writers_without_gaps, watch_resumes_from_past_revision,
};
pub use self::watch_lag::{
    lagging_watcher_never_skips_silently, slow_watcher_gets_every_event,
    watcher_reading_in_bursts_sees_every_event,
};

use crate::{Event, Result, Store, WatchStream};

/// How long a case waits for one expected event.
const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

/// Returns the stream's next item, panicking if it ends or stays silent too long.
async fn next_item(stream: &mut WatchStream) -> Result<Event> {
    match tokio::time::timeout(EVENT_TIMEOUT, stream.next()).await {
        Ok(Some(item)) => item,
        Ok(None) => panic!("watch stream ended unexpectedly"),
        Err(_) => panic!("no watch event within {EVENT_TIMEOUT:?}"),
    }
}

/// Returns the stream's next event, panicking on an error.
async fn next_event(stream: &mut WatchStream) -> Event {
    match next_item(stream).await {
        Ok(event) => event,
        Err(err) => panic!("watch failed: {err}"),
    }
}

/// Asserts nothing arrives on the stream for a short while.
async fn assert_quiet(stream: &mut WatchStream) {
    if let Ok(item) = tokio::time::timeout(Duration::from_millis(200), stream.next()).await {
        panic!("expected no event, got {item:?}");
    }
}

/// Unwraps a store call, naming the operation in the panic.
fn ok<T>(what: &str, result: Result<T>) -> T {
    result.unwrap_or_else(|err| panic!("{what} failed: {err}"))
}

/// The store's current revision.
async fn current(store: &dyn Store) -> i64 {
    ok("current_revision", store.current_revision().await)
}
