//! Case for persistence across a close and reopen.

use std::future::Future;
use std::sync::Arc;

use super::{current, next_event, ok};
use crate::{ListOptions, Store};

/// Acknowledged writes and history survive closing and reopening; revisions keep increasing.
pub async fn writes_survive_reopen<F, Fut>(open: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    const TASKS: usize = 8;
    const WRITES: usize = 25;
    let p = "/registry/configmaps/durable/";
    let store = open().await;
    let start = current(&*store).await;
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..WRITES {
                acked.push(ok(
                    "create",
                    store
                        .create(&format!("{p}{t}-{i:02}"), vec![t as u8; 300])
                        .await,
                ));
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for task in tasks {
        acked.extend(task.await.expect("writer panicked"));
    }
    let last = ok("current_revision", store.current_revision().await);
    drop(store);

    let store = open().await;
    assert_eq!(current(&*store).await, last, "revision survives reopen");
    for kv in &acked {
        assert_eq!(ok("get", store.get(&kv.key).await).as_ref(), Some(kv));
    }
    let listed = ok("list", store.list(p, ListOptions::default()).await);
    assert_eq!(listed.items.len(), TASKS * WRITES);
    let next = ok("create", store.create(&format!("{p}after"), vec![]).await);
    assert!(next.mod_revision > last);
    let mut watch = ok("watch", store.watch(p, start).await);
    acked.sort_by_key(|kv| kv.mod_revision);
    for kv in &acked {
        assert_eq!(
            &next_event(&mut watch).await.kv,
            kv,
            "history survives reopen"
        );
    }
    assert_eq!(next_event(&mut watch).await.kv, next);
}
