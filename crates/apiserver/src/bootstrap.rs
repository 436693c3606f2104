//! Objects every cluster starts with: system namespaces, the `kubernetes` Service and the
//! system PriorityClasses.

use crate::error::ApiResult;
use crate::registry::Registry;
use serde_json::json;
use skiff_api::{catalogue, strategy};

/// Namespaces that exist from the start.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Creates the system namespaces, the `kubernetes` Service and the system PriorityClasses if
/// they are missing.
pub async fn ensure_defaults(reg: &Registry) -> ApiResult<()> {
    let ns_rt = catalogue::namespaces();
    for name in SYSTEM_NAMESPACES {
        if reg.get_opt(ns_rt, None, name).await?.is_some() {
            continue;
        }
        let mut obj = json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": { "name": name, "labels": { "kubernetes.io/metadata.name": name } },
        });
        crate::meta::prepare_create(&mut obj)?;
        strategy::default(ns_rt, &mut obj);
        strategy::prepare_for_create(ns_rt, &mut obj);
        match reg.create(ns_rt, None, name, obj).await {
            Ok(_) => {}
            Err(e) if e.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    let svc_rt = catalogue::services();
    if reg
        .get_opt(svc_rt, Some("default"), "kubernetes")
        .await?
        .is_none()
    {
        let mut svc = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": { "name": "kubernetes", "namespace": "default",
                          "labels": { "component": "apiserver", "provider": "kubernetes" } },
            "spec": {
                "type": "ClusterIP", "clusterIP": "10.43.0.1", "clusterIPs": ["10.43.0.1"],
                "ports": [{ "name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443 }],
                "sessionAffinity": "None",
            },
        });
        crate::meta::prepare_create(&mut svc)?;
        strategy::default(svc_rt, &mut svc);
        strategy::prepare_for_create(svc_rt, &mut svc);
        match reg.create(svc_rt, Some("default"), "kubernetes", svc).await {
            Ok(_) => {}
            Err(e) if e.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    let pc_rt = crate::admission::priority_classes()?;
    for (name, value, description) in crate::admission::SYSTEM_CLASSES {
        if reg.get_opt(pc_rt, None, name).await?.is_some() {
            continue;
        }
        let mut pc = json!({
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": { "name": name },
            "value": value, "description": description, "preemptionPolicy": "PreemptLowerPriority",
        });
        crate::meta::prepare_create(&mut pc)?;
        strategy::default(pc_rt, &mut pc);
        strategy::prepare_for_create(pc_rt, &mut pc);
        match reg.create(pc_rt, None, name, pc).await {
            Ok(_) => {}
            Err(e) if e.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
