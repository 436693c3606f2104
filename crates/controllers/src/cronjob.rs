//! The CronJob controller: creates a Job at each scheduled time of a cron schedule, keeps
//! `status.active` in step with its Jobs, applies the concurrency policy and prunes history.

mod plan;
pub mod schedule;
mod sync;

use crate::informers::controller_key;
use crate::{Context, Informers};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::Resource;
use skiff_client::{key_of, EventRecorder, Store, WorkQueue};
use std::sync::Arc;

pub use plan::{job_name, SCHEDULED_TIMESTAMP};
pub use schedule::{Schedule, ScheduleError};

/// The state a CronJob sync reads and writes through.
struct Shared {
    client: kube::Client,
    recorder: EventRecorder,
    queue: WorkQueue<String>,
    cron_jobs: Store<CronJob>,
    jobs: Store<Job>,
}

/// Runs Jobs on a cron schedule.
pub struct CronJobController {
    shared: Arc<Shared>,
}

impl CronJobController {
    /// Registers with the informers.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let shared = Arc::new(Shared {
            client: ctx.client.clone(),
            recorder: ctx.recorder("cronjob-controller"),
            queue: WorkQueue::new(),
            cron_jobs: informers.cron_jobs.store(),
            jobs: informers.jobs.store(),
        });
        let queue = shared.queue.clone();
        informers
            .cron_jobs
            .on_change(move |c| queue.add(key_of(c.object().meta())));
        let queue = shared.queue.clone();
        informers.jobs.on_change(move |c| {
            if let Some(key) = controller_key(c.object().meta(), "CronJob") {
                queue.add(key);
            }
        });
        CronJobController { shared }
    }

    /// Starts the workers.
    pub fn start(self) {
        let shared = self.shared;
        shared
            .queue
            .clone()
            .run_workers(2, "cronjob", move |key: String| {
                let shared = shared.clone();
                async move { sync::sync(&shared, &key).await }
            });
    }
}
