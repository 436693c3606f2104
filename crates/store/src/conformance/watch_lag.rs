//! Cases for watchers that fall behind: they catch up or report `Compacted`, never skip.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use super::{assert_quiet, current, next_event, next_item, ok};
use crate::{Error, KeyValue, Store};

/// A watcher that reads nothing while many writes land still receives all of them in order.
pub async fn slow_watcher_gets_every_event(store: Arc<dyn Store>) {
    const WRITES: usize = 3_000;
    let p = "/registry/pods/slow/";
    let mut watch = ok("watch", store.watch(p, 0).await);
    let acked = write_many(&*store, p, WRITES).await;
    for expected in &acked {
        match next_item(&mut watch).await {
            Ok(event) => assert_eq!(&event.kv, expected),
            Err(err) => panic!("without compaction a slow watcher must catch up, got {err}"),
        }
    }
    assert_quiet(&mut watch).await;
}

/// A lagging watcher whose history was compacted gets `Compacted` and ends, after a gap-free prefix.
pub async fn lagging_watcher_never_skips_silently(store: Arc<dyn Store>) {
    const WRITES: usize = 2_000;
    let p = "/registry/pods/lagging/";
    let mut watch = ok("watch", store.watch(p, 0).await);
    let acked = write_many(&*store, p, WRITES).await;
    ok("compact", store.compact(current(&*store).await).await);
    let mut received = 0;
    loop {
        match next_item(&mut watch).await {
            Ok(event) => {
                assert_eq!(
                    event.kv, acked[received],
                    "event {received} out of sequence"
                );
                received += 1;
                if received == acked.len() {
                    break;
                }
            }
            Err(Error::Compacted { .. }) => {
                let end = tokio::time::timeout(super::EVENT_TIMEOUT, watch.next());
                assert!(
                    matches!(end.await, Ok(None)),
                    "a stream ends after Compacted"
                );
                break;
            }
            Err(err) => panic!("unexpected watch error: {err}"),
        }
    }
}

/// Creates `n` keys under `p` from 16 concurrent writers; returns them in revision order.
async fn write_many(store: &dyn Store, p: &str, n: usize) -> Vec<KeyValue> {
    let creates = (0..n).map(|i| async move {
        ok(
            "create",
            store.create(&format!("{p}{i:05}"), vec![7; 64]).await,
        )
    });
    let mut acked: Vec<KeyValue> = futures::stream::iter(creates)
        .buffer_unordered(16)
        .collect()
        .await;
    acked.sort_by_key(|kv| kv.mod_revision);
    acked
}

/// A watcher that reads in bursts while writers run sees every event in order.
pub async fn watcher_reading_in_bursts_sees_every_event(store: Arc<dyn Store>) {
    const WRITERS: usize = 4;
    const WRITES: usize = 400;
    let p = "/registry/pods/bursty/";
    let mut watch = ok("watch", store.watch(p, 0).await);
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..WRITES {
                    let key = format!("{p}w{w}-{i:04}");
                    acked.push(ok("create", store.create(&key, vec![1; 32]).await));
                }
                acked
            })
        })
        .collect();
    let mut seen = Vec::with_capacity(WRITERS * WRITES);
    while seen.len() < WRITERS * WRITES {
        seen.push(next_event(&mut watch).await.kv);
        if seen.len() % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let mut acked = Vec::new();
    for writer in writers {
        acked.extend(writer.await.expect("writer panicked"));
    }
    acked.sort_by_key(|kv| kv.mod_revision);
    assert_eq!(seen, acked, "every write exactly once, in revision order");
    assert_quiet(&mut watch).await;
}
