//! Storage admission: DefaultStorageClass (a claim that names no class gets the default one)
//! and StorageObjectInUseProtection (claims and volumes get their protection finalizers).

use crate::error::{ApiError, ApiResult};
use crate::Api;
use serde_json::{json, Value};
use skiff_api::{catalogue, ResourceType};

/// Keeps a claim while a pod uses it.
pub const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";
/// Keeps a volume while it is bound.
pub const PV_PROTECTION: &str = "kubernetes.io/pv-protection";
/// The annotations that mark the default StorageClass.
pub const DEFAULT_CLASS: [&str; 2] = [
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
];
/// The deprecated way to name a claim's class.
const BETA_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// The StorageClass resource type.
pub fn storage_classes() -> ApiResult<&'static ResourceType> {
    catalogue::find("storage.k8s.io", "v1", "storageclasses")
        .ok_or_else(|| ApiError::internal("storageclasses are missing from the catalogue"))
}

/// Whether a StorageClass is marked as the default.
pub fn is_default_class(class: &Value) -> bool {
    DEFAULT_CLASS.iter().any(|a| {
        class
            .pointer(&format!("/metadata/annotations/{}", a.replace('/', "~1")))
            .and_then(Value::as_str)
            == Some("true")
    })
}

fn add_finalizer(obj: &mut Value, finalizer: &str) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let list = meta.entry("finalizers").or_insert_with(|| json!([]));
    if let Some(list) = list.as_array_mut() {
        if !list.iter().any(|f| f == finalizer) {
            list.push(json!(finalizer));
        }
    }
}

/// The newest default class (ties by name, as upstream since 1.28).
fn pick_default(classes: &[Value]) -> Option<&str> {
    classes
        .iter()
        .filter(|c| is_default_class(c))
        .max_by(|a, b| {
            let key = |c: &Value| {
                (
                    c.pointer("/metadata/creationTimestamp")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    c.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                )
            };
            let (ta, na) = key(a);
            let (tb, nb) = key(b);
            ta.cmp(&tb).then(nb.cmp(&na))
        })
        .and_then(|c| c.pointer("/metadata/name").and_then(Value::as_str))
}

/// Claims get the default class when they name none (an empty name means "no class"), and
/// claims and volumes get their protection finalizers.
pub async fn storage(api: &Api, rt: &ResourceType, obj: &mut Value) -> ApiResult<()> {
    if !rt.group.is_empty() {
        return Ok(());
    }
    match rt.kind {
        "PersistentVolume" => add_finalizer(obj, PV_PROTECTION),
        "PersistentVolumeClaim" => {
            add_finalizer(obj, PVC_PROTECTION);
            let named = obj
                .pointer("/spec/storageClassName")
                .is_some_and(|v| !v.is_null())
                || obj
                    .pointer(&format!(
                        "/metadata/annotations/{}",
                        BETA_CLASS.replace('/', "~1")
                    ))
                    .is_some();
            if named {
                return Ok(());
            }
            let classes: Vec<Value> = api
                .registry
                .list_cached(storage_classes()?, None)
                .await?
                .into_iter()
                .map(|c| c.0.clone())
                .collect();
            if let (Some(name), Some(spec)) = (
                pick_default(&classes),
                obj.get_mut("spec").and_then(Value::as_object_mut),
            ) {
                spec.insert("storageClassName".into(), json!(name));
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str, created: &str, default: bool) -> Value {
        json!({"metadata": {"name": name, "creationTimestamp": created,
            "annotations": {DEFAULT_CLASS[0]: if default { "true" } else { "false" }}}})
    }

    #[test]
    fn the_newest_default_class_wins() {
        let classes = [
            class("old", "2024-01-01T00:00:00Z", true),
            class("new", "2025-01-01T00:00:00Z", true),
            class("newest-but-not-default", "2026-01-01T00:00:00Z", false),
        ];
        assert_eq!(pick_default(&classes), Some("new"));
        assert_eq!(pick_default(&classes[2..]), None);
        let tie = [
            class("b", "2025-01-01T00:00:00Z", true),
            class("a", "2025-01-01T00:00:00Z", true),
        ];
        assert_eq!(pick_default(&tie), Some("a"));
    }

    #[test]
    fn finalizers_are_added_once() {
        let mut pvc = json!({"metadata": {"finalizers": [PVC_PROTECTION]}});
        add_finalizer(&mut pvc, PVC_PROTECTION);
        assert_eq!(pvc["metadata"]["finalizers"], json!([PVC_PROTECTION]));
        let mut pv = json!({"metadata": {}});
        add_finalizer(&mut pv, PV_PROTECTION);
        assert_eq!(pv["metadata"]["finalizers"], json!([PV_PROTECTION]));
    }
}
