//! Cases for range reads: paging, past revisions, prefixes and compaction.

use std::sync::Arc;

use super::{current, ok};
use crate::{Error, KeyValue, ListOptions, Revision, Store};

fn at(revision: Revision) -> ListOptions {
    ListOptions {
        revision: Some(revision),
        ..ListOptions::default()
    }
}

fn keys(items: &[KeyValue]) -> Vec<&str> {
    items.iter().map(|kv| kv.key.as_str()).collect()
}

/// Pages of `limit` keys continue after `start_after`, report what remains and can be pinned to a revision.
pub async fn list_pages_with_limit_and_start_after(store: Arc<dyn Store>) {
    let prefix = "/registry/pods/paging/";
    let names: Vec<String> = (0..25).map(|i| format!("{prefix}k{i:02}")).collect();
    for name in &names {
        ok("create", store.create(name, name.as_bytes().to_vec()).await);
    }
    ok(
        "create",
        store.create("/registry/pods/pagingz", vec![]).await,
    );

    let page = |start_after: Option<String>, revision| ListOptions {
        revision,
        limit: Some(10),
        start_after,
    };
    let first = ok("list", store.list(prefix, page(None, None)).await);
    assert_eq!(
        keys(&first.items),
        names[..10].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(first.remaining, 15);
    let pinned = first.revision;

    // A write between pages is invisible to pages read at the first page's revision.
    ok(
        "create",
        store.create(&format!("{prefix}k09a"), vec![]).await,
    );
    let second = ok(
        "list",
        store
            .list(prefix, page(Some(names[9].clone()), Some(pinned)))
            .await,
    );
    assert_eq!(
        keys(&second.items),
        names[10..20].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(second.remaining, 5);
    assert_eq!(second.revision, pinned);
    let third = ok(
        "list",
        store
            .list(prefix, page(Some(names[19].clone()), Some(pinned)))
            .await,
    );
    assert_eq!(
        keys(&third.items),
        names[20..].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(third.remaining, 0);

    // At the latest revision the new key shows up, right after k09.
    let latest = ok(
        "list",
        store.list(prefix, page(Some(names[9].clone()), None)).await,
    );
    assert_eq!(latest.items[0].key, format!("{prefix}k09a"));
    assert_eq!(latest.remaining, 6);
    let all = ok("list", store.list(prefix, ListOptions::default()).await);
    assert_eq!(all.items.len(), 26);
    assert_eq!(all.remaining, 0);
    let zero = ListOptions {
        limit: Some(0),
        ..ListOptions::default()
    };
    assert_eq!(ok("list", store.list(prefix, zero).await).items.len(), 26);
}

/// A list at a past revision shows exactly the state then; newer revisions are refused.
pub async fn list_at_old_revision(store: Arc<dyn Store>) {
    let p = "/registry/services/default/";
    let a1 = ok(
        "create a",
        store.create(&format!("{p}a"), b"a1".to_vec()).await,
    );
    let b1 = ok(
        "create b",
        store.create(&format!("{p}b"), b"b1".to_vec()).await,
    );
    let a2 = ok(
        "update a",
        store.update(&a1.key, b"a2".to_vec(), a1.mod_revision).await,
    );
    let b_gone = ok("delete b", store.delete(&b1.key, None).await);
    let c1 = ok(
        "create c",
        store.create(&format!("{p}c"), b"c1".to_vec()).await,
    );

    let expect = [
        (a1.mod_revision, vec![a1.clone()]),
        (b1.mod_revision, vec![a1.clone(), b1.clone()]),
        (a2.mod_revision, vec![a2.clone(), b1.clone()]),
        (b_gone.mod_revision, vec![a2.clone()]),
        (c1.mod_revision, vec![a2.clone(), c1.clone()]),
    ];
    for (revision, items) in expect {
        let listed = ok("list", store.list(p, at(revision)).await);
        assert_eq!(listed.items, items, "state at revision {revision}");
        assert_eq!(listed.revision, revision);
    }
    let paged = ListOptions {
        revision: Some(a2.mod_revision),
        limit: Some(1),
        start_after: None,
    };
    let paged = ok("list", store.list(p, paged).await);
    assert_eq!(paged.items, vec![a2.clone()]);
    assert_eq!(paged.remaining, 1);

    let now = current(&*store).await;
    match store.list(p, at(now + 1)).await {
        Err(Error::FutureRevision { requested, current }) => {
            assert_eq!((requested, current), (now + 1, now));
        }
        other => panic!("a future revision must be refused, got {other:?}"),
    }
}

/// A prefix matches only keys under it, not siblings sharing its leading characters.
pub async fn prefix_isolation(store: Arc<dyn Store>) {
    let inside = ["/registry/pods/a", "/registry/pods/b/c"];
    let outside = [
        "/registry/podsx/a",
        "/registry/pods",
        "/registry/pod",
        "/registry/po",
    ];
    for key in inside.iter().chain(&outside) {
        ok("create", store.create(key, key.as_bytes().to_vec()).await);
    }
    let listed = ok(
        "list",
        store.list("/registry/pods/", ListOptions::default()).await,
    );
    assert_eq!(keys(&listed.items), inside.to_vec());
    let listed = ok(
        "list",
        store.list("/registry/podsx/", ListOptions::default()).await,
    );
    assert_eq!(keys(&listed.items), vec!["/registry/podsx/a"]);
    let listed = ok(
        "list",
        store
            .list("/registry/pods/b/", ListOptions::default())
            .await,
    );
    assert_eq!(keys(&listed.items), vec!["/registry/pods/b/c"]);
    let listed = ok("list", store.list("", ListOptions::default()).await);
    assert_eq!(listed.items.len(), inside.len() + outside.len());
}

/// Compaction refuses older reads but keeps every live value, including ones written before it.
pub async fn compaction_keeps_live_values(store: Arc<dyn Store>) {
    let p = "/registry/leases/kube-system/";
    let old = ok(
        "create old",
        store.create(&format!("{p}old"), b"o".to_vec()).await,
    );
    let hot = ok(
        "create hot",
        store.create(&format!("{p}hot"), b"0".to_vec()).await,
    );
    let mut hot_now = hot.clone();
    for i in 1..20 {
        let value = i.to_string().into_bytes();
        hot_now = ok(
            "update",
            store.update(&hot.key, value, hot_now.mod_revision).await,
        );
    }
    let gone = ok(
        "create gone",
        store.create(&format!("{p}gone"), vec![]).await,
    );
    ok("delete gone", store.delete(&gone.key, None).await);
    let point = current(&*store).await;
    let after = ok(
        "create new",
        store.create(&format!("{p}new"), b"n".to_vec()).await,
    );

    ok("compact", store.compact(point).await);
    assert_eq!(
        ok("compacted_revision", store.compacted_revision().await),
        point
    );
    ok("compact again", store.compact(point - 5).await);
    assert_eq!(
        ok("compacted_revision", store.compacted_revision().await),
        point
    );

    match store.list(p, at(point - 1)).await {
        Err(Error::Compacted {
            compact_revision, ..
        }) => assert_eq!(compact_revision, point),
        other => panic!("a list below the compaction point must fail, got {other:?}"),
    }
    let at_point = ok("list", store.list(p, at(point)).await);
    assert_eq!(at_point.items, vec![hot_now.clone(), old.clone()]);
    let latest = ok("list", store.list(p, ListOptions::default()).await);
    assert_eq!(
        latest.items,
        vec![hot_now.clone(), after.clone(), old.clone()]
    );
    assert_eq!(ok("get", store.get(&old.key).await), Some(old.clone()));
    let updated = ok(
        "update old",
        store
            .update(&old.key, b"o2".to_vec(), old.mod_revision)
            .await,
    );
    assert_eq!(updated.create_revision, old.create_revision);

    let now = current(&*store).await;
    let err = store.compact(now + 1).await;
    assert!(matches!(err, Err(Error::FutureRevision { .. })), "{err:?}");
}
