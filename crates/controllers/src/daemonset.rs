//! The DaemonSet controller: one pod per eligible node, pinned with node affinity, replaced
//! when it fails, rolled out under maxUnavailable / maxSurge (or OnDelete), with
//! ControllerRevision history and the status `kubectl rollout status` reads.

pub mod eligibility;
mod plan;
mod revision;
mod sync;

use crate::expectations::Expectations;
use crate::informers::controller_key;
use crate::pod_events::PodRouter;
use crate::{Context, Informers};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Resource;
use parking_lot::Mutex;
use skiff_client::{key_of, Change, EventRecorder, Store, WorkQueue};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

pub use plan::{TEMPLATE_GENERATION_ANNOTATION, TEMPLATE_GENERATION_LABEL};

/// The state a DaemonSet sync reads and writes through.
struct Shared {
    client: kube::Client,
    recorder: EventRecorder,
    queue: WorkQueue<String>,
    expectations: Arc<Expectations>,
    sets: Store<DaemonSet>,
    pods: Store<Pod>,
    nodes: Store<Node>,
    revisions: Store<ControllerRevision>,
    /// Failed-pod backoff per `daemonset key/node`: failures and when the last was handled.
    failed_backoff: Mutex<HashMap<String, (u32, Instant)>>,
}

/// Runs one pod per eligible node for each DaemonSet.
pub struct DaemonSetController {
    shared: Arc<Shared>,
}

/// Whether a node change can change which daemon pods it should run.
fn node_changed(change: &Change<Node>) -> bool {
    match change {
        Change::Applied {
            old: Some(old),
            new,
        } => {
            old.metadata.labels != new.metadata.labels
                || old.spec.as_ref().map(|s| (&s.taints, s.unschedulable))
                    != new.spec.as_ref().map(|s| (&s.taints, s.unschedulable))
        }
        _ => true,
    }
}

impl DaemonSetController {
    /// Registers with the informers.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let shared = Arc::new(Shared {
            client: ctx.client.clone(),
            recorder: ctx.recorder("daemonset-controller"),
            queue: WorkQueue::new(),
            expectations: Arc::new(Expectations::default()),
            sets: informers.daemon_sets.store(),
            pods: informers.pods.store(),
            nodes: informers.nodes.store(),
            revisions: informers.controller_revisions.store(),
            failed_backoff: Mutex::new(HashMap::new()),
        });
        let queue = shared.queue.clone();
        informers
            .daemon_sets
            .on_change(move |c| queue.add(key_of(c.object().meta())));
        PodRouter {
            kind: "DaemonSet",
            owners: shared.sets.clone(),
            queue: shared.queue.clone(),
            expectations: shared.expectations.clone(),
            selector: |d: &DaemonSet| d.spec.as_ref().map(|s| s.selector.clone()),
        }
        .register(&informers.pods);
        let (queue, sets) = (shared.queue.clone(), shared.sets.clone());
        informers.nodes.on_change(move |c| {
            if node_changed(c) {
                for key in sets.keys() {
                    queue.add(key);
                }
            }
        });
        let queue = shared.queue.clone();
        informers.controller_revisions.on_change(move |c| {
            if let Some(key) = controller_key(c.object().meta(), "DaemonSet") {
                queue.add(key);
            }
        });
        DaemonSetController { shared }
    }

    /// Starts the workers.
    pub fn start(self) {
        let shared = self.shared;
        shared
            .queue
            .clone()
            .run_workers(2, "daemonset", move |key: String| {
                let shared = shared.clone();
                async move { shared.sync(&key).await }
            });
    }
}
