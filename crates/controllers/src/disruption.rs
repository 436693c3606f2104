//! The disruption controller: PodDisruptionBudget status (expected, healthy and desired pods,
//! disruptions allowed, the DisruptionAllowed condition) that the eviction API spends.

mod budget;

use crate::{selector, Context, Informers};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use skiff_client::{key_of, split_key, Change, EventRecorder, EventType, Store, WorkQueue};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// Errors computing or writing a budget's status.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The status write failed.
    #[error("status update: {0}")]
    Api(#[from] kube::Error),
}

/// Upstream's disruption controller.
pub struct DisruptionController {
    client: kube::Client,
    pdbs: Store<PodDisruptionBudget>,
    pods: Store<Pod>,
    replica_sets: Store<ReplicaSet>,
    replication_controllers: Store<ReplicationController>,
    deployments: Store<Deployment>,
    stateful_sets: Store<StatefulSet>,
    queue: WorkQueue<String>,
    recorder: EventRecorder,
}

fn matches(pdb: &PodDisruptionBudget, pod: &Pod) -> bool {
    // policy/v1: a null selector selects nothing, an empty one everything
    pdb.spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .is_some_and(|sel| selector::matches(sel, pod.metadata.labels.as_ref()))
}

impl DisruptionController {
    /// Queues budgets when they, their pods or their pods' controllers change.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let queue = WorkQueue::new();
        let q = queue.clone();
        informers.pod_disruption_budgets.on_change(move |c| {
            if let Change::Applied { new, .. } = c {
                q.add(key_of(&new.metadata));
            }
        });
        let (q, pdbs) = (queue.clone(), informers.pod_disruption_budgets.store());
        informers.pods.on_change(move |c| {
            let pod = c.object();
            let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
            for pdb in pdbs.in_namespace(ns) {
                if matches(&pdb, pod) {
                    q.add(key_of(&pdb.metadata));
                }
            }
        });
        macro_rules! requeue_namespace {
            ($informer:ident) => {{
                let (q, pdbs) = (queue.clone(), informers.pod_disruption_budgets.store());
                informers.$informer.on_change(move |c| {
                    let ns = c.object().metadata.namespace.as_deref().unwrap_or_default();
                    for pdb in pdbs.in_namespace(ns) {
                        q.add(key_of(&pdb.metadata));
                    }
                });
            }};
        }
        requeue_namespace!(replica_sets);
        requeue_namespace!(replication_controllers);
        requeue_namespace!(deployments);
        requeue_namespace!(stateful_sets);
        DisruptionController {
            client: ctx.client.clone(),
            pdbs: informers.pod_disruption_budgets.store(),
            pods: informers.pods.store(),
            replica_sets: informers.replica_sets.store(),
            replication_controllers: informers.replication_controllers.store(),
            deployments: informers.deployments.store(),
            stateful_sets: informers.stateful_sets.store(),
            queue,
            recorder: ctx.recorder("controllermanager"),
        }
    }

    /// Starts the workers.
    pub fn start(self) {
        let this = Arc::new(self);
        let queue = this.queue.clone();
        queue.run_workers(2, "disruption", move |key| {
            let this = this.clone();
            async move { this.sync(&key).await }
        });
    }

    /// The scale of the controller managing `pod` (uid-checked), as upstream's finders.
    fn scale_of(&self, pod: &Pod, ns: &str) -> Option<(String, i32)> {
        let r = pod
            .metadata
            .owner_references
            .as_ref()?
            .iter()
            .find(|r| r.controller == Some(true))?;
        let group = r.api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let same = |uid: Option<&String>| uid.map(String::as_str) == Some(r.uid.as_str());
        match (group, r.kind.as_str()) {
            ("apps", "ReplicaSet") => {
                let rs = self
                    .replica_sets
                    .get_in(ns, &r.name)
                    .filter(|o| same(o.metadata.uid.as_ref()))?;
                let owner = rs
                    .metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .find(|o| o.controller == Some(true) && o.kind == "Deployment");
                if let Some(d) = owner.and_then(|o| {
                    self.deployments
                        .get_in(ns, &o.name)
                        .filter(|d| d.metadata.uid.as_deref() == Some(o.uid.as_str()))
                }) {
                    let n = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                    return Some((d.metadata.uid.clone().unwrap_or_default(), n));
                }
                Some((
                    r.uid.clone(),
                    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                ))
            }
            ("", "ReplicationController") => {
                let rc = self
                    .replication_controllers
                    .get_in(ns, &r.name)
                    .filter(|o| same(o.metadata.uid.as_ref()))?;
                Some((
                    r.uid.clone(),
                    rc.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                ))
            }
            ("apps", "StatefulSet") => {
                let ss = self
                    .stateful_sets
                    .get_in(ns, &r.name)
                    .filter(|o| same(o.metadata.uid.as_ref()))?;
                Some((
                    r.uid.clone(),
                    ss.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                ))
            }
            _ => None,
        }
    }

    /// The expected pod count from the pods' controllers; `None` if a pod has none we know.
    fn expected_from_scale(&self, pods: &[Arc<Pod>], ns: &str) -> Option<i32> {
        let mut seen = HashSet::new();
        let mut total = 0;
        for pod in pods {
            let (uid, n) = self.scale_of(pod, ns)?;
            if seen.insert(uid) {
                total += n;
            }
        }
        Some(total)
    }

    async fn sync(&self, key: &str) -> Result<(), Error> {
        let Some(pdb) = self.pdbs.get(key) else {
            return Ok(());
        };
        let (ns, name) = split_key(key);
        let pods: Vec<Arc<Pod>> = self
            .pods
            .in_namespace(ns)
            .into_iter()
            .filter(|p| matches(&pdb, p))
            .collect();
        if pods.is_empty() {
            self.recorder.publish(
                &*pdb,
                EventType::Normal,
                "NoPods",
                "No matching pods found".into(),
            );
        }
        let now = Timestamp::now();
        let old = pdb.status.clone().unwrap_or_default();
        let (disrupted, next_expiry) =
            budget::prune_disrupted(&old.disrupted_pods.clone().unwrap_or_default(), &pods, now);
        let expected = if budget::needs_scale(&pdb) {
            let found = self.expected_from_scale(&pods, ns);
            if found.is_none() {
                self.recorder.publish(
                    &*pdb,
                    EventType::Warning,
                    "CalculateExpectedPodCountFailed",
                    "Failed to calculate the number of expected pods: found no controllers for pods".into(),
                );
            }
            found
        } else {
            Some(pods.len() as i32)
        };
        let numbers = expected.and_then(|e| {
            let desired = budget::desired_healthy(&pdb, e)?;
            Some((e, budget::current_healthy(&pods, &disrupted), desired))
        });
        let status = budget::status(&pdb, numbers, disrupted, now);
        if let Some(at) = next_expiry {
            let wait = (at - now.as_second()).max(1) as u64;
            self.queue
                .add_after(key.to_string(), Duration::from_secs(wait));
        }
        if same_status(&old, &status) {
            return Ok(());
        }
        let mut updated = (*pdb).clone();
        updated.status = Some(status);
        let api: Api<PodDisruptionBudget> = Api::namespaced(self.client.clone(), ns);
        match api
            .replace_status(name, &PostParams::default(), &updated)
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn same_status(
    a: &k8s_openapi::api::policy::v1::PodDisruptionBudgetStatus,
    b: &k8s_openapi::api::policy::v1::PodDisruptionBudgetStatus,
) -> bool {
    let empty = BTreeMap::new();
    let cond = |s: &k8s_openapi::api::policy::v1::PodDisruptionBudgetStatus| {
        s.conditions
            .iter()
            .flatten()
            .map(|c| (c.type_.clone(), c.status.clone(), c.reason.clone()))
            .collect::<Vec<_>>()
    };
    a.current_healthy == b.current_healthy
        && a.desired_healthy == b.desired_healthy
        && a.expected_pods == b.expected_pods
        && a.disruptions_allowed == b.disruptions_allowed
        && a.observed_generation == b.observed_generation
        && a.disrupted_pods.as_ref().unwrap_or(&empty)
            == b.disrupted_pods.as_ref().unwrap_or(&empty)
        && cond(a) == cond(b)
}
