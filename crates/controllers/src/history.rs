//! ControllerRevision history shared by DaemonSets and StatefulSets: revision data of a pod
//! template, its hash and name, finding the current revision and pruning old ones.

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Label on pods and revisions naming the revision a pod was made from.
pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";

/// The revision data for a pod template: a strategic patch replacing `spec.template`.
pub fn template_data(template: &PodTemplateSpec) -> Value {
    let mut t = serde_json::to_value(template).unwrap_or_else(|_| json!({}));
    if let Some(m) = t.as_object_mut() {
        m.insert("$patch".into(), json!("replace"));
    }
    json!({"spec": {"template": t}})
}

/// The FNV-1a hash of `value` and the collision count, spelled with upstream's safe alphabet.
pub fn hash(value: &Value, collision_count: Option<i32>) -> String {
    let mut h: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
    };
    feed(value.to_string().as_bytes());
    if let Some(c) = collision_count {
        feed(&c.to_le_bytes());
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    h.to_string()
        .bytes()
        .map(|b| ALPHABET[usize::from(b) % ALPHABET.len()] as char)
        .collect()
}

/// `<prefix>-<hash>`, the prefix cut to keep the name within 253 characters.
pub fn revision_name(prefix: &str, hash: &str) -> String {
    let cut: String = prefix.chars().take(223).collect();
    format!("{cut}-{hash}")
}

/// The data a revision holds.
pub fn data_of(revision: &ControllerRevision) -> Option<&Value> {
    revision.data.as_ref().map(|d| &d.0)
}

/// The highest revision number, or 0.
pub fn max_revision(revisions: &[Arc<ControllerRevision>]) -> i64 {
    revisions.iter().map(|r| r.revision).max().unwrap_or(0)
}

/// The newest revision holding `data`, if any.
pub fn find_equal(
    revisions: &[Arc<ControllerRevision>],
    data: &Value,
) -> Option<Arc<ControllerRevision>> {
    revisions
        .iter()
        .filter(|r| data_of(r) == Some(data))
        .max_by_key(|r| r.revision)
        .cloned()
}

/// A new revision object owned by `owner`.
pub fn new_revision(
    name: String,
    namespace: &str,
    labels: BTreeMap<String, String>,
    owner: OwnerReference,
    data: Value,
    revision: i64,
) -> ControllerRevision {
    ControllerRevision {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(namespace.to_string()),
            labels: Some(labels),
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        data: Some(RawExtension(data)),
        revision,
    }
}

/// What creating a revision came to.
pub enum Created {
    /// The revision exists with the wanted data (made now or found).
    Ok(Box<ControllerRevision>),
    /// A different revision holds the name: the owner must bump its collision count.
    Collision,
}

/// Creates `revision`, or finds the same one already stored under its name.
pub async fn create(
    api: &Api<ControllerRevision>,
    revision: ControllerRevision,
    owner_uid: &str,
) -> Result<Created, kube::Error> {
    match api.create(&PostParams::default(), &revision).await {
        Ok(r) => Ok(Created::Ok(Box::new(r))),
        Err(kube::Error::Api(e)) if e.code == 409 => {
            let name = revision.metadata.name.clone().unwrap_or_default();
            let existing = api.get(&name).await?;
            let ours = crate::informers::controller_uid(&existing.metadata) == Some(owner_uid);
            if ours && existing.data == revision.data {
                Ok(Created::Ok(Box::new(existing)))
            } else {
                Ok(Created::Collision)
            }
        }
        Err(e) => Err(e),
    }
}

/// Sets a stored revision's number (rolling back to an earlier template makes it newest).
pub async fn renumber(
    api: &Api<ControllerRevision>,
    revision: &ControllerRevision,
    number: i64,
) -> Result<ControllerRevision, kube::Error> {
    let name = revision.metadata.name.clone().unwrap_or_default();
    let patch = json!({"revision": number});
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
}

/// Revisions beyond `limit` to delete, oldest first, sparing `live` names and `current`.
pub fn to_prune(
    revisions: &[Arc<ControllerRevision>],
    live: &HashSet<String>,
    current: &str,
    limit: i32,
) -> Vec<Arc<ControllerRevision>> {
    let mut old: Vec<_> = revisions
        .iter()
        .filter(|r| {
            let name = r.metadata.name.as_deref().unwrap_or_default();
            name != current && !live.contains(name)
        })
        .cloned()
        .collect();
    old.sort_by_key(|r| r.revision);
    let excess = old
        .len()
        .saturating_sub(usize::try_from(limit).unwrap_or(0));
    old.truncate(excess);
    old
}

/// Deletes the revisions `to_prune` chose.
pub async fn prune(
    api: &Api<ControllerRevision>,
    revisions: Vec<Arc<ControllerRevision>>,
) -> Result<(), kube::Error> {
    for r in revisions {
        let name = r.metadata.name.clone().unwrap_or_default();
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(name: &str, n: i64, data: Value) -> Arc<ControllerRevision> {
        Arc::new(new_revision(
            name.into(),
            "ns",
            BTreeMap::new(),
            OwnerReference::default(),
            data,
            n,
        ))
    }

    #[test]
    fn hash_is_stable_and_changes_with_collisions() {
        let d = template_data(&PodTemplateSpec::default());
        assert_eq!(hash(&d, None), hash(&d, None));
        assert_ne!(hash(&d, None), hash(&d, Some(1)));
        assert!(hash(&d, None)
            .chars()
            .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
        assert_eq!(d["spec"]["template"]["$patch"], "replace");
    }

    #[test]
    fn equal_revision_is_found_by_data() {
        let revisions = vec![rev("a", 1, json!({"x": 1})), rev("b", 2, json!({"x": 2}))];
        assert_eq!(
            find_equal(&revisions, &json!({"x": 1}))
                .unwrap()
                .metadata
                .name
                .as_deref(),
            Some("a")
        );
        assert!(find_equal(&revisions, &json!({"x": 3})).is_none());
        assert_eq!(max_revision(&revisions), 2);
    }

    #[test]
    fn pruning_keeps_current_live_and_newest() {
        let revisions: Vec<_> = (1..=5)
            .map(|i| rev(&format!("r{i}"), i, json!(i)))
            .collect();
        let live: HashSet<String> = ["r1".to_string()].into();
        let names: Vec<_> = to_prune(&revisions, &live, "r5", 1)
            .iter()
            .map(|r| r.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["r2", "r3"]);
    }
}
