//! Which namespaces exist and which are terminating, kept current by a store watch.

use crate::registry;
use futures::StreamExt;
use parking_lot::RwLock;
use serde_json::Value;
use skiff_api::catalogue;
use skiff_store::{EventKind, Store};
use std::collections::HashMap;
use std::sync::Arc;

/// A namespace's lifecycle state as admission needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Accepts new content.
    Active,
    /// Being deleted: new content is refused.
    Terminating,
}

/// Namespace phases by name; a miss means "ask the store".
#[derive(Clone, Default)]
pub struct NamespaceCache {
    phases: Arc<RwLock<HashMap<String, Phase>>>,
}

fn phase_of(ns: &Value) -> Phase {
    if ns
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        Phase::Terminating
    } else {
        Phase::Active
    }
}

impl NamespaceCache {
    /// The cached phase of a namespace, if it is known.
    pub fn get(&self, name: &str) -> Option<Phase> {
        self.phases.read().get(name).copied()
    }

    /// Lists namespaces, then follows their changes until the store closes; re-lists after errors.
    pub async fn run(self, store: Arc<dyn Store>) {
        let rt = catalogue::namespaces();
        let prefix = registry::prefix(rt, None);
        loop {
            let Ok(list) = store.list(&prefix, Default::default()).await else {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            };
            let mut fresh = HashMap::new();
            for kv in &list.items {
                if let Ok(ns) = registry::decode(rt, kv) {
                    fresh.insert(crate::meta::name(&ns).to_string(), phase_of(&ns));
                }
            }
            *self.phases.write() = fresh;
            let Ok(mut events) = store.watch(&prefix, list.revision).await else {
                continue;
            };
            while let Some(Ok(ev)) = events.next().await {
                let Ok(ns) = registry::decode(rt, &ev.kv) else {
                    continue;
                };
                let name = crate::meta::name(&ns).to_string();
                let mut phases = self.phases.write();
                match ev.kind {
                    EventKind::Put => phases.insert(name, phase_of(&ns)),
                    EventKind::Delete => phases.remove(&name),
                };
            }
        }
    }
}
