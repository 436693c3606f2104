//! Adoption and release of dependents by label selector (upstream's ControllerRefManager):
//! a controller claims orphans its selector matches and lets go of dependents that stopped
//! matching.

use crate::selector;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, OwnerReference};
use kube::api::{Patch, PatchParams};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::sync::Arc;

/// What a controller should do with its candidate dependents.
pub struct Claim<K> {
    /// Dependents it controls and keeps (including those about to be adopted).
    pub claimed: Vec<Arc<K>>,
    /// Orphans to adopt.
    pub adopt: Vec<Arc<K>>,
    /// Dependents to release.
    pub release: Vec<Arc<K>>,
}

/// Sorts `owned` (controlled by the owner) and `orphans` (no controller) by `selector`.
/// An owner being deleted adopts nothing.
pub fn claim<K: Resource>(
    owned: Vec<Arc<K>>,
    orphans: Vec<Arc<K>>,
    selector: &LabelSelector,
    owner_deleting: bool,
) -> Claim<K> {
    let mut out = Claim {
        claimed: Vec::new(),
        adopt: Vec::new(),
        release: Vec::new(),
    };
    for o in owned {
        if selector::matches(selector, o.meta().labels.as_ref()) {
            out.claimed.push(o);
        } else if o.meta().deletion_timestamp.is_none() {
            out.release.push(o);
        }
    }
    if !owner_deleting && !selector::is_empty(selector) {
        for o in orphans {
            if o.meta().deletion_timestamp.is_none()
                && selector::matches(selector, o.meta().labels.as_ref())
            {
                out.claimed.push(o.clone());
                out.adopt.push(o);
            }
        }
    }
    out
}

/// Adds `owner` as the controlling owner of `obj`.
pub async fn adopt<K>(api: &Api<K>, obj: &K, owner: &OwnerReference) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let mut refs = obj.meta().owner_references.clone().unwrap_or_default();
    refs.retain(|r| r.uid != owner.uid);
    refs.push(owner.clone());
    let patch = serde_json::json!({"metadata": {"ownerReferences": refs, "uid": obj.meta().uid}});
    let name = obj.meta().name.clone().unwrap_or_default();
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map(|_| ())
}

/// Removes the owner with `owner_uid` from `obj`'s owner references.
pub async fn release<K>(api: &Api<K>, obj: &K, owner_uid: &str) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let mut refs = obj.meta().owner_references.clone().unwrap_or_default();
    refs.retain(|r| r.uid != owner_uid);
    let refs = if refs.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::json!(refs)
    };
    let patch = serde_json::json!({"metadata": {"ownerReferences": refs, "uid": obj.meta().uid}});
    let name = obj.meta().name.clone().unwrap_or_default();
    match api
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 422 => Ok(()),
        Err(e) => Err(e),
    }
}
