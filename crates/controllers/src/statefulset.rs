//! The StatefulSet controller: pods with stable names `<set>-<ordinal>` and claims from
//! volumeClaimTemplates, created and deleted in order (OrderedReady) or all at once
//! (Parallel), rolled out from the highest ordinal down to the partition.

pub mod identity;
mod plan;
mod revisions;
mod sync;

use crate::expectations::Expectations;
use crate::informers::controller_key;
use crate::pod_events::PodRouter;
use crate::{Context, Informers};
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::Resource;
use skiff_client::{key_of, EventRecorder, Store, WorkQueue};
use std::sync::Arc;

/// The state a StatefulSet sync reads and writes through.
struct Shared {
    client: kube::Client,
    recorder: EventRecorder,
    queue: WorkQueue<String>,
    expectations: Arc<Expectations>,
    sets: Store<StatefulSet>,
    pods: Store<Pod>,
    claims: Store<PersistentVolumeClaim>,
    revisions: Store<ControllerRevision>,
}

/// Runs ordered, stably named pods for each StatefulSet.
pub struct StatefulSetController {
    shared: Arc<Shared>,
}

impl StatefulSetController {
    /// Registers with the informers.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let shared = Arc::new(Shared {
            client: ctx.client.clone(),
            recorder: ctx.recorder("statefulset-controller"),
            queue: WorkQueue::new(),
            expectations: Arc::new(Expectations::default()),
            sets: informers.stateful_sets.store(),
            pods: informers.pods.store(),
            claims: informers.persistent_volume_claims.store(),
            revisions: informers.controller_revisions.store(),
        });
        let queue = shared.queue.clone();
        informers
            .stateful_sets
            .on_change(move |c| queue.add(key_of(c.object().meta())));
        PodRouter {
            kind: "StatefulSet",
            owners: shared.sets.clone(),
            queue: shared.queue.clone(),
            expectations: shared.expectations.clone(),
            selector: |s: &StatefulSet| s.spec.as_ref().map(|s| s.selector.clone()),
        }
        .register(&informers.pods);
        let queue = shared.queue.clone();
        informers.controller_revisions.on_change(move |c| {
            if let Some(key) = controller_key(c.object().meta(), "StatefulSet") {
                queue.add(key);
            }
        });
        StatefulSetController { shared }
    }

    /// Starts the workers.
    pub fn start(self) {
        let shared = self.shared;
        shared
            .queue
            .clone()
            .run_workers(2, "statefulset", move |key: String| {
                let shared = shared.clone();
                async move { shared.sync(&key).await }
            });
    }
}
