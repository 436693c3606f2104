//! Syncs one hollow node: hands its pod CIDR to the runtime (then wakes its pods) and posts
//! Ready status when the API shows otherwise or the last heartbeat is old.

use crate::shared::{Shared, NODE_INDEX};
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use skiff_client::key_of;
use skiff_kubelet::node::{is_ready, post_status};
use skiff_kubelet::Runtime;
use std::sync::Arc;

/// Errors syncing a node (retried with backoff).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The runtime refused the pod CIDR.
    #[error("runtime: {0}")]
    Runtime(#[from] skiff_kubelet::runtime::Error),
    /// Posting status failed.
    #[error("{0}")]
    Node(#[from] skiff_kubelet::node::Error),
}

fn heartbeat_age_secs(node: &Node) -> i64 {
    let beat = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .and_then(|c| c.last_heartbeat_time.as_ref())
        .map(|t| t.0.as_second());
    beat.map_or(i64::MAX, |b| Timestamp::now().as_second() - b)
}

/// Whether a node's status is due: not Ready in the API, or its heartbeat is old.
pub fn status_due(node: &Node, interval_secs: i64) -> bool {
    !is_ready(node) || heartbeat_age_secs(node) >= interval_secs
}

/// Syncs the node called `name`.
pub async fn sync(shared: &Shared, name: &str) -> Result<(), Error> {
    let Some(hollow) = shared.live_node(name) else {
        return Ok(());
    };
    let Some(node) = shared.node_store.get(name) else {
        return Ok(());
    };
    let cidr = node.spec.as_ref().and_then(|s| s.pod_cidr.clone());
    if let Some(cidr) = cidr.filter(|c| !c.is_empty()) {
        if hollow.pod_cidr().as_deref() != Some(cidr.as_str()) {
            hollow.runtime.update_runtime_config(&cidr).await?;
            hollow.set_pod_cidr(&cidr);
            for pod in shared.pods.by_index(NODE_INDEX, name) {
                shared.pod_queue.add(key_of(&pod.metadata));
            }
        }
    }
    if status_due(&node, shared.config.node_status_interval.as_secs() as i64) {
        let api: Api<Node> = Api::all(shared.client.clone());
        post_status(&api, &hollow.config, Some(&node)).await?;
    }
    Ok(())
}

/// Takes node names from the queue forever.
pub async fn run(shared: Arc<Shared>) {
    loop {
        let name = shared.node_queue.next().await;
        match sync(&shared, &name).await {
            Ok(()) => shared.node_queue.forget(&name),
            Err(e) => {
                tracing::debug!(node = %name, "node sync failed, retrying: {e}");
                shared.node_queue.add_rate_limited(name.clone());
            }
        }
        shared.node_queue.done(&name);
    }
}

/// Every few seconds, queues the live nodes whose status is due.
pub async fn heartbeats(shared: Arc<Shared>) {
    let every = (shared.config.node_status_interval / 10).max(std::time::Duration::from_secs(1));
    let secs = shared.config.node_status_interval.as_secs() as i64;
    loop {
        tokio::time::sleep(every).await;
        for (name, hollow) in &shared.nodes {
            if !hollow.is_alive() {
                continue;
            }
            if shared
                .node_store
                .get(name)
                .is_some_and(|n| status_due(&n, secs))
            {
                shared.node_queue.add(name.clone());
            }
        }
    }
}
