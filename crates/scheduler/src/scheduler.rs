//! The scheduling loop: pop a pod, filter and score under the cache lock, assume it on the
//! chosen node and bind in the background; explain, and maybe preempt, when nothing fits.

use crate::api;
use crate::cache::Cache;
use crate::config::Config;
use crate::cycle_state::CycleState;
use crate::diagnosis::{with_post_filter, Diagnosis};
use crate::framework::{Code, Failure, Plugin};
use crate::informers::{self, Listers, Shared, POD_GONE};
use crate::plugins::volume_binding;
use crate::pod_info::CachedPod;
use crate::preemption::{preempt, Candidate};
use crate::priority::may_preempt;
use crate::queue::{QueuedPod, SchedulingQueue};
use crate::schedule;
use k8s_openapi::api::core::v1::Pod;
use parking_lot::Mutex;
use skiff_client::{EventRecorder, EventType};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many API writes (bindings, status patches) may be in flight.
pub const MAX_IN_FLIGHT: usize = 64;

/// Runs the scheduler forever (leader election is the caller's business).
pub async fn run(client: kube::Client, config: Config) {
    let shared = Shared {
        cache: Arc::new(Mutex::new(Cache::new())),
        queue: SchedulingQueue::new(),
        scheduler_name: config.scheduler_name.clone(),
    };
    let listers = informers::start(&client, &config.informers, &shared);
    listers.wait_ready().await;
    tracing::info!(scheduler = %config.scheduler_name, "caches synced, scheduling");
    let mut sched = Loop {
        events: EventRecorder::new(client.clone(), &config.scheduler_name),
        client,
        shared,
        listers,
        writes: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        algorithm: schedule::Scheduler {
            next_start: 0,
            percentage: config.percentage_of_nodes_to_score,
        },
    };
    sched.run().await
}

struct Loop {
    client: kube::Client,
    events: EventRecorder,
    shared: Shared,
    listers: Listers,
    writes: Arc<Semaphore>,
    algorithm: schedule::Scheduler,
}

/// A pre-filter's rejection, the same on every node (so preemption cannot help).
fn rejected_everywhere(cache: &Cache, message: String) -> Diagnosis {
    let nodes = cache.nodes();
    let failure = Failure::new(
        Plugin::VolumeBinding,
        Code::UnschedulableAndUnresolvable,
        message.clone(),
    );
    Diagnosis {
        num_all_nodes: nodes.len(),
        failures: nodes
            .iter()
            .map(|n| (n.name().to_string(), failure.clone()))
            .collect(),
        pre_filter: Some(message),
    }
}

/// What the background task does after a failed attempt.
struct Failed {
    pod: Arc<Pod>,
    message: String,
    preemption: Option<(Candidate, Vec<Arc<Pod>>)>,
}

impl Loop {
    async fn run(&mut self) {
        let mut since_yield = 0u32;
        loop {
            let Ok(permit) = self.writes.clone().acquire_owned().await else {
                return;
            };
            let qp = self.shared.queue.pop().await;
            self.schedule_one(qp, permit);
            since_yield += 1;
            if since_yield >= 32 {
                since_yield = 0;
                tokio::task::yield_now().await;
            }
        }
    }

    fn schedule_one(&mut self, qp: QueuedPod, permit: OwnedSemaphorePermit) {
        let pod = qp.pod.clone();
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if self.shared.cache.lock().pod_node(&uid).is_some() {
            self.shared.queue.done(&qp.key);
            return;
        }
        let cycle_no = self.shared.queue.cycle();
        let default_selector = self.listers.default_selector(&pod);
        let mut cache = self.shared.cache.lock();
        let mut cycle = CycleState::new(&pod, qp.priority, default_selector, &cache);
        let volumes = volume_binding::pre_filter(&pod, &self.listers.volumes);
        let outcome = match volumes {
            Ok(v) => {
                cycle.volumes = v;
                self.algorithm.schedule(&cycle, &cache)
            }
            Err(message) => Err(rejected_everywhere(&cache, message)),
        };
        let diagnosis = match outcome {
            Ok(node) => {
                let writes = cache
                    .node(&node)
                    .map(|n| volume_binding::pre_bind(&cycle.volumes, n))
                    .unwrap_or_default();
                cache.assume(Arc::new(CachedPod::new(pod.clone(), qp.priority)), &node);
                drop(cache);
                self.shared.queue.done(&qp.key);
                self.spawn_bind(qp, node, writes, permit);
                return;
            }
            Err(d) => d,
        };
        let mut post_filter = None;
        let mut preemption = None;
        if diagnosis.num_all_nodes > 0 {
            let allowed = may_preempt(&pod, &self.listers.priority_classes);
            let pdbs = if allowed {
                self.listers.pdbs.list()
            } else {
                Vec::new()
            };
            match preempt(&cycle, &cache, &diagnosis, allowed, &pdbs) {
                Ok(candidate) => {
                    let displaced: Vec<Arc<CachedPod>> = cache
                        .nominated_on(&candidate.node)
                        .filter(|p| p.priority < qp.priority && p.uid != uid)
                        .cloned()
                        .collect();
                    for d in &displaced {
                        cache.clear_nomination(&d.uid);
                    }
                    cache.nominate(
                        Arc::new(CachedPod::new(pod.clone(), qp.priority)),
                        &candidate.node,
                    );
                    let displaced = displaced.iter().map(|d| d.pod.clone()).collect();
                    preemption = Some((candidate, displaced));
                }
                Err(message) => post_filter = Some(format!("preemption: {message}")),
            }
        }
        drop(cache);
        self.shared
            .queue
            .unschedulable(&qp.key, diagnosis.plugins(), cycle_no);
        let message = with_post_filter(&diagnosis.message(), post_filter.as_deref());
        tracing::debug!(pod = %qp.key, "unschedulable: {message}");
        self.spawn_failed(
            Failed {
                pod,
                message,
                preemption,
            },
            permit,
        );
    }

    fn spawn_bind(
        &self,
        qp: QueuedPod,
        node: String,
        volumes: Vec<volume_binding::Write>,
        permit: OwnedSemaphorePermit,
    ) {
        let client = self.client.clone();
        let events = self.events.clone();
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let mut result = api::prebind_volumes(&client, &qp.pod, &node, &volumes).await;
            if result.is_ok() {
                result = api::bind(&client, &qp.pod, &node).await;
            }
            drop(permit);
            match result {
                Ok(()) => events.publish(
                    &*qp.pod,
                    EventType::Normal,
                    "Scheduled",
                    format!("Successfully assigned {} to {node}", qp.key),
                ),
                Err(e) => {
                    let uid = qp.pod.metadata.uid.clone().unwrap_or_default();
                    shared.cache.lock().forget(&uid);
                    shared.queue.move_all(POD_GONE);
                    if e.is_not_found() {
                        return;
                    }
                    tracing::debug!("{e}");
                    if !e.is_conflict() {
                        let message = format!("Binding rejected: {e}");
                        events.publish(&*qp.pod, EventType::Warning, "FailedScheduling", message);
                    }
                    shared.queue.retry(qp);
                }
            }
        });
    }

    fn spawn_failed(&self, failed: Failed, permit: OwnedSemaphorePermit) {
        let client = self.client.clone();
        let events = self.events.clone();
        tokio::spawn(async move {
            let Failed {
                pod,
                message,
                preemption,
            } = failed;
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            if let Some((candidate, displaced)) = &preemption {
                for victim in &candidate.victims {
                    match api::delete_victim(&client, &victim.pod).await {
                        Ok(()) => events.publish(
                            &*victim.pod,
                            EventType::Normal,
                            "Preempted",
                            format!("Preempted by pod {uid} on node {}", candidate.node),
                        ),
                        Err(e) => tracing::warn!("{e}"),
                    }
                }
                for d in displaced {
                    if let Err(e) = api::clear_nomination(&client, d).await {
                        tracing::debug!("{e}");
                    }
                }
            }
            let nominated = preemption.as_ref().map(|(c, _)| c.node.as_str());
            if let Some(patch) = api::unschedulable_patch(&pod, &message, nominated) {
                if let Err(e) = api::patch_status(&client, &pod, &patch).await {
                    tracing::debug!("{e}");
                }
            }
            events.publish(&*pod, EventType::Warning, "FailedScheduling", message);
            drop(permit);
        });
    }
}
