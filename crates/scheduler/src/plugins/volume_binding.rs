//! VolumeBinding: a pod's PersistentVolumeClaims decide where it may run. Bound claims hold
//! the pod to their volume's node affinity; claims that wait for their first consumer fit a
//! node with a matching free volume or one their class can provision on; before binding the
//! pod, such a claim gets the volume (claimRef) or the chosen node (`selected-node`).

use crate::cycle_state::CycleState;
use crate::framework::{Code, Failure, FilterResult, Plugin};
use crate::node_info::NodeInfo;
use crate::selector::NodeSelector;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use skiff_client::storage::{best_match, claim_class, NO_PROVISIONER, SELECTED_NODE};
use skiff_client::Store;
use std::sync::Arc;

/// A bound claim's volume fits elsewhere.
pub const NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
/// No free volume and no provisioning for a delayed claim.
pub const BIND_CONFLICT: &str = "node(s) didn't find available persistent volumes to bind";
/// A bound claim's volume is gone.
pub const PV_NOT_EXIST: &str =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
/// A claim with immediate binding is not bound yet.
pub const UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";

/// The stores the plugin reads.
#[derive(Clone)]
pub struct VolumeListers {
    /// PersistentVolumeClaims.
    pub claims: Store<PersistentVolumeClaim>,
    /// PersistentVolumes.
    pub volumes: Store<PersistentVolume>,
    /// StorageClasses.
    pub classes: Store<StorageClass>,
}

/// A claim of the pod being scheduled.
#[derive(Clone, Debug)]
pub enum Claim {
    /// Bound to a volume (`None`: the volume does not exist).
    Bound(Option<Arc<PersistentVolume>>),
    /// Waits for its first consumer: the claim, the free volumes of its class, and whether its
    /// class can provision one.
    Delayed {
        /// The claim.
        claim: Arc<PersistentVolumeClaim>,
        /// Volumes that could serve it, wherever they are.
        candidates: Vec<Arc<PersistentVolume>>,
        /// Whether the class has a provisioner.
        provisionable: bool,
    },
}

/// What the pre-filter found for the pod's claims (empty: the pod has none).
#[derive(Clone, Debug, Default)]
pub struct VolumeState {
    /// One entry per claim.
    pub claims: Vec<Claim>,
}

fn node_affinity_allows(pv: &PersistentVolume, node: &NodeInfo) -> bool {
    match pv
        .spec
        .as_ref()
        .and_then(|s| s.node_affinity.as_ref())
        .and_then(|a| a.required.as_ref())
    {
        Some(sel) => NodeSelector::from_api(sel).matches(node.name(), node.labels()),
        None => true,
    }
}

/// Looks up the pod's claims; fails the whole pod (every node alike) as upstream's PreFilter.
pub fn pre_filter(pod: &Pod, listers: &VolumeListers) -> Result<VolumeState, String> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    let mut state = VolumeState::default();
    let names = pod
        .spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| {
            v.persistent_volume_claim
                .as_ref()
                .map(|c| c.claim_name.as_str())
        });
    for name in names {
        let claim = listers
            .claims
            .get_in(ns, name)
            .ok_or_else(|| format!("persistentvolumeclaim {name:?} not found"))?;
        if claim.metadata.deletion_timestamp.is_some() {
            return Err(format!("persistentvolumeclaim {name:?} is being deleted"));
        }
        let volume = claim
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty());
        if let Some(v) = volume {
            state.claims.push(Claim::Bound(listers.volumes.get(v)));
            continue;
        }
        let class = listers.classes.get(claim_class(&claim));
        let delayed = class
            .as_ref()
            .and_then(|c| c.volume_binding_mode.as_deref())
            == Some("WaitForFirstConsumer");
        if !delayed {
            return Err(UNBOUND_IMMEDIATE.into());
        }
        let all = listers.volumes.list();
        let candidates = all
            .iter()
            .filter(|pv| best_match(std::iter::once(&***pv), &claim).is_some())
            .cloned()
            .collect();
        state.claims.push(Claim::Delayed {
            candidates,
            provisionable: class.is_some_and(|c| c.provisioner != NO_PROVISIONER),
            claim,
        });
    }
    Ok(state)
}

/// Checks bound volumes' node affinity and that each delayed claim can be served here.
pub fn filter(cycle: &CycleState, node: &NodeInfo) -> FilterResult {
    let fail = |reason| {
        Err(Failure::new(
            Plugin::VolumeBinding,
            Code::UnschedulableAndUnresolvable,
            reason,
        ))
    };
    for claim in &cycle.volumes.claims {
        match claim {
            Claim::Bound(None) => return fail(PV_NOT_EXIST),
            Claim::Bound(Some(pv)) if !node_affinity_allows(pv, node) => {
                return fail(NODE_CONFLICT)
            }
            Claim::Bound(Some(_)) => {}
            Claim::Delayed {
                candidates,
                provisionable,
                ..
            } => {
                if !provisionable && !candidates.iter().any(|pv| node_affinity_allows(pv, node)) {
                    return fail(BIND_CONFLICT);
                }
            }
        }
    }
    Ok(())
}

/// What to write before the pod is bound to `node`.
#[derive(Debug, PartialEq)]
pub enum Write {
    /// Claim the volume for the claim (the volume controller completes the binding).
    ClaimVolume {
        /// The volume.
        volume: String,
        /// The volume's resourceVersion when chosen (the write fails if it changed since).
        resource_version: Option<String>,
        /// The claim's namespace, name and uid.
        claim: (String, String, String),
    },
    /// Ask the class's provisioner for a volume on `node`.
    SelectNode {
        /// The claim's namespace and name.
        claim: (String, String),
        /// The chosen node.
        node: String,
    },
}

/// For each delayed claim: the smallest free volume usable on `node`, else provisioning there.
pub fn pre_bind(state: &VolumeState, node: &NodeInfo) -> Vec<Write> {
    let mut taken: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for c in &state.claims {
        let Claim::Delayed {
            claim, candidates, ..
        } = c
        else {
            continue;
        };
        let usable = candidates.iter().map(|v| &**v).filter(|pv| {
            node_affinity_allows(pv, node)
                && !taken.contains(&pv.metadata.name.as_deref().unwrap_or_default())
        });
        let meta = &claim.metadata;
        let ns = meta.namespace.clone().unwrap_or_default();
        let name = meta.name.clone().unwrap_or_default();
        match best_match(usable, claim) {
            Some(pv) => {
                let volume = pv.metadata.name.clone().unwrap_or_default();
                taken.push(pv.metadata.name.as_deref().unwrap_or_default());
                out.push(Write::ClaimVolume {
                    volume,
                    resource_version: pv.metadata.resource_version.clone(),
                    claim: (ns, name, meta.uid.clone().unwrap_or_default()),
                });
            }
            None => {
                let already = meta
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(SELECTED_NODE))
                    .is_some_and(|n| n == node.name());
                if !already {
                    out.push(Write::SelectNode {
                        claim: (ns, name),
                        node: node.name().to_string(),
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::testing::{node, pod};
    use serde_json::json;

    fn pv(name: &str, host: Option<&str>) -> Arc<PersistentVolume> {
        let mut v = json!({"metadata": {"name": name}, "spec": {
            "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
            "storageClassName": "local", "local": {"path": "/d"}}});
        if let Some(h) = host {
            v["spec"]["nodeAffinity"] = json!({"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [h]}]}]}});
        }
        Arc::new(serde_json::from_value(v).unwrap())
    }

    fn claim() -> Arc<PersistentVolumeClaim> {
        Arc::new(
            serde_json::from_value(
                json!({"metadata": {"name": "data", "namespace": "default", "uid": "u1"},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "local",
                         "resources": {"requests": {"storage": "1Gi"}}}}),
            )
            .unwrap(),
        )
    }

    fn labelled(name: &str) -> NodeInfo {
        let mut n = node(name, "4", "8Gi");
        n.metadata.labels = Some([("kubernetes.io/hostname".to_string(), name.to_string())].into());
        NodeInfo::new(Arc::new(n))
    }

    #[test]
    fn a_bound_volume_holds_the_pod_to_its_node() {
        let cache = Cache::new();
        let p = pod("a", "", "").build();
        let mut cycle = CycleState::new(&p, 0, None, &cache);
        cycle.volumes.claims = vec![Claim::Bound(Some(pv("v", Some("n1"))))];
        assert!(filter(&cycle, &labelled("n1")).is_ok());
        let f = filter(&cycle, &labelled("n2")).unwrap_err();
        assert_eq!(f.reasons, vec![NODE_CONFLICT]);
        cycle.volumes.claims = vec![Claim::Bound(None)];
        assert_eq!(
            filter(&cycle, &labelled("n1")).unwrap_err().reasons,
            vec![PV_NOT_EXIST]
        );
    }

    #[test]
    fn delayed_claims_take_a_local_volume_or_provision_on_the_node() {
        let cache = Cache::new();
        let p = pod("a", "", "").build();
        let mut cycle = CycleState::new(&p, 0, None, &cache);
        cycle.volumes.claims = vec![Claim::Delayed {
            claim: claim(),
            candidates: vec![pv("on-n1", Some("n1"))],
            provisionable: false,
        }];
        assert!(filter(&cycle, &labelled("n1")).is_ok());
        assert_eq!(
            filter(&cycle, &labelled("n2")).unwrap_err().reasons,
            vec![BIND_CONFLICT]
        );
        assert_eq!(
            pre_bind(&cycle.volumes, &labelled("n1")),
            vec![Write::ClaimVolume {
                volume: "on-n1".into(),
                resource_version: None,
                claim: ("default".into(), "data".into(), "u1".into())
            }]
        );
        cycle.volumes.claims = vec![Claim::Delayed {
            claim: claim(),
            candidates: vec![pv("on-n1", Some("n1"))],
            provisionable: true,
        }];
        assert!(filter(&cycle, &labelled("n2")).is_ok());
        assert_eq!(
            pre_bind(&cycle.volumes, &labelled("n2")),
            vec![Write::SelectNode {
                claim: ("default".into(), "data".into()),
                node: "n2".into()
            }]
        );
    }
}
