//! Stable identity of StatefulSet pods: `<set>-<ordinal>` names, identity labels, hostname and
//! subdomain, and the PersistentVolumeClaims `<template>-<set>-<ordinal>` they mount.

use crate::history::REVISION_HASH_LABEL;
use crate::pods::{controller_ref, from_template};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use std::collections::BTreeMap;

/// Label naming the pod (for per-pod Services).
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// Label holding the pod's ordinal.
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// The set's name.
pub fn set_name(set: &StatefulSet) -> &str {
    set.metadata.name.as_deref().unwrap_or_default()
}

/// `<set>-<ordinal>`.
pub fn pod_name(set: &StatefulSet, ordinal: i32) -> String {
    format!("{}-{ordinal}", set_name(set))
}

/// The ordinal in a pod's name if the pod belongs to `set` by name.
pub fn ordinal_of(set: &StatefulSet, pod: &Pod) -> Option<i32> {
    let name = pod.metadata.name.as_deref()?;
    let rest = name.strip_prefix(set_name(set))?.strip_prefix('-')?;
    if rest.is_empty() || (rest.len() > 1 && rest.starts_with('0')) {
        return None;
    }
    rest.parse().ok().filter(|o| *o >= 0)
}

/// The first ordinal (`spec.ordinals.start`).
pub fn start_ordinal(set: &StatefulSet) -> i32 {
    set.spec
        .as_ref()
        .and_then(|s| s.ordinals.as_ref())
        .and_then(|o| o.start)
        .unwrap_or(0)
        .max(0)
}

/// The claim name for a volume claim template and ordinal.
pub fn claim_name(template: &str, set: &StatefulSet, ordinal: i32) -> String {
    format!("{template}-{}-{ordinal}", set_name(set))
}

/// The claims pod `ordinal` mounts, keyed by template (volume) name, not yet owned.
pub fn claims(set: &StatefulSet, ordinal: i32) -> BTreeMap<String, PersistentVolumeClaim> {
    let spec = set.spec.as_ref();
    let selector_labels = spec
        .and_then(|s| s.selector.match_labels.clone())
        .unwrap_or_default();
    let mut out = BTreeMap::new();
    for t in spec
        .and_then(|s| s.volume_claim_templates.clone())
        .unwrap_or_default()
    {
        let template = t.metadata.name.clone().unwrap_or_default();
        let mut l = t.metadata.labels.clone().unwrap_or_default();
        l.extend(selector_labels.clone());
        let claim = PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some(claim_name(&template, set, ordinal)),
                namespace: set.metadata.namespace.clone(),
                labels: Some(l),
                annotations: t.metadata.annotations.clone(),
                ..Default::default()
            },
            spec: t.spec.clone(),
            status: None,
        };
        out.insert(template, claim);
    }
    out
}

/// The owner reference a claim gets under a `Delete` retention policy (not a controller).
pub fn claim_owner(api_version: &str, kind: &str, meta: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        controller: None,
        block_owner_deletion: None,
        ..controller_ref(api_version, kind, meta)
    }
}

/// The retention policy: (`whenDeleted`, `whenScaled`), each `Retain` or `Delete`.
pub fn retention(set: &StatefulSet) -> (String, String) {
    let p = set
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_claim_retention_policy.as_ref());
    let get = |v: Option<&String>| v.cloned().unwrap_or_else(|| "Retain".into());
    (
        get(p.and_then(|p| p.when_deleted.as_ref())),
        get(p.and_then(|p| p.when_scaled.as_ref())),
    )
}

/// Pod `ordinal` of `set` made from `template` of revision `revision`.
pub fn new_pod(set: &StatefulSet, template: &PodTemplateSpec, revision: &str, ordinal: i32) -> Pod {
    let namespace = set.metadata.namespace.clone().unwrap_or_default();
    let owner = controller_ref("apps/v1", "StatefulSet", &set.metadata);
    let mut pod = from_template(template, &namespace, "", owner);
    let name = pod_name(set, ordinal);
    pod.metadata.generate_name = None;
    pod.metadata.name = Some(name.clone());
    let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(POD_NAME_LABEL.into(), name.clone());
    labels.insert(POD_INDEX_LABEL.into(), ordinal.to_string());
    labels.insert(REVISION_HASH_LABEL.into(), revision.to_string());
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.hostname = Some(name);
    spec.subdomain = set
        .spec
        .as_ref()
        .and_then(|s| s.service_name.clone())
        .filter(|s| !s.is_empty());
    let volumes = spec.volumes.get_or_insert_with(Vec::new);
    for (template, claim) in claims(set, ordinal) {
        volumes.retain(|v| v.name != template);
        volumes.push(Volume {
            name: template,
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.metadata.name.unwrap_or_default(),
                read_only: None,
            }),
            ..Default::default()
        });
    }
    if volumes.is_empty() {
        spec.volumes = None;
    }
    pod
}

/// Whether the pod carries its identity labels.
pub fn identity_matches(set: &StatefulSet, pod: &Pod, ordinal: i32) -> bool {
    let labels = pod.metadata.labels.as_ref();
    let label = |k: &str| labels.and_then(|l| l.get(k)).cloned();
    label(POD_NAME_LABEL) == Some(pod_name(set, ordinal))
        && label(POD_INDEX_LABEL) == Some(ordinal.to_string())
}

/// The revision name a pod was made from.
pub fn revision_of(pod: &Pod) -> Option<&str> {
    pod.metadata
        .labels
        .as_ref()?
        .get(REVISION_HASH_LABEL)
        .map(String::as_str)
}
