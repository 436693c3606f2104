//! Cases for single-key reads and compare-and-swap writes.

use std::collections::HashSet;
use std::sync::Arc;

use super::{current, ok};
use crate::{Error, ListOptions, Store};

/// Create, get, list, update and delete one key, checking every revision.
pub async fn create_get_update_delete(store: Arc<dyn Store>) {
    let start = current(&*store).await;
    assert!(
        start >= 1,
        "an empty store is at revision >= 1, got {start}"
    );
    let key = "/registry/pods/default/nginx";
    assert_eq!(ok("get", store.get(key).await), None);

    let created = ok("create", store.create(key, b"v1".to_vec()).await);
    assert_eq!(created.key, key);
    assert_eq!(created.value, b"v1");
    assert!(created.mod_revision > start);
    assert_eq!(created.create_revision, created.mod_revision);
    assert_eq!(current(&*store).await, created.mod_revision);
    assert_eq!(ok("get", store.get(key).await), Some(created.clone()));

    let listed = ok(
        "list",
        store.list("/registry/pods/", ListOptions::default()).await,
    );
    assert_eq!(listed.items, vec![created.clone()]);
    assert_eq!(listed.revision, created.mod_revision);
    assert_eq!(listed.remaining, 0);

    let updated = ok(
        "update",
        store
            .update(key, b"v2".to_vec(), created.mod_revision)
            .await,
    );
    assert_eq!(updated.value, b"v2");
    assert_eq!(updated.create_revision, created.create_revision);
    assert!(updated.mod_revision > created.mod_revision);
    assert_eq!(ok("get", store.get(key).await), Some(updated.clone()));

    let deleted = ok(
        "delete",
        store.delete(key, Some(updated.mod_revision)).await,
    );
    assert_eq!(deleted.value, b"v2", "delete returns the last value");
    assert_eq!(deleted.create_revision, created.create_revision);
    assert!(deleted.mod_revision > updated.mod_revision);
    assert_eq!(current(&*store).await, deleted.mod_revision);
    assert_eq!(ok("get", store.get(key).await), None);
    let listed = ok(
        "list",
        store.list("/registry/pods/", ListOptions::default()).await,
    );
    assert!(listed.items.is_empty());
    assert_eq!(listed.revision, deleted.mod_revision);

    let err = store
        .update(key, b"v3".to_vec(), deleted.mod_revision)
        .await;
    assert!(matches!(err, Err(Error::NotFound)), "{err:?}");
    let err = store.delete(key, None).await;
    assert!(matches!(err, Err(Error::NotFound)), "{err:?}");
}

/// Creating a live key fails; after a delete the key can be created afresh.
pub async fn create_existing_key_fails(store: Arc<dyn Store>) {
    let key = "/registry/namespaces/default";
    let first = ok("create", store.create(key, b"one".to_vec()).await);
    let err = store.create(key, b"two".to_vec()).await;
    assert!(matches!(err, Err(Error::AlreadyExists)), "{err:?}");
    assert_eq!(ok("get", store.get(key).await), Some(first.clone()));
    assert_eq!(
        current(&*store).await,
        first.mod_revision,
        "a refused write takes no revision"
    );

    ok("delete", store.delete(key, None).await);
    let again = ok("create", store.create(key, b"three".to_vec()).await);
    assert!(again.create_revision > first.create_revision);
    assert_eq!(again.create_revision, again.mod_revision);
    assert_eq!(again.value, b"three");
}

/// Updates and deletes with a stale revision fail with the current value and change nothing.
pub async fn compare_and_swap_conflicts(store: Arc<dyn Store>) {
    let key = "/registry/configmaps/default/cas";
    let v1 = ok("create", store.create(key, b"1".to_vec()).await);
    let v2 = ok(
        "update",
        store.update(key, b"2".to_vec(), v1.mod_revision).await,
    );
    let before = current(&*store).await;

    match store.update(key, b"3".to_vec(), v1.mod_revision).await {
        Err(Error::Conflict { current }) => assert_eq!(current, Some(v2.clone())),
        other => panic!("stale update must conflict, got {other:?}"),
    }
    match store.delete(key, Some(v1.mod_revision)).await {
        Err(Error::Conflict { current }) => assert_eq!(current, Some(v2.clone())),
        other => panic!("stale delete must conflict, got {other:?}"),
    }
    assert_eq!(ok("get", store.get(key).await), Some(v2.clone()));
    assert_eq!(
        current(&*store).await,
        before,
        "refused writes take no revision"
    );

    let err = store
        .update("/registry/configmaps/default/missing", vec![], 1)
        .await;
    assert!(matches!(err, Err(Error::NotFound)), "{err:?}");
    let v3 = ok(
        "update",
        store.update(key, b"3".to_vec(), v2.mod_revision).await,
    );
    assert_eq!(v3.value, b"3");
}

/// Concurrent get-then-update loops on one counter lose no increment.
pub async fn concurrent_cas_counter(store: Arc<dyn Store>) {
    const TASKS: usize = 32;
    const INCREMENTS: usize = 5;
    let key = "/registry/counters/default/c";
    ok("create", store.create(key, b"0".to_vec()).await);
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut revisions = Vec::new();
            while revisions.len() < INCREMENTS {
                let kv = ok("get", store.get(key).await).expect("counter exists");
                let n: usize = std::str::from_utf8(&kv.value)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .expect("counter holds a number");
                let next = (n + 1).to_string().into_bytes();
                match store.update(key, next, kv.mod_revision).await {
                    Ok(updated) => revisions.push(updated.mod_revision),
                    Err(Error::Conflict { .. }) => continue,
                    Err(err) => panic!("update failed: {err}"),
                }
            }
            revisions
        }));
    }
    let mut all = HashSet::new();
    for task in tasks {
        for revision in task.await.expect("task panicked") {
            assert!(all.insert(revision), "revision {revision} returned twice");
        }
    }
    assert_eq!(all.len(), TASKS * INCREMENTS);
    let kv = ok("get", store.get(key).await).expect("counter exists");
    assert_eq!(kv.value, (TASKS * INCREMENTS).to_string().into_bytes());
    assert_eq!(all.iter().max(), Some(&kv.mod_revision));
}

/// Empty, binary and large values come back exactly as written.
pub async fn values_round_trip_byte_for_byte(store: Arc<dyn Store>) {
    let values: [Vec<u8>; 3] = [vec![], (0..=255).collect(), vec![0xAB; 1 << 20]];
    for (i, value) in values.iter().enumerate() {
        let key = format!("/registry/secrets/default/s{i}");
        let created = ok("create", store.create(&key, value.clone()).await);
        assert_eq!(&created.value, value);
        let got = ok("get", store.get(&key).await).expect("just created");
        assert_eq!(&got.value, value);
    }
    let key = "/registry/secrets/default/s0";
    let kv = ok("get", store.get(key).await).expect("exists");
    let updated = ok(
        "update",
        store.update(key, b"x".to_vec(), kv.mod_revision).await,
    );
    let emptied = ok(
        "update",
        store.update(key, vec![], updated.mod_revision).await,
    );
    assert!(emptied.value.is_empty());
    let listed = ok(
        "list",
        store
            .list("/registry/secrets/", ListOptions::default())
            .await,
    );
    assert_eq!(listed.items.len(), 3);
    assert!(
        listed.items[0].value.is_empty(),
        "an empty value is not a delete"
    );
}

/// Of many concurrent creates of one key exactly one succeeds; the rest see it exists.
pub async fn concurrent_creates_admit_one(store: Arc<dyn Store>) {
    const TASKS: usize = 32;
    let key = "/registry/namespaces/race";
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.create(key, vec![i as u8]).await })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("task panicked") {
            Ok(kv) => winners.push(kv),
            Err(Error::AlreadyExists) => {}
            Err(err) => panic!("create failed: {err}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one create wins");
    assert_eq!(ok("get", store.get(key).await), winners.pop());
}
