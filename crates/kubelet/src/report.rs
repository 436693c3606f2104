//! Writing what a node learned back to the API: pod status through `pods/status` (skipping
//! writes that would change nothing), and the final delete of a stopped pod.

use k8s_openapi::api::core::v1::{Pod, PodStatus};
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use kube::Api;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// Hashes of the status bodies last written, by pod key.
pub type Written = Mutex<HashMap<String, u64>>;

fn hash(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Whether an API error means the pod is gone or was replaced (nothing more to do).
pub fn is_gone(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404 || s.code == 409)
}

/// Writes `status` for `pod` (guarded by its uid) unless the API already shows it or this
/// node wrote the same body last time.
pub async fn write_status(
    client: &kube::Client,
    key: &str,
    pod: &Pod,
    status: PodStatus,
    written: &Written,
) -> Result<(), kube::Error> {
    if pod.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let patch = serde_json::json!({
        "metadata": { "uid": uid },
        "status": status,
    });
    let h = hash(patch.to_string().as_bytes());
    if written.lock().get(key) == Some(&h) {
        return Ok(());
    }
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    match api
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => {
            written.lock().insert(key.to_string(), h);
            Ok(())
        }
        Err(e) if is_gone(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Deletes a pod whose containers are stopped for good (grace 0, guarded by its uid).
pub async fn delete_stopped(client: &kube::Client, pod: &Pod) -> Result<(), kube::Error> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions {
            uid: pod.metadata.uid.clone(),
            resource_version: None,
        }),
        ..Default::default()
    };
    match api.delete(name, &params).await {
        Ok(_) => Ok(()),
        Err(e) if is_gone(&e) => Ok(()),
        Err(e) => Err(e),
    }
}
