//! Behaviour specific to `SqliteStore`: closing, automatic compaction, watch catch-up limits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use skiff_store::{Error, SqliteOptions, SqliteStore, Store};

fn open(dir: &tempfile::TempDir, opts: SqliteOptions) -> Arc<SqliteStore> {
    SqliteStore::open(&dir.path().join("state.db"), opts).expect("open store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_ends_watches_and_refuses_calls() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(&dir, SqliteOptions::default());
    store.create("/registry/pods/a", vec![1]).await?;
    let mut watch = store.watch("/registry/pods/", 0).await?;
    store.close();
    let item = tokio::time::timeout(Duration::from_secs(10), watch.next()).await?;
    assert!(matches!(item, Some(Err(Error::Closed))), "{item:?}");
    assert!(watch.next().await.is_none(), "the stream ends after Closed");
    assert!(matches!(
        store.get("/registry/pods/a").await,
        Err(Error::Closed)
    ));
    assert!(matches!(
        store.create("/registry/pods/b", vec![]).await,
        Err(Error::Closed)
    ));
    assert!(matches!(store.watch("/", 0).await, Err(Error::Closed)));
    drop(store);
    let store = open(&dir, SqliteOptions::default());
    assert!(store.get("/registry/pods/a").await?.is_some());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_compaction_keeps_the_configured_revisions() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let opts = SqliteOptions {
        keep_revisions: 10,
        keep_for: Duration::ZERO,
        compaction_interval: Some(Duration::from_millis(20)),
        ..SqliteOptions::default()
    };
    let store = open(&dir, opts);
    let first = store.create("/registry/leases/l", vec![0]).await?;
    let mut kv = first.clone();
    for i in 1..50u8 {
        kv = store.update(&kv.key, vec![i], kv.mod_revision).await?;
    }
    let target = kv.mod_revision - 10;
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.compacted_revision().await? < target {
        assert!(
            Instant::now() < deadline,
            "auto-compaction never reached {target}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        store.compacted_revision().await?,
        target,
        "keeps 10 revisions"
    );
    assert!(matches!(
        store.watch("/registry/leases/", first.mod_revision).await,
        Err(Error::Compacted { .. })
    ));
    let mut watch = store.watch("/registry/leases/", target).await?;
    let event = tokio::time::timeout(Duration::from_secs(10), watch.next()).await?;
    let event = event.expect("an event")?;
    assert_eq!(event.kv.mod_revision, target + 1);
    assert_eq!(store.get(&kv.key).await?, Some(kv));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_behind_buffer_and_compaction_gets_compacted() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let opts = SqliteOptions {
        watch_buffer: 16,
        watch_channel: 4,
        ..SqliteOptions::default().without_auto_compaction()
    };
    let store = open(&dir, opts);
    let mut watch = store.watch("/registry/pods/", 0).await?;
    let mut acked = Vec::new();
    for i in 0..100 {
        acked.push(
            store
                .create(&format!("/registry/pods/p{i:03}"), vec![])
                .await?,
        );
    }
    store.compact(store.current_revision().await?).await?;
    // The four queued events arrive, then the gap is reported instead of skipped.
    for expected in &acked[..4] {
        let event = watch.next().await.expect("queued event")?;
        assert_eq!(&event.kv, expected);
    }
    match watch.next().await {
        Some(Err(Error::Compacted {
            compact_revision, ..
        })) => {
            assert_eq!(compact_revision, acked[99].mod_revision);
        }
        other => panic!("expected Compacted, got {other:?}"),
    }
    assert!(watch.next().await.is_none());
    Ok(())
}
