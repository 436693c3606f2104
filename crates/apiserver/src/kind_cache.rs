//! In-memory copies of small kinds that admission reads on every create (PriorityClasses,
//! ResourceQuotas, LimitRanges), kept current by a store watch.
//!
//! Without them each pod create ran three store lists. A write of a cached kind through the
//! [`Registry`](crate::registry::Registry) waits until the cache has seen it, so a client
//! that got the write acknowledged never meets admission with an older view.

use crate::registry;
use futures::StreamExt;
use parking_lot::RwLock;
use serde_json::Value;
use skiff_api::ResourceType;
use skiff_store::{EventKind, Revision, Store};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// One cached object and the revision it was read at.
pub type Cached = Arc<(Value, Revision)>;

/// The objects of one kind, by store key.
pub struct KindCache {
    rt: &'static ResourceType,
    items: RwLock<Option<BTreeMap<String, Cached>>>,
    seen: tokio::sync::watch::Sender<Revision>,
}

/// How long a write waits for the cache to catch up before answering anyway.
const CATCH_UP: Duration = Duration::from_secs(2);

impl KindCache {
    /// An empty cache of `rt`, unusable until [`run`](Self::run) has listed it.
    pub fn new(rt: &'static ResourceType) -> Arc<Self> {
        Arc::new(KindCache {
            rt,
            items: RwLock::new(None),
            seen: tokio::sync::watch::channel(0).0,
        })
    }

    /// The kind this cache holds.
    pub fn resource_type(&self) -> &'static ResourceType {
        self.rt
    }

    /// The objects in `ns` (all of them for a cluster-scoped kind or `None`), in key order;
    /// `None` until the first list has landed.
    pub fn list(&self, ns: Option<&str>) -> Option<Vec<Cached>> {
        let prefix = registry::prefix(self.rt, ns);
        let items = self.items.read();
        let items = items.as_ref()?;
        Some(
            items
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(_, v)| v.clone())
                .collect(),
        )
    }

    /// Waits until the cache has applied revision `rev` (or gives up after a while).
    pub async fn wait_for(&self, rev: Revision) {
        let mut rx = self.seen.subscribe();
        let caught_up = tokio::time::timeout(CATCH_UP, rx.wait_for(|seen| *seen >= rev)).await;
        if caught_up.is_err() {
            tracing::warn!(
                kind = self.rt.kind,
                rev,
                "admission cache did not catch up with a write"
            );
        }
    }

    /// Lists the kind, then follows its changes until the store closes; re-lists after errors.
    pub async fn run(self: Arc<Self>, store: Arc<dyn Store>) {
        let prefix = registry::prefix(self.rt, None);
        loop {
            let list = match store.list(&prefix, Default::default()).await {
                Ok(list) => list,
                Err(e) => {
                    tracing::debug!(kind = self.rt.kind, "admission cache list: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let fresh = list
                .items
                .iter()
                .filter_map(|kv| {
                    let obj = registry::decode(self.rt, kv).ok()?;
                    Some((kv.key.clone(), Arc::new((obj, kv.mod_revision))))
                })
                .collect();
            *self.items.write() = Some(fresh);
            self.seen
                .send_if_modified(|seen| advance(seen, list.revision));
            let mut events = match store.watch(&prefix, list.revision).await {
                Ok(events) => events,
                Err(_) => continue,
            };
            while let Some(Ok(ev)) = events.next().await {
                let rev = ev.kv.mod_revision;
                {
                    let mut items = self.items.write();
                    let items = items.get_or_insert_with(BTreeMap::new);
                    match ev.kind {
                        EventKind::Put => {
                            if let Ok(obj) = registry::decode(self.rt, &ev.kv) {
                                items.insert(ev.kv.key.clone(), Arc::new((obj, rev)));
                            }
                        }
                        EventKind::Delete => {
                            items.remove(&ev.kv.key);
                        }
                    }
                }
                self.seen.send_if_modified(|seen| advance(seen, rev));
            }
        }
    }
}

fn advance(seen: &mut Revision, rev: Revision) -> bool {
    if rev > *seen {
        *seen = rev;
        true
    } else {
        false
    }
}

/// The caches admission reads, found by resource type.
#[derive(Clone, Default)]
pub struct KindCaches {
    caches: Vec<Arc<KindCache>>,
}

impl KindCaches {
    /// Caches of `kinds`, each fed by its own watch of `store`.
    pub fn start(store: &Arc<dyn Store>, kinds: &[&'static ResourceType]) -> Self {
        let caches: Vec<_> = kinds.iter().map(|rt| KindCache::new(rt)).collect();
        for c in &caches {
            tokio::spawn(c.clone().run(store.clone()));
        }
        KindCaches { caches }
    }

    /// The cache of `rt`, if it is cached.
    pub fn of(&self, rt: &ResourceType) -> Option<&Arc<KindCache>> {
        self.caches
            .iter()
            .find(|c| c.rt.group == rt.group && c.rt.plural == rt.plural)
    }

    /// After a write of `rt` at `rev`: waits until its cache (if any) has seen it.
    pub async fn written(&self, rt: &ResourceType, rev: Revision) {
        if let Some(c) = self.of(rt) {
            c.wait_for(rev).await;
        }
    }
}
