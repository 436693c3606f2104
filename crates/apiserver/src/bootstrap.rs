//! Objects every cluster starts with: system namespaces, the `kubernetes` Service, the
//! system PriorityClasses and the default StorageClass `local-path`.

use crate::error::ApiResult;
use crate::registry::Registry;
use serde_json::json;
use skiff_api::{catalogue, strategy};

/// Namespaces that exist from the start.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// The default StorageClass, served by every node's built-in local-path provisioner (k3s's
/// names, so manifests written for k3s work unchanged).
pub const LOCAL_PATH_CLASS: &str = "local-path";

/// Creates an object unless it exists (another server may have just created it).
async fn create_missing(
    reg: &Registry,
    rt: &'static skiff_api::ResourceType,
    namespace: Option<&str>,
    name: &str,
    mut obj: serde_json::Value,
) -> ApiResult<()> {
    crate::meta::prepare_create(&mut obj)?;
    strategy::default(rt, &mut obj);
    strategy::prepare_for_create(rt, &mut obj);
    match reg.create(rt, namespace, name, obj).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates the system namespaces, the `kubernetes` Service, the system PriorityClasses and the
/// default StorageClass if they are missing.
pub async fn ensure_defaults(reg: &Registry) -> ApiResult<()> {
    let ns_rt = catalogue::namespaces();
    for name in SYSTEM_NAMESPACES {
        if reg.get_opt(ns_rt, None, name).await?.is_some() {
            continue;
        }
        let obj = json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": { "name": name, "labels": { "kubernetes.io/metadata.name": name } },
        });
        create_missing(reg, ns_rt, None, name, obj).await?;
    }
    let svc_rt = catalogue::services();
    if reg
        .get_opt(svc_rt, Some("default"), "kubernetes")
        .await?
        .is_none()
    {
        let svc = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": { "name": "kubernetes", "namespace": "default",
                          "labels": { "component": "apiserver", "provider": "kubernetes" } },
            "spec": {
                "type": "ClusterIP", "clusterIP": "10.43.0.1", "clusterIPs": ["10.43.0.1"],
                "ports": [{ "name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443 }],
                "sessionAffinity": "None",
            },
        });
        create_missing(reg, svc_rt, Some("default"), "kubernetes", svc).await?;
    }
    let pc_rt = crate::admission::priority_classes()?;
    for (name, value, description) in crate::admission::SYSTEM_CLASSES {
        if reg.get_opt(pc_rt, None, name).await?.is_some() {
            continue;
        }
        let pc = json!({
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": { "name": name },
            "value": value, "description": description, "preemptionPolicy": "PreemptLowerPriority",
        });
        create_missing(reg, pc_rt, None, name, pc).await?;
    }
    let sc_rt = crate::admission::storage_classes()?;
    if reg.get_opt(sc_rt, None, LOCAL_PATH_CLASS).await?.is_none() {
        let sc = json!({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": { "name": LOCAL_PATH_CLASS,
                          "annotations": { "storageclass.kubernetes.io/is-default-class": "true" } },
            "provisioner": "rancher.io/local-path",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
        });
        create_missing(reg, sc_rt, None, LOCAL_PATH_CLASS, sc).await?;
    }
    Ok(())
}
