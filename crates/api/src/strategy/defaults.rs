//! Per-kind defaulting, as upstream's `SetDefaults_*` functions run when an object is decoded.

use super::pod_defaults::{pod, pod_template};
use super::storage::default_pvc_spec;
use super::value::{each_mut, ensure_obj, has, map_len, obj_mut, s, set_default, set_default_str};
use super::{cluster, config, endpoints, ingress, network_policy, quota, rbac, service_defaults};
use crate::ResourceType;
use serde_json::{json, Value};

/// Fills the defaults of `obj` according to its kind.
pub fn apply(rt: &ResourceType, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    match (rt.group, rt.kind) {
        ("", "Pod") => pod(obj),
        ("", "PodTemplate") => {
            if let Some(t) = obj_mut(obj, "template") {
                pod_template(t);
            }
        }
        ("", "ReplicationController") => replication_controller(obj),
        ("apps", "Deployment") => deployment(obj),
        ("apps", "ReplicaSet") => with_spec(obj, |spec| {
            set_default(spec, "replicas", json!(1));
            template(spec);
        }),
        ("apps", "DaemonSet") => daemon_set(obj),
        ("apps", "StatefulSet") => stateful_set(obj),
        ("batch", "Job") => job(obj),
        ("batch", "CronJob") => cron_job(obj),
        ("", "Service") => service_defaults::default_service(obj),
        ("", "Secret") => config::default_secret(obj),
        ("", "Namespace") => namespace(obj),
        ("", "Node") => cluster::default_node(obj),
        ("", "PersistentVolumeClaim") => {
            with_spec(obj, default_pvc_spec);
            if let Some(status) = ensure_obj(obj, "status") {
                set_default_str(status, "phase", "Pending");
            }
        }
        ("", "PersistentVolume") => {
            with_spec(obj, |spec| {
                set_default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
                set_default_str(spec, "volumeMode", "Filesystem");
                if let Some(h) = obj_mut(spec, "hostPath") {
                    set_default(h, "type", json!(""));
                }
            });
            if let Some(status) = ensure_obj(obj, "status") {
                set_default_str(status, "phase", "Pending");
            }
        }
        ("", "Endpoints") => endpoints::default_endpoints(obj),
        ("", "LimitRange") => quota::default_limit_range(obj),
        ("discovery.k8s.io", "EndpointSlice") => endpoints::default_endpoint_slice(obj),
        ("networking.k8s.io", "NetworkPolicy") => network_policy::default_network_policy(obj),
        ("networking.k8s.io", "IngressClass") => ingress::default_ingress_class(obj),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            rbac::default_binding(obj)
        }
        ("storage.k8s.io", "StorageClass") => {
            set_default_str(obj, "reclaimPolicy", "Delete");
            set_default_str(obj, "volumeBindingMode", "Immediate");
        }
        ("scheduling.k8s.io", "PriorityClass") => {
            set_default_str(obj, "preemptionPolicy", "PreemptLowerPriority")
        }
        _ => {}
    }
}

fn with_spec(obj: &mut Value, f: impl FnOnce(&mut Value)) {
    if let Some(spec) = obj_mut(obj, "spec") {
        f(spec);
    }
}

fn template(spec: &mut Value) {
    if let Some(t) = obj_mut(spec, "template") {
        pod_template(t);
    }
}

fn replication_controller(obj: &mut Value) {
    let labels = obj
        .pointer("/spec/template/metadata/labels")
        .filter(|l| l.is_object())
        .cloned();
    if let Some(labels) = labels {
        if let Some(spec) = obj_mut(obj, "spec") {
            if map_len(spec, "selector") == 0 {
                spec["selector"] = labels.clone();
            }
        }
        if let Some(meta) = ensure_obj(obj, "metadata") {
            if map_len(meta, "labels") == 0 {
                meta["labels"] = labels;
            }
        }
    }
    with_spec(obj, |spec| {
        set_default(spec, "replicas", json!(1));
        template(spec);
    });
}

fn deployment(obj: &mut Value) {
    with_spec(obj, |spec| {
        set_default(spec, "replicas", json!(1));
        if let Some(strategy) = ensure_obj(spec, "strategy") {
            set_default_str(strategy, "type", "RollingUpdate");
            if s(strategy, "type") == "RollingUpdate" {
                if let Some(ru) = ensure_obj(strategy, "rollingUpdate") {
                    set_default(ru, "maxUnavailable", json!("25%"));
                    set_default(ru, "maxSurge", json!("25%"));
                }
            }
        }
        set_default(spec, "revisionHistoryLimit", json!(10));
        set_default(spec, "progressDeadlineSeconds", json!(600));
        template(spec);
    });
}

fn daemon_set(obj: &mut Value) {
    with_spec(obj, |spec| {
        if let Some(strategy) = ensure_obj(spec, "updateStrategy") {
            set_default_str(strategy, "type", "RollingUpdate");
            if s(strategy, "type") == "RollingUpdate" {
                if let Some(ru) = ensure_obj(strategy, "rollingUpdate") {
                    set_default(ru, "maxUnavailable", json!(1));
                    set_default(ru, "maxSurge", json!(0));
                }
            }
        }
        set_default(spec, "revisionHistoryLimit", json!(10));
        template(spec);
    });
}

fn stateful_set(obj: &mut Value) {
    with_spec(obj, |spec| {
        set_default(spec, "replicas", json!(1));
        set_default_str(spec, "podManagementPolicy", "OrderedReady");
        if let Some(strategy) = ensure_obj(spec, "updateStrategy") {
            if s(strategy, "type").is_empty() {
                set_default_str(strategy, "type", "RollingUpdate");
                set_default(strategy, "rollingUpdate", json!({}));
            }
            if s(strategy, "type") == "RollingUpdate" {
                if let Some(ru) = obj_mut(strategy, "rollingUpdate") {
                    set_default(ru, "partition", json!(0));
                }
            }
        }
        set_default(spec, "revisionHistoryLimit", json!(10));
        if let Some(policy) = ensure_obj(spec, "persistentVolumeClaimRetentionPolicy") {
            set_default_str(policy, "whenDeleted", "Retain");
            set_default_str(policy, "whenScaled", "Retain");
        }
        each_mut(spec, "volumeClaimTemplates", |pvc| {
            set_default_str(pvc, "apiVersion", "v1");
            set_default_str(pvc, "kind", "PersistentVolumeClaim");
            if let Some(spec) = obj_mut(pvc, "spec") {
                default_pvc_spec(spec);
            }
            if let Some(status) = ensure_obj(pvc, "status") {
                set_default_str(status, "phase", "Pending");
            }
        });
        template(spec);
    });
}

fn job(obj: &mut Value) {
    let template_labels = obj
        .pointer("/spec/template/metadata/labels")
        .filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
        .cloned();
    with_spec(obj, |spec| {
        if !has(spec, "completions") && !has(spec, "parallelism") {
            spec["completions"] = json!(1);
        }
        set_default(spec, "parallelism", json!(1));
        let backoff = if has(spec, "backoffLimitPerIndex") {
            i64::from(i32::MAX)
        } else {
            6
        };
        set_default(spec, "backoffLimit", json!(backoff));
        set_default_str(spec, "completionMode", "NonIndexed");
        set_default(spec, "suspend", json!(false));
        let replacement = if has(spec, "podFailurePolicy") {
            "Failed"
        } else {
            "TerminatingOrFailed"
        };
        set_default_str(spec, "podReplacementPolicy", replacement);
        if let Some(policy) = obj_mut(spec, "podFailurePolicy") {
            each_mut(policy, "rules", |rule| {
                each_mut(rule, "onPodConditions", |c| {
                    set_default_str(c, "status", "True")
                })
            });
        }
        template(spec);
    });
    if let Some(labels) = template_labels {
        if let Some(meta) = ensure_obj(obj, "metadata") {
            if map_len(meta, "labels") == 0 {
                meta["labels"] = labels;
            }
        }
    }
}

fn cron_job(obj: &mut Value) {
    with_spec(obj, |spec| {
        set_default_str(spec, "concurrencyPolicy", "Allow");
        set_default(spec, "suspend", json!(false));
        set_default(spec, "successfulJobsHistoryLimit", json!(3));
        set_default(spec, "failedJobsHistoryLimit", json!(1));
        if let Some(job_spec) = spec
            .pointer_mut("/jobTemplate/spec")
            .filter(|v| v.is_object())
        {
            template(job_spec);
        }
    });
}

fn namespace(obj: &mut Value) {
    let name = s(&obj["metadata"], "name").to_string();
    if !name.is_empty() {
        if let Some(labels) = ensure_obj(obj, "metadata").and_then(|m| ensure_obj(m, "labels")) {
            labels["kubernetes.io/metadata.name"] = json!(name);
        }
    }
    if let Some(status) = ensure_obj(obj, "status") {
        set_default_str(status, "phase", "Active");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::find_kind;

    fn defaulted(group: &str, kind: &str, mut obj: Value) -> Value {
        apply(find_kind(group, "v1", kind).expect("served kind"), &mut obj);
        obj
    }

    fn tmpl() -> Value {
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}})
    }

    #[test]
    fn deployments() {
        let d = defaulted("apps", "Deployment", json!({"spec": {"template": tmpl()}}));
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(
            d["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        assert_eq!(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
        let r = defaulted(
            "apps",
            "Deployment",
            json!({"spec": {"strategy": {"type": "Recreate"}}}),
        );
        assert!(r["spec"]["strategy"].get("rollingUpdate").is_none());
    }

    #[test]
    fn daemon_and_stateful_sets() {
        let ds = defaulted("apps", "DaemonSet", json!({"spec": {}}));
        assert_eq!(
            ds["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        );
        let sts = defaulted(
            "apps",
            "StatefulSet",
            json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "d"}, "spec": {}}]}}),
        );
        assert_eq!(sts["spec"]["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            sts["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(
            sts["spec"]["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(
            sts["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"],
            "Filesystem"
        );
        assert_eq!(
            sts["spec"]["volumeClaimTemplates"][0]["status"]["phase"],
            "Pending"
        );
    }

    #[test]
    fn jobs_and_cron_jobs() {
        let j = defaulted("batch", "Job", json!({"spec": {"template": tmpl()}}));
        assert_eq!(
            (
                j["spec"]["completions"].clone(),
                j["spec"]["parallelism"].clone()
            ),
            (json!(1), json!(1))
        );
        assert_eq!(j["spec"]["backoffLimit"], 6);
        assert_eq!(j["spec"]["completionMode"], "NonIndexed");
        assert_eq!(j["spec"]["suspend"], false);
        assert_eq!(j["spec"]["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(j["metadata"]["labels"], json!({"app": "web"}));
        let p = defaulted("batch", "Job", json!({"spec": {"parallelism": 3}}));
        assert!(p["spec"].get("completions").is_none());
        let cj = defaulted(
            "batch",
            "CronJob",
            json!({"spec": {"jobTemplate": {"spec": {"template": tmpl()}}}}),
        );
        assert_eq!(cj["spec"]["concurrencyPolicy"], "Allow");
        assert_eq!(cj["spec"]["successfulJobsHistoryLimit"], 3);
        assert_eq!(cj["spec"]["failedJobsHistoryLimit"], 1);
        assert_eq!(
            cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"],
            "ClusterFirst"
        );
        assert!(cj["spec"]["jobTemplate"]["spec"]
            .get("backoffLimit")
            .is_none());
    }

    #[test]
    fn core_kinds() {
        let rc = defaulted(
            "",
            "ReplicationController",
            json!({"spec": {"template": tmpl()}}),
        );
        assert_eq!(rc["spec"]["selector"], json!({"app": "web"}));
        assert_eq!(rc["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(rc["spec"]["replicas"], 1);
        let ns = defaulted("", "Namespace", json!({"metadata": {"name": "dev"}}));
        assert_eq!(
            ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "dev"
        );
        assert_eq!(ns["status"]["phase"], "Active");
        let pv = defaulted("", "PersistentVolume", json!({"spec": {}}));
        assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
        assert_eq!(pv["status"]["phase"], "Pending");
        let pvc = defaulted("", "PersistentVolumeClaim", json!({"spec": {}}));
        assert_eq!(pvc["spec"]["volumeMode"], "Filesystem");
        let sc = defaulted(
            "storage.k8s.io",
            "StorageClass",
            json!({"provisioner": "x"}),
        );
        assert_eq!(
            (sc["reclaimPolicy"].clone(), sc["volumeBindingMode"].clone()),
            (json!("Delete"), json!("Immediate"))
        );
        let pc = defaulted("scheduling.k8s.io", "PriorityClass", json!({"value": 1}));
        assert_eq!(pc["preemptionPolicy"], "PreemptLowerPriority");
        let mut not_object = json!("x");
        apply(find_kind("", "v1", "Pod").unwrap(), &mut not_object);
        assert_eq!(not_object, json!("x"));
    }
}
