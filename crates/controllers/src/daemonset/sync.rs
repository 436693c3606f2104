//! One DaemonSet sync: claim pods, make sure the current revision exists, create and delete
//! pods per node (then roll out), prune history and write status.

use super::eligibility::{pin_to_node, target_node};
use super::plan::{self, PodsByNode, TEMPLATE_GENERATION_LABEL};
use super::Shared;
use crate::claim;
use crate::error::Result;
use crate::history::{self, REVISION_HASH_LABEL};
use crate::informers::{controlled_by, ORPHAN_INDEX};
use crate::pods::{controller_ref, from_template};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, PostParams};
use kube::Api;
use skiff_client::{split_key, EventType};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The first failed-pod backoff; doubles per failure up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_secs(1);
/// The longest failed-pod backoff.
const MAX_BACKOFF: Duration = Duration::from_secs(900);

impl Shared {
    /// Syncs the DaemonSet under `key`.
    pub(super) async fn sync(&self, key: &str) -> Result<()> {
        let Some(ds) = self.sets.get(key) else {
            self.expectations.forget(key);
            return Ok(());
        };
        if ds.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        let (namespace, name) = split_key(key);
        let pods_api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let uid = ds.metadata.uid.clone().unwrap_or_default();
        let selector = ds
            .spec
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default();
        let owned = controlled_by(&self.pods, &uid);
        let orphans = self.pods.by_index(ORPHAN_INDEX, namespace);
        let claimed = claim::claim(owned, orphans, &selector, false);
        let owner = controller_ref("apps/v1", "DaemonSet", &ds.metadata);
        for p in &claimed.adopt {
            claim::adopt(&pods_api, p.as_ref(), &owner).await?;
        }
        for p in &claimed.release {
            claim::release(&pods_api, p.as_ref(), &uid).await?;
        }
        let Some((revision, hash)) = self.current_revision(&ds, namespace).await? else {
            return Ok(());
        };
        let mut by_node = PodsByNode::new();
        for pod in &claimed.claimed {
            if let Some(node) = target_node(pod.spec.as_ref()) {
                by_node.entry(node).or_default().push(pod.clone());
            }
        }
        let mut nodes: Vec<Arc<Node>> = self.nodes.list();
        nodes.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        let now = Timestamp::now();
        if self.expectations.satisfied(key) {
            let changes = plan::manage(&ds, &nodes, &by_node, &hash, now, |node| {
                self.in_backoff(key, node)
            });
            for pod in &changes.failed {
                let node = target_node(pod.spec.as_ref()).unwrap_or_default();
                let msg = format!(
                    "Found failed daemon pod {namespace}/{} on node {node}, will try to kill it",
                    pod.metadata.name.as_deref().unwrap_or_default()
                );
                self.recorder
                    .publish(ds.as_ref(), EventType::Warning, "FailedDaemonPod", msg);
                self.note_failure(key, &node);
            }
            let mut changes = changes;
            if changes.create_on.is_empty() && changes.delete.is_empty() {
                changes = plan::rolling_update(&ds, &nodes, &by_node, &hash, now);
            }
            self.apply(
                key,
                &ds,
                &pods_api,
                &changes.create_on,
                &changes.delete,
                &hash,
            )
            .await?;
        }
        let live: HashSet<String> = claimed
            .claimed
            .iter()
            .filter_map(|p| {
                p.metadata
                    .labels
                    .as_ref()?
                    .get(REVISION_HASH_LABEL)
                    .cloned()
            })
            .map(|h| history::revision_name(name, &h))
            .collect();
        let limit = ds
            .spec
            .as_ref()
            .and_then(|s| s.revision_history_limit)
            .unwrap_or(10);
        let revisions = controlled_by(&self.revisions, &uid);
        let current = revision.metadata.name.clone().unwrap_or_default();
        let revisions_api: Api<ControllerRevision> =
            Api::namespaced(self.client.clone(), namespace);
        history::prune(
            &revisions_api,
            history::to_prune(&revisions, &live, &current, limit),
        )
        .await?;

        let status = plan::status(&ds, &nodes, &by_node, &hash, now);
        if ds.status.as_ref() != Some(&status) {
            let mut updated = (*ds).clone();
            updated.status = Some(status.clone());
            let api: Api<DaemonSet> = Api::namespaced(self.client.clone(), namespace);
            api.replace_status(name, &PostParams::default(), &updated)
                .await?;
        }
        let min_ready = ds
            .spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0);
        if min_ready > 0 && status.number_ready != status.number_available.unwrap_or(0) {
            self.queue
                .add_after(key.to_string(), Duration::from_secs(min_ready as u64));
        }
        Ok(())
    }

    fn in_backoff(&self, key: &str, node: &str) -> bool {
        let map = self.failed_backoff.lock();
        let Some((failures, at)) = map.get(&format!("{key}/{node}")) else {
            return false;
        };
        let delay = BASE_BACKOFF
            .saturating_mul(1 << (*failures).min(10))
            .min(MAX_BACKOFF);
        let left = delay.saturating_sub(at.elapsed());
        if !left.is_zero() {
            self.queue.add_after(key.to_string(), left);
        }
        !left.is_zero()
    }

    fn note_failure(&self, key: &str, node: &str) {
        let mut map = self.failed_backoff.lock();
        let entry = map
            .entry(format!("{key}/{node}"))
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() > MAX_BACKOFF * 2 {
            entry.0 = 0;
        }
        *entry = (entry.0.saturating_add(1), Instant::now());
    }

    /// Creates pods on `nodes` and deletes `pods`, with expectations and events.
    async fn apply(
        &self,
        key: &str,
        ds: &DaemonSet,
        api: &Api<Pod>,
        nodes: &[String],
        pods: &[Arc<Pod>],
        hash: &str,
    ) -> Result<()> {
        if nodes.is_empty() && pods.is_empty() {
            return Ok(());
        }
        self.expectations
            .expect(key, nodes.len() as i64, pods.len() as i64);
        let template = ds
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let name = ds.metadata.name.clone().unwrap_or_default();
        let namespace = ds.metadata.namespace.clone().unwrap_or_default();
        let generation =
            plan::template_generation(ds).or_else(|| ds.metadata.generation.map(|g| g.to_string()));
        let owner = controller_ref("apps/v1", "DaemonSet", &ds.metadata);
        let creates = nodes.iter().map(|node| {
            let mut pod = from_template(&template, &namespace, &format!("{name}-"), owner.clone());
            let labels = pod.metadata.labels.get_or_insert_with(Default::default);
            labels.insert(REVISION_HASH_LABEL.into(), hash.to_string());
            if let Some(g) = &generation {
                labels.insert(TEMPLATE_GENERATION_LABEL.into(), g.clone());
            }
            pin_to_node(pod.spec.get_or_insert_with(Default::default), node);
            async move { (node, api.create(&PostParams::default(), &pod).await) }
        });
        let mut error = None;
        for (node, result) in futures::future::join_all(creates).await {
            match result {
                Ok(pod) => self.recorder.publish(
                    ds,
                    EventType::Normal,
                    "SuccessfulCreate",
                    format!("Created pod: {}", pod.metadata.name.unwrap_or_default()),
                ),
                Err(e) => {
                    self.expectations.creation_observed(key);
                    self.recorder.publish(
                        ds,
                        EventType::Warning,
                        "FailedCreate",
                        format!("Error creating: {e} (node {node})"),
                    );
                    error = Some(e);
                }
            }
        }
        for pod in pods {
            let pod_name = pod.metadata.name.clone().unwrap_or_default();
            match api.delete(&pod_name, &DeleteParams::default()).await {
                Ok(_) => self.recorder.publish(
                    ds,
                    EventType::Normal,
                    "SuccessfulDelete",
                    format!("Deleted pod: {pod_name}"),
                ),
                Err(kube::Error::Api(e)) if e.code == 404 => {
                    self.expectations.deletion_observed(key)
                }
                Err(e) => {
                    self.expectations.deletion_observed(key);
                    self.recorder.publish(
                        ds,
                        EventType::Warning,
                        "FailedDelete",
                        format!("Error deleting: {e}"),
                    );
                    error = Some(e);
                }
            }
        }
        error.map_or(Ok(()), |e| Err(e.into()))
    }
}
