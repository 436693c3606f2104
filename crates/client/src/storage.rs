//! Persistent volume names shared by the scheduler, the volume controller and the node's
//! local-path provisioner: well-known annotations, and whether a volume can serve a claim.

use crate::quantity::parse_quantity;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use std::collections::BTreeMap;

/// The node the scheduler chose for a claim that waits for its first consumer.
pub const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// The provisioner asked to create a volume for a claim.
pub const STORAGE_PROVISIONER: &str = "volume.kubernetes.io/storage-provisioner";
/// The beta spelling of [`STORAGE_PROVISIONER`], still set by upstream.
pub const BETA_STORAGE_PROVISIONER: &str = "volume.beta.kubernetes.io/storage-provisioner";
/// Set on a claim once its binding is complete.
pub const BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// Set on claims and volumes bound by the controller (not pre-bound by a user).
pub const BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
/// The provisioner that created a volume.
pub const PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";
/// A claim's class in the deprecated annotation form.
pub const BETA_CLASS: &str = "volume.beta.kubernetes.io/storage-class";
/// Holds a claim while a pod uses it.
pub const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";
/// Holds a volume while it is bound.
pub const PV_PROTECTION: &str = "kubernetes.io/pv-protection";
/// The provisioner of classes whose volumes are only ever created by hand.
pub const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";
/// The built-in provisioner of node-local directories (k3s's name for it).
pub const LOCAL_PATH_PROVISIONER: &str = "rancher.io/local-path";
/// The default StorageClass every cluster starts with.
pub const LOCAL_PATH_CLASS: &str = "local-path";

fn annotation<'a>(a: Option<&'a BTreeMap<String, String>>, key: &str) -> Option<&'a str> {
    a.and_then(|a| a.get(key)).map(String::as_str)
}

/// The class a claim asks for (`""`: none).
pub fn claim_class(pvc: &PersistentVolumeClaim) -> &str {
    annotation(pvc.metadata.annotations.as_ref(), BETA_CLASS)
        .or_else(|| pvc.spec.as_ref()?.storage_class_name.as_deref())
        .unwrap_or("")
}

/// The class of a volume (`""`: none).
pub fn volume_class(pv: &PersistentVolume) -> &str {
    annotation(pv.metadata.annotations.as_ref(), BETA_CLASS)
        .or_else(|| pv.spec.as_ref()?.storage_class_name.as_deref())
        .unwrap_or("")
}

/// The node chosen for a delayed-binding claim.
pub fn selected_node(pvc: &PersistentVolumeClaim) -> Option<&str> {
    annotation(pvc.metadata.annotations.as_ref(), SELECTED_NODE).filter(|n| !n.is_empty())
}

/// The storage a claim requests, in bytes (0 when none is given).
pub fn requested_bytes(pvc: &PersistentVolumeClaim) -> f64 {
    pvc.spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(|q| parse_quantity(&q.0))
        .unwrap_or(0.0)
}

/// A volume's capacity in bytes.
pub fn capacity_bytes(pv: &PersistentVolume) -> f64 {
    pv.spec
        .as_ref()
        .and_then(|s| s.capacity.as_ref())
        .and_then(|c| c.get("storage"))
        .and_then(|q| parse_quantity(&q.0))
        .unwrap_or(0.0)
}

/// Whether a volume is unclaimed, or claimed in advance by exactly this claim.
pub fn is_free_for(pv: &PersistentVolume, pvc: &PersistentVolumeClaim) -> bool {
    let Some(r) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return true;
    };
    r.name.as_deref() == pvc.metadata.name.as_deref()
        && r.namespace.as_deref() == pvc.metadata.namespace.as_deref()
        && r.uid
            .as_deref()
            .is_none_or(|u| u.is_empty() || Some(u) == pvc.metadata.uid.as_deref())
}

/// Whether a free volume can serve a claim: same class and volume mode, every requested access
/// mode, enough capacity, and the claim's label selector (upstream's `findMatchingVolume`
/// without node affinity, which the scheduler checks).
pub fn volume_serves_claim(pv: &PersistentVolume, pvc: &PersistentVolumeClaim) -> bool {
    let (Some(vs), Some(cs)) = (pv.spec.as_ref(), pvc.spec.as_ref()) else {
        return false;
    };
    if pv.metadata.deletion_timestamp.is_some() || !is_free_for(pv, pvc) {
        return false;
    }
    if let Some(wanted) = cs.volume_name.as_deref().filter(|n| !n.is_empty()) {
        if pv.metadata.name.as_deref() != Some(wanted) {
            return false;
        }
    }
    let phase = pv.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Released") | Some("Failed")) {
        return false;
    }
    let mode = |m: Option<&String>| m.map_or("Filesystem", |s| s.as_str()).to_string();
    if volume_class(pv) != claim_class(pvc)
        || mode(vs.volume_mode.as_ref()) != mode(cs.volume_mode.as_ref())
    {
        return false;
    }
    let has = vs.access_modes.as_deref().unwrap_or_default();
    if !cs.access_modes.iter().flatten().all(|m| has.contains(m)) {
        return false;
    }
    if capacity_bytes(pv) < requested_bytes(pvc) {
        return false;
    }
    match &cs.selector {
        None => true,
        Some(sel) => selector_matches(sel, pv.metadata.labels.as_ref()),
    }
}

fn selector_matches(
    sel: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k));
    let labels_ok = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| get(k) == Some(v));
    labels_ok
        && sel.match_expressions.iter().flatten().all(|e| {
            let values = e.values.as_deref().unwrap_or_default();
            match e.operator.as_str() {
                "In" => get(&e.key).is_some_and(|v| values.contains(v)),
                "NotIn" => get(&e.key).is_none_or(|v| !values.contains(v)),
                "Exists" => get(&e.key).is_some(),
                "DoesNotExist" => get(&e.key).is_none(),
                _ => false,
            }
        })
}

/// Of the volumes that can serve `pvc`, the smallest (a volume claimed in advance first).
pub fn best_match<'a>(
    volumes: impl IntoIterator<Item = &'a PersistentVolume>,
    pvc: &PersistentVolumeClaim,
) -> Option<&'a PersistentVolume> {
    volumes
        .into_iter()
        .filter(|pv| volume_serves_claim(pv, pvc))
        .min_by(|a, b| {
            let pre = |pv: &PersistentVolume| {
                pv.spec
                    .as_ref()
                    .and_then(|s| s.claim_ref.as_ref())
                    .is_none()
            };
            pre(a)
                .cmp(&pre(b))
                .then(capacity_bytes(a).total_cmp(&capacity_bytes(b)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pv(v: serde_json::Value) -> PersistentVolume {
        serde_json::from_value(v).unwrap()
    }

    fn pvc(v: serde_json::Value) -> PersistentVolumeClaim {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_smallest_fitting_volume_is_chosen() {
        let claim = pvc(
            json!({"metadata": {"name": "c", "namespace": "d", "uid": "u"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
                     "resources": {"requests": {"storage": "1Gi"}}}}),
        );
        let vol = |name: &str, size: &str, class: &str, modes: serde_json::Value| {
            pv(
                json!({"metadata": {"name": name}, "spec": {"capacity": {"storage": size},
                "accessModes": modes, "storageClassName": class, "hostPath": {"path": "/x"}}}),
            )
        };
        let vols = [
            vol("big", "10Gi", "manual", json!(["ReadWriteOnce"])),
            vol(
                "small",
                "1Gi",
                "manual",
                json!(["ReadWriteOnce", "ReadOnlyMany"]),
            ),
            vol("too-small", "512Mi", "manual", json!(["ReadWriteOnce"])),
            vol("other-class", "1Gi", "fast", json!(["ReadWriteOnce"])),
            vol("read-only", "1Gi", "manual", json!(["ReadOnlyMany"])),
        ];
        let best = best_match(&vols, &claim).unwrap();
        assert_eq!(best.metadata.name.as_deref(), Some("small"));
        assert!(best_match(&vols[2..], &claim).is_none());
    }

    #[test]
    fn volumes_claimed_for_someone_else_or_released_do_not_serve() {
        let claim = pvc(
            json!({"metadata": {"name": "c", "namespace": "d", "uid": "u"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                     "selector": {"matchLabels": {"tier": "db"}}}}),
        );
        let mut v = pv(json!({"metadata": {"name": "v", "labels": {"tier": "db"}},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                     "hostPath": {"path": "/x"}}}));
        assert!(volume_serves_claim(&v, &claim));
        v.spec.as_mut().unwrap().claim_ref =
            Some(serde_json::from_value(json!({"name": "other", "namespace": "d"})).unwrap());
        assert!(!volume_serves_claim(&v, &claim));
        v.spec.as_mut().unwrap().claim_ref =
            Some(serde_json::from_value(json!({"name": "c", "namespace": "d"})).unwrap());
        assert!(volume_serves_claim(&v, &claim));
        v.status = Some(serde_json::from_value(json!({"phase": "Released"})).unwrap());
        assert!(!volume_serves_claim(&v, &claim));
        v.status = None;
        v.metadata.labels = Some([("tier".to_string(), "web".to_string())].into());
        assert!(!volume_serves_claim(&v, &claim));
    }
}
