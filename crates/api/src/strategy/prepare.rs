//! Create and update preparation: status resets, generation, and fields only the server sets.

use super::batch::generate_selector;
use super::meta::semantic_eq;
use super::quantity::qos_class;
use super::service_defaults::normalize_cluster_ips;
use super::value::{ensure_obj, has, int, obj_mut, str_list};
use crate::{ResourceType, Subresource};
use serde_json::{json, Map, Value};

/// The status a new object of this kind starts with, when the server resets it.
fn initial_status(rt: &ResourceType, obj: &Value) -> Option<Value> {
    Some(match (rt.group, rt.kind) {
        ("", "Pod") => json!({"phase": "Pending", "qosClass": qos_class(&obj["spec"])}),
        ("", "Namespace") => json!({"phase": "Active"}),
        ("", "PersistentVolumeClaim" | "PersistentVolume") => json!({"phase": "Pending"}),
        ("", "Service") | ("networking.k8s.io", "Ingress") => json!({"loadBalancer": {}}),
        ("", "ReplicationController") | ("apps", "ReplicaSet") => json!({"replicas": 0}),
        ("apps", "StatefulSet") => json!({"replicas": 0, "availableReplicas": 0}),
        ("apps", "DaemonSet") => {
            json!({"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0})
        }
        ("policy", "PodDisruptionBudget") => {
            json!({"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0})
        }
        ("apps", "Deployment") | ("batch", "Job" | "CronJob") | ("", "ResourceQuota") => json!({}),
        _ => return None,
    })
}

fn meta_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    ensure_obj(obj, "metadata").and_then(Value::as_object_mut)
}

/// Prepares a new object: server-owned status, generation 1, generated fields.
pub fn create(rt: &ResourceType, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    if !rt.namespaced {
        if let Some(m) = meta_mut(obj) {
            m.remove("namespace");
        }
    }
    match (rt.group, rt.kind) {
        ("", "Namespace") => {
            if let Some(spec) = ensure_obj(obj, "spec") {
                if !str_list(spec, "finalizers").contains(&"kubernetes") {
                    let mut list = spec
                        .get("finalizers")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    list.push(json!("kubernetes"));
                    spec["finalizers"] = Value::Array(list);
                }
            }
        }
        ("", "Service") => normalize_cluster_ips(obj, None),
        ("batch", "Job") => generate_selector(obj),
        ("", "Node") => {
            if let Some(spec) = obj_mut(obj, "spec").and_then(Value::as_object_mut) {
                spec.remove("configSource");
            }
        }
        _ => {}
    }
    if let Some(status) = initial_status(rt, obj) {
        obj["status"] = status;
    }
    if has(obj, "spec") {
        if let Some(m) = meta_mut(obj) {
            m.insert("generation".into(), json!(1));
        }
    }
}

/// Prepares an update of the main resource from the stored `old` object.
pub fn update(rt: &ResourceType, new: &mut Value, old: &Value) {
    if !new.is_object() {
        return;
    }
    let old_meta = old.get("metadata").cloned().unwrap_or_default();
    if let Some(m) = meta_mut(new) {
        if !rt.namespaced {
            m.remove("namespace");
        }
        for field in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            let empty = m
                .get(field)
                .is_none_or(|v| v.is_null() || v.as_str() == Some(""));
            if let Some(v) = old_meta
                .get(field)
                .filter(|v| !v.is_null() && (empty || field.ends_with("Timestamp")))
            {
                m.insert(field.into(), v.clone());
            }
        }
    }
    if rt.has_subresource(Subresource::Status) {
        copy_from(new, old, "status");
    }
    match (rt.group, rt.kind) {
        ("", "Service") => normalize_cluster_ips(new, Some(old)),
        ("", "Namespace") => {
            let finalizers = old.pointer("/spec/finalizers").cloned();
            if let Some(spec) = ensure_obj(new, "spec").and_then(Value::as_object_mut) {
                match finalizers {
                    Some(f) => spec.insert("finalizers".into(), f),
                    None => spec.remove("finalizers"),
                };
            }
        }
        _ => {}
    }
    let tracks_generation = has(new, "spec") || has(old, "spec");
    let old_gen = int(&old_meta, "generation");
    if tracks_generation || old_gen.is_some() {
        let base = old_gen.unwrap_or(1);
        let changed = tracks_generation && !semantic_eq(&new["spec"], &old["spec"]);
        if let Some(m) = meta_mut(new) {
            m.insert(
                "generation".into(),
                json!(if changed { base + 1 } else { base }),
            );
        }
    }
}

/// Prepares a `/status` update: everything but status (and managed fields) comes from `old`.
pub fn status_update(_rt: &ResourceType, new: &mut Value, old: &Value) {
    if !new.is_object() || !old.is_object() {
        return;
    }
    let mut merged = old.clone();
    copy_from(&mut merged, new, "status");
    for field in ["managedFields", "resourceVersion"] {
        let v = new.pointer(&format!("/metadata/{field}")).cloned();
        if let Some(m) = meta_mut(&mut merged) {
            match v {
                Some(v) => m.insert(field.into(), v),
                None => m.remove(field),
            };
        }
    }
    *new = merged;
}

fn copy_from(dst: &mut Value, src: &Value, key: &str) {
    if let Some(m) = dst.as_object_mut() {
        match src.get(key) {
            Some(v) => m.insert(key.to_string(), v.clone()),
            None => m.remove(key),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::find_kind;

    fn rt(group: &str, kind: &str) -> &'static ResourceType {
        find_kind(group, "v1", kind).expect("served kind")
    }

    #[test]
    fn create_resets_status_and_sets_generation() {
        let mut d =
            json!({"metadata": {"name": "d"}, "spec": {"replicas": 1}, "status": {"replicas": 9}});
        create(rt("apps", "Deployment"), &mut d);
        assert_eq!(d["status"], json!({}));
        assert_eq!(d["metadata"]["generation"], 1);
        let mut p = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}});
        create(rt("", "Pod"), &mut p);
        assert_eq!(
            p["status"],
            json!({"phase": "Pending", "qosClass": "BestEffort"})
        );
        let mut ns = json!({"metadata": {"name": "n", "namespace": "x"}});
        create(rt("", "Namespace"), &mut ns);
        assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(ns["status"]["phase"], "Active");
        assert!(ns["metadata"].get("namespace").is_none());
        let mut cm = json!({"metadata": {"name": "c"}, "data": {}});
        create(rt("", "ConfigMap"), &mut cm);
        assert!(cm["metadata"].get("generation").is_none());
    }

    #[test]
    fn update_keeps_status_and_bumps_generation_on_spec_change() {
        let old = json!({"metadata": {"name": "d", "uid": "u", "generation": 4}, "spec": {"replicas": 1}, "status": {"replicas": 1}});
        let mut same = json!({"metadata": {"name": "d", "generation": 1}, "spec": {"replicas": 1}, "status": {"replicas": 7}});
        update(rt("apps", "Deployment"), &mut same, &old);
        assert_eq!(same["metadata"]["generation"], 4);
        assert_eq!(same["metadata"]["uid"], "u");
        assert_eq!(same["status"], json!({"replicas": 1}));
        let mut scaled = json!({"metadata": {"name": "d"}, "spec": {"replicas": 3}});
        update(rt("apps", "Deployment"), &mut scaled, &old);
        assert_eq!(scaled["metadata"]["generation"], 5);
    }

    #[test]
    fn status_update_keeps_everything_else() {
        let old = json!({"metadata": {"name": "d", "labels": {"a": "1"}, "resourceVersion": "5"}, "spec": {"replicas": 1}, "status": {}});
        let mut new = json!({"metadata": {"name": "d", "labels": {"a": "2"}, "resourceVersion": "5"}, "spec": {"replicas": 9}, "status": {"replicas": 1}});
        status_update(rt("apps", "Deployment"), &mut new, &old);
        assert_eq!(new["spec"]["replicas"], 1);
        assert_eq!(new["metadata"]["labels"]["a"], "1");
        assert_eq!(new["status"], json!({"replicas": 1}));
    }

    #[test]
    fn namespace_finalizers_change_only_through_finalize() {
        let old = json!({"metadata": {"name": "n"}, "spec": {"finalizers": ["kubernetes"]}});
        let mut new = json!({"metadata": {"name": "n"}, "spec": {}});
        update(rt("", "Namespace"), &mut new, &old);
        assert_eq!(new["spec"]["finalizers"], json!(["kubernetes"]));
    }
}
