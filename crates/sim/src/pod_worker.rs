//! Syncs one pod key: runs it on its hollow node's runtime, writes its status through
//! `pods/status`, and finalizes it once stopped after a graceful delete.

use crate::shared::{Owner, Shared};
use k8s_openapi::api::core::v1::Pod;
use skiff_kubelet::runtime::Error as RuntimeError;
use skiff_kubelet::{pod_status, StatusContext};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Errors syncing a pod (retried with backoff).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The runtime failed.
    #[error("runtime: {0}")]
    Runtime(#[from] RuntimeError),
    /// The API refused a write.
    #[error("api: {0}")]
    Api(#[from] kube::Error),
    /// The status could not be encoded.
    #[error("encoding status: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Syncs the pod under `key`; returns when to sync it again, if a backoff is pending.
pub async fn sync(shared: &Shared, key: &str) -> Result<Option<Duration>, Error> {
    let pod = shared.pods.get(key);
    let previous = shared.owners.lock().get(key).cloned();
    let current_uid = pod.as_ref().and_then(|p| p.metadata.uid.clone());
    if let Some(prev) = &previous {
        if Some(&prev.uid) != current_uid.as_ref() {
            if prev.node.is_alive() {
                prev.node
                    .syncer
                    .terminate(&prev.uid, Duration::ZERO)
                    .await?;
            }
            shared.owners.lock().remove(key);
            shared.written.lock().remove(key);
        }
    }
    let Some(pod) = pod else { return Ok(None) };
    let node_name = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .unwrap_or_default();
    let Some(node) = shared.live_node(&node_name).cloned() else {
        return Ok(None);
    };
    if node.pod_cidr().is_none() {
        return Ok(None);
    }
    let uid = current_uid.unwrap_or_default();
    if pod.metadata.deletion_timestamp.is_some() {
        return finalize(shared, key, &pod, &node.syncer, &uid)
            .await
            .map(|_| None);
    }
    let result = match node.syncer.sync(&pod).await {
        Ok(r) => r,
        Err(RuntimeError::NetworkNotReady(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    shared.owners.lock().insert(
        key.to_string(),
        Owner {
            node: node.clone(),
            uid: uid.clone(),
        },
    );
    let readiness = HashMap::new();
    let ctx = StatusContext {
        host_ip: &node.config.internal_ip,
        runtime_name: "fake",
        waiting: &result.waiting,
        readiness: &readiness,
        started: &Default::default(),
        now: k8s_openapi::jiff::Timestamp::now(),
    };
    let status = pod_status(&pod, &result.state, &ctx);
    skiff_kubelet::report::write_status(&shared.client, key, &pod, status, &shared.written).await?;
    Ok(result.requeue_after)
}

/// Stops the pod's containers, then deletes it for good (grace 0, uid precondition).
async fn finalize(
    shared: &Shared,
    key: &str,
    pod: &Arc<Pod>,
    syncer: &skiff_kubelet::PodSyncer,
    uid: &str,
) -> Result<(), Error> {
    let grace = pod
        .metadata
        .deletion_grace_period_seconds
        .unwrap_or(0)
        .max(0) as u64;
    syncer.terminate(uid, Duration::from_secs(grace)).await?;
    shared.owners.lock().remove(key);
    skiff_kubelet::report::delete_stopped(&shared.client, pod).await?;
    shared.written.lock().remove(key);
    Ok(())
}

/// Takes pod keys from the queue forever.
pub async fn run(shared: Arc<Shared>) {
    loop {
        let key = shared.pod_queue.next().await;
        match sync(&shared, &key).await {
            Ok(requeue) => {
                shared.pod_queue.forget(&key);
                if let Some(after) = requeue {
                    shared.pod_queue.add_after(key.clone(), after);
                }
            }
            Err(e) => {
                tracing::debug!(pod = %key, "sync failed, retrying: {e}");
                shared.pod_queue.add_rate_limited(key.clone());
            }
        }
        shared.pod_queue.done(&key);
    }
}
