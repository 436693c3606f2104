//! The Deployment controller: one ReplicaSet per pod template, rolled out with RollingUpdate
//! or Recreate, revisions and history, progress deadlines and upstream's status conditions.

mod replica_sets;
mod rollout;
mod status;
mod sync;
mod util;

use crate::informers::controller_uid;
use crate::{Context, Informers};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use skiff_client::{key_of, Change, EventRecorder, Store, WorkQueue};
use std::sync::Arc;

/// Keeps Deployments' ReplicaSets.
pub struct DeploymentController {
    shared: Arc<Shared>,
}

struct Shared {
    client: kube::Client,
    deployments: Store<Deployment>,
    replica_sets: Store<ReplicaSet>,
    recorder: EventRecorder,
    queue: WorkQueue<String>,
}

impl DeploymentController {
    /// Registers with the informers.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let shared = Arc::new(Shared {
            client: ctx.client.clone(),
            deployments: informers.deployments.store(),
            replica_sets: informers.replica_sets.store(),
            recorder: ctx.recorder("deployment-controller"),
            queue: WorkQueue::new(),
        });
        let s = shared.clone();
        informers
            .deployments
            .on_change(move |c| s.queue.add(key_of(&c.object().metadata)));
        let s = shared.clone();
        informers
            .replica_sets
            .on_change(move |c| s.replica_set_changed(c));
        DeploymentController { shared }
    }

    /// Starts the workers.
    pub fn start(self) {
        let shared = self.shared.clone();
        self.shared
            .queue
            .run_workers(4, "deployment-controller", move |key| {
                let shared = shared.clone();
                async move { shared.sync(&key).await }
            });
    }
}

impl Shared {
    /// Queues the Deployment controlling `rs`, or for an orphan every Deployment matching it.
    fn replica_set_changed(&self, change: &Change<ReplicaSet>) {
        let rs = change.object();
        let ns = rs.metadata.namespace.as_deref().unwrap_or_default();
        if let Some(uid) = controller_uid(&rs.metadata) {
            let owner = rs
                .metadata
                .owner_references
                .iter()
                .flatten()
                .find(|r| r.uid == uid && r.kind == "Deployment");
            if let Some(r) = owner {
                self.queue.add(format!("{ns}/{}", r.name));
            }
            if let Change::Applied { old: Some(old), .. } = change {
                if let Some(prev) =
                    old.metadata.owner_references.iter().flatten().find(|r| {
                        r.controller == Some(true) && r.kind == "Deployment" && r.uid != uid
                    })
                {
                    self.queue.add(format!("{ns}/{}", prev.name));
                }
            }
            return;
        }
        for d in self.deployments.in_namespace(ns) {
            let sel = d
                .spec
                .as_ref()
                .map(|s| s.selector.clone())
                .unwrap_or_default();
            if !crate::selector::is_empty(&sel)
                && crate::selector::matches(&sel, rs.metadata.labels.as_ref())
            {
                self.queue.add(key_of(&d.metadata));
            }
        }
    }
}
