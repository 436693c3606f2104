//! Runs the conformance suite against `SqliteStore` on a database file in a temporary directory.

use std::sync::Arc;

use skiff_store::{conformance, SqliteOptions, SqliteStore, Store};
use tempfile::TempDir;

/// A store and the directory holding its file, removed when dropped.
struct Fixture {
    store: Arc<dyn Store>,
    _dir: TempDir,
}

fn open(opts: SqliteOptions) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("state.db"), opts).expect("open store");
    Fixture { store, _dir: dir }
}

/// Options that make watchers lag almost at once, exercising buffer and log catch-up.
fn tight() -> SqliteOptions {
    SqliteOptions {
        watch_buffer: 64,
        watch_channel: 8,
        ..SqliteOptions::default().without_auto_compaction()
    }
}

fn roomy() -> SqliteOptions {
    SqliteOptions::default().without_auto_compaction()
}

macro_rules! suite {
    ($module:ident, $options:expr, [$($case:ident),* $(,)?]) => {
        mod $module {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let fixture = open($options);
                    conformance::$case(Arc::clone(&fixture.store)).await;
                }
            )*
        }
    };
}

macro_rules! all_cases {
    ($module:ident, $options:expr) => {
        suite!(
            $module,
            $options,
            [
                create_get_update_delete,
                create_existing_key_fails,
                compare_and_swap_conflicts,
                concurrent_cas_counter,
                concurrent_creates_admit_one,
                values_round_trip_byte_for_byte,
                list_pages_with_limit_and_start_after,
                list_at_old_revision,
                prefix_isolation,
                compaction_keeps_live_values,
                watch_from_now_sees_only_later_writes,
                watch_orders_concurrent_writers_without_gaps,
                watch_resumes_from_past_revision,
                watch_from_future_revision_waits_for_it,
                delete_events_carry_last_value,
                watch_from_compacted_revision_fails,
                slow_watcher_gets_every_event,
                lagging_watcher_never_skips_silently,
                watcher_reading_in_bursts_sees_every_event,
            ]
        );
    };
}

all_cases!(tight_buffers, tight());
all_cases!(default_buffers, roomy());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.db");
    conformance::writes_survive_reopen(|| {
        let path = path.clone();
        async move {
            let store: Arc<dyn Store> = SqliteStore::open(&path, tight()).expect("open store");
            store
        }
    })
    .await;
}
