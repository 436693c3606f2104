//! The Job controller: runs pods to a number of completions (NonIndexed or Indexed) with
//! parallelism, backoff limit, active deadline, suspension and TTL after finishing, tracking
//! terminated pods with the `batch.kubernetes.io/job-tracking` finalizer.

mod cleanup;
mod conditions;
mod manage;
mod sync;
#[cfg(test)]
mod tests;
mod tracking;

use crate::expectations::Expectations;
use crate::informers::{controller_key, controller_uid};
use crate::pod_events::PodRouter;
use crate::{Context, Informers};
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::Resource;
use parking_lot::Mutex;
use skiff_client::{key_of, EventRecorder, Store, WorkQueue};
use std::collections::HashMap;
use std::sync::Arc;

pub use conditions::finished_condition;
pub use tracking::{COMPLETION_INDEX, TRACKING_FINALIZER};

/// Queue keys for pods whose Job is gone but which still hold the tracking finalizer.
const ORPHAN_POD_PREFIX: &str = "pod:";

/// Consecutive pod failures since the last success, and when the last one was seen.
#[derive(Clone, Copy, Default)]
struct Backoff {
    failures: u32,
    last: Option<Timestamp>,
}

/// The state a Job sync reads and writes through.
struct Shared {
    client: kube::Client,
    recorder: EventRecorder,
    queue: WorkQueue<String>,
    expectations: Arc<Expectations>,
    jobs: Store<Job>,
    pods: Store<Pod>,
    backoff: Mutex<HashMap<String, Backoff>>,
}

/// Runs pods to completion for Jobs.
pub struct JobController {
    shared: Arc<Shared>,
}

impl JobController {
    /// Registers with the informers.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let shared = Arc::new(Shared {
            client: ctx.client.clone(),
            recorder: ctx.recorder("job-controller"),
            queue: WorkQueue::new(),
            expectations: Arc::new(Expectations::default()),
            jobs: informers.jobs.store(),
            pods: informers.pods.store(),
            backoff: Mutex::new(HashMap::new()),
        });
        let queue = shared.queue.clone();
        informers
            .jobs
            .on_change(move |c| queue.add(key_of(c.object().meta())));
        PodRouter {
            kind: "Job",
            owners: shared.jobs.clone(),
            queue: shared.queue.clone(),
            expectations: shared.expectations.clone(),
            selector: |j: &Job| j.spec.as_ref().and_then(|s| s.selector.clone()),
        }
        .register(&informers.pods);
        let (queue, jobs) = (shared.queue.clone(), shared.jobs.clone());
        informers.pods.on_change(move |c| {
            let pod = c.object();
            if !tracking::has_finalizer(pod) {
                return;
            }
            let owner = controller_key(&pod.metadata, "Job").and_then(|k| jobs.get(&k));
            if owner.is_none_or(|j| j.metadata.uid.as_deref() != controller_uid(&pod.metadata)) {
                queue.add(format!("{ORPHAN_POD_PREFIX}{}", key_of(&pod.metadata)));
            }
        });
        JobController { shared }
    }

    /// Starts the workers.
    pub fn start(self) {
        let shared = self.shared;
        shared
            .queue
            .clone()
            .run_workers(4, "job", move |key: String| {
                let shared = shared.clone();
                async move { shared.sync(&key).await }
            });
    }
}
