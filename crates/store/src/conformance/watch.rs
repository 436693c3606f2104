//! Cases for watches: ordering, resume, compaction, delete events and slow consumers.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{assert_quiet, current, next_event, ok};
use crate::{Error, Event, EventKind, KeyValue, Store};

/// A watch from now (after = 0) sees later writes only, with previous values.
pub async fn watch_from_now_sees_only_later_writes(store: Arc<dyn Store>) {
    let p = "/registry/pods/now/";
    ok("create", store.create(&format!("{p}before"), vec![1]).await);
    let mut watch = ok("watch", store.watch(p, 0).await);
    let b = ok("create", store.create(&format!("{p}b"), vec![2]).await);
    let event = next_event(&mut watch).await;
    assert_eq!(event.kind, EventKind::Put);
    assert_eq!(event.kv, b);
    assert_eq!(event.prev, None);
    let b2 = ok(
        "update",
        store.update(&b.key, vec![3], b.mod_revision).await,
    );
    let event = next_event(&mut watch).await;
    assert_eq!(
        (event.kind, &event.kv, &event.prev),
        (EventKind::Put, &b2, &Some(b.clone()))
    );
    ok(
        "create outside",
        store.create("/registry/podsx/now", vec![]).await,
    );
    assert_quiet(&mut watch).await;
}

/// Concurrent writers: a prefix watch sees every acknowledged write once, in strictly increasing order.
pub async fn watch_orders_concurrent_writers_without_gaps(store: Arc<dyn Store>) {
    const WRITERS: usize = 8;
    const WRITES: usize = 50;
    let p = "/registry/pods/order/";
    let mut watch = ok("watch", store.watch(p, 0).await);
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..WRITES {
                let kv = ok(
                    "create",
                    store.create(&format!("{p}w{w}-{i}"), vec![w as u8]).await,
                );
                ok(
                    "noise",
                    store
                        .create(&format!("/registry/other/w{w}-{i}"), vec![])
                        .await,
                );
                acked.push(kv);
            }
            acked
        }));
    }
    let mut acked = BTreeMap::new();
    for task in tasks {
        for kv in task.await.expect("writer panicked") {
            acked.insert(kv.mod_revision, kv);
        }
    }
    let mut last = 0;
    for expected in acked.values() {
        let event = next_event(&mut watch).await;
        assert!(event.kv.mod_revision > last, "revisions must increase");
        assert_eq!(
            &event.kv, expected,
            "event at position of revision {}",
            expected.mod_revision
        );
        last = event.kv.mod_revision;
    }
    assert_quiet(&mut watch).await;
}

/// Writes on and around a prefix; returns the expected events for the prefix.
async fn scripted_writes(store: &dyn Store, p: &str) -> Vec<Event> {
    let mut events = Vec::new();
    let put = |kv: KeyValue, prev: Option<KeyValue>| Event {
        kind: EventKind::Put,
        kv,
        prev,
    };
    let a = ok(
        "create",
        store.create(&format!("{p}a"), b"a1".to_vec()).await,
    );
    events.push(put(a.clone(), None));
    ok(
        "noise",
        store
            .create(&format!("{}x/a", p.trim_end_matches('/')), vec![])
            .await,
    );
    let b = ok(
        "create",
        store.create(&format!("{p}b"), b"b1".to_vec()).await,
    );
    events.push(put(b.clone(), None));
    let a2 = ok(
        "update",
        store.update(&a.key, b"a2".to_vec(), a.mod_revision).await,
    );
    events.push(put(a2.clone(), Some(a.clone())));
    let gone = ok("delete", store.delete(&b.key, Some(b.mod_revision)).await);
    events.push(Event {
        kind: EventKind::Delete,
        kv: gone,
        prev: Some(b),
    });
    let b2 = ok(
        "recreate",
        store.create(&format!("{p}b"), b"b2".to_vec()).await,
    );
    events.push(put(b2, None));
    events
}

/// A watch from a past revision replays exactly the later events, then continues live.
pub async fn watch_resumes_from_past_revision(store: Arc<dyn Store>) {
    let p = "/registry/deployments/resume/";
    let start = current(&*store).await;
    let mut events = scripted_writes(&*store, p).await;
    for skip in [0, 2, events.len()] {
        let after = if skip == 0 {
            start
        } else {
            events[skip - 1].kv.mod_revision
        };
        let mut watch = ok("watch", store.watch(p, after).await);
        for expected in &events[skip..] {
            assert_eq!(
                &next_event(&mut watch).await,
                expected,
                "resumed after {after}"
            );
        }
        let live = ok(
            "create",
            store.create(&format!("{p}live{skip}"), vec![]).await,
        );
        let event = next_event(&mut watch).await;
        assert_eq!(event.kv, live);
        events.push(event);
    }
}

/// Deletes are reported with the last value, stamped with the delete's revision, live and replayed.
pub async fn delete_events_carry_last_value(store: Arc<dyn Store>) {
    let p = "/registry/secrets/del/";
    let v1 = ok(
        "create",
        store.create(&format!("{p}s"), b"one".to_vec()).await,
    );
    let v2 = ok(
        "update",
        store
            .update(&v1.key, b"two".to_vec(), v1.mod_revision)
            .await,
    );
    let mut watch = ok("watch", store.watch(p, 0).await);
    let deleted = ok("delete", store.delete(&v1.key, None).await);
    assert_eq!(deleted.value, b"two");
    let expected = Event {
        kind: EventKind::Delete,
        kv: KeyValue {
            mod_revision: deleted.mod_revision,
            ..v2.clone()
        },
        prev: Some(v2.clone()),
    };
    assert_eq!(next_event(&mut watch).await, expected);
    let mut replay = ok("watch", store.watch(p, v2.mod_revision).await);
    assert_eq!(next_event(&mut replay).await, expected);
}

/// A watch from below the compaction point is refused; from the point itself it works.
pub async fn watch_from_compacted_revision_fails(store: Arc<dyn Store>) {
    let p = "/registry/events/compacted/";
    let first = scripted_writes(&*store, p).await;
    let point = current(&*store).await;
    let later = ok("create", store.create(&format!("{p}later"), vec![]).await);
    ok("compact", store.compact(point).await);
    match store.watch(p, point - 1).await {
        Err(Error::Compacted {
            compact_revision,
            current_revision,
        }) => {
            assert_eq!(compact_revision, point);
            assert_eq!(current_revision, later.mod_revision);
        }
        Err(err) => panic!("expected Compacted, got {err}"),
        Ok(_) => panic!("a watch below the compaction point must fail"),
    }
    let err = store.watch(p, first[0].kv.mod_revision).await.map(|_| ());
    assert!(matches!(err, Err(Error::Compacted { .. })), "{err:?}");
    let mut watch = ok("watch", store.watch(p, point).await);
    assert_eq!(next_event(&mut watch).await.kv, later);
}

/// A watch from a revision not yet written starts with the first write after it.
pub async fn watch_from_future_revision_waits_for_it(store: Arc<dyn Store>) {
    let p = "/registry/pods/future/";
    let now = current(&*store).await;
    let mut watch = ok("watch", store.watch(p, now + 2).await);
    assert_quiet(&mut watch).await;
    for i in 0..3 {
        ok("create", store.create(&format!("{p}{i}"), vec![]).await);
    }
    let event = next_event(&mut watch).await;
    assert_eq!(event.kv.key, format!("{p}2"));
    assert_eq!(event.kv.mod_revision, now + 3);
    assert_quiet(&mut watch).await;
}
