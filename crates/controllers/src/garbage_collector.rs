//! The garbage collector: deletes objects whose owners are gone, deletes the dependents of
//! owners deleted in the foreground, and orphans the dependents of owners deleted with `orphan`.

mod actions;
mod graph;
mod monitor;
pub mod resources;

use crate::{Context, Informers};
use actions::OwnerState;
use graph::{Graph, Node, FOREGROUND, ORPHAN};
use kube::api::PropagationPolicy;
use parking_lot::RwLock;
use skiff_client::WorkQueue;
use std::sync::Arc;
use std::time::Duration;

/// How long the collector waits for its watches' first lists before working anyway.
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
/// Worker tasks.
const WORKERS: usize = 4;

/// Upstream's garbage collector over the kinds in [`resources::WATCHED`].
pub struct GarbageCollector {
    client: kube::Client,
    graph: Arc<RwLock<Graph>>,
    queue: WorkQueue<String>,
}

impl GarbageCollector {
    /// Prepares the collector; its watches start with [`GarbageCollector::start`].
    pub fn new(ctx: &Context, _informers: &Informers) -> Self {
        GarbageCollector {
            client: ctx.client.clone(),
            graph: Default::default(),
            queue: WorkQueue::new(),
        }
    }

    /// Starts the watches, and the workers once the watches have listed.
    pub fn start(self) {
        let ready = monitor::spawn(&self.client, &self.graph, &self.queue);
        let this = Arc::new(self);
        tokio::spawn(async move {
            let synced = futures::future::join_all(ready.into_iter().map(|mut rx| async move {
                let _ = rx.wait_for(|r| *r).await;
            }));
            if tokio::time::timeout(SYNC_TIMEOUT, synced).await.is_err() {
                tracing::warn!("garbage collector: some watches have not listed; starting anyway");
            }
            let queue = this.queue.clone();
            queue.run_workers(WORKERS, "garbagecollector", move |uid| {
                let this = this.clone();
                async move { this.sync(&uid).await }
            });
        });
    }

    async fn sync(&self, uid: &str) -> actions::Result<()> {
        let Some(node) = self.graph.read().get(uid).cloned() else {
            return Ok(());
        };
        if node.deleting {
            if node.has_finalizer(ORPHAN) {
                return self.orphan_dependents(&node).await;
            }
            if node.has_finalizer(FOREGROUND) {
                return self.delete_dependents(&node).await;
            }
            return Ok(());
        }
        if node.owners.is_empty() {
            return Ok(());
        }
        self.attempt_to_delete(&node).await
    }

    /// Deletes an object without solid owners; drops references to gone owners otherwise.
    async fn attempt_to_delete(&self, node: &Node) -> actions::Result<()> {
        let (mut solid, mut dangling, mut waiting) = (0, Vec::new(), Vec::new());
        for owner in &node.owners {
            let cached = self.graph.read().get(&owner.uid).cloned();
            let state = match cached {
                Some(o) if o.namespace == node.namespace || o.namespace.is_empty() => {
                    if o.deleting_dependents() {
                        OwnerState::Waiting
                    } else {
                        OwnerState::Solid
                    }
                }
                // not in the cache: a live read decides, as upstream does
                _ => actions::owner_state(&self.client, &node.namespace, owner).await?,
            };
            match state {
                OwnerState::Solid | OwnerState::Unknown => solid += 1,
                OwnerState::Dangling => dangling.push(owner.uid.clone()),
                OwnerState::Waiting => waiting.push(owner.uid.clone()),
            }
        }
        if solid > 0 {
            if dangling.is_empty() && waiting.is_empty() {
                return Ok(());
            }
            dangling.extend(waiting);
            tracing::debug!(object = %node.name, "garbage collector: removing references to gone owners");
            return actions::remove_owners(&self.client, node, &dangling).await;
        }
        let has_dependents = !self.graph.read().dependents(&node.uid).is_empty();
        let policy = if !waiting.is_empty() && has_dependents {
            PropagationPolicy::Foreground
        } else if node.has_finalizer(ORPHAN) {
            PropagationPolicy::Orphan
        } else if node.has_finalizer(FOREGROUND) {
            PropagationPolicy::Foreground
        } else {
            PropagationPolicy::Background
        };
        tracing::debug!(object = %node.name, ?policy, "garbage collector: deleting object without owners");
        actions::delete(&self.client, node, policy).await
    }

    /// Foreground deletion: dependents are deleted; the owner goes once none blocks it.
    async fn delete_dependents(&self, owner: &Node) -> actions::Result<()> {
        let dependents = self.graph.read().dependents(&owner.uid);
        let blocking = dependents.iter().filter(|d| {
            d.owners
                .iter()
                .any(|r| r.uid == owner.uid && r.block_owner_deletion == Some(true))
        });
        if blocking.count() == 0 {
            return actions::remove_finalizer(&self.client, owner, FOREGROUND).await;
        }
        for d in dependents.iter().filter(|d| !d.deleting) {
            self.queue.add(d.uid.clone());
        }
        Ok(())
    }

    /// Orphan deletion: dependents lose their reference to the owner, then the owner goes.
    async fn orphan_dependents(&self, owner: &Node) -> actions::Result<()> {
        let dependents = self.graph.read().dependents(&owner.uid);
        let uid = [owner.uid.clone()];
        for d in &dependents {
            actions::remove_owners(&self.client, d, &uid).await?;
        }
        actions::remove_finalizer(&self.client, owner, ORPHAN).await
    }
}
