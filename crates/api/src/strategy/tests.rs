//! End-to-end checks of the public strategy functions: default, prepare, validate.

use super::*;
use crate::catalogue::{find_kind, RESOURCES};

fn rt(group: &str, kind: &str) -> &'static ResourceType {
    find_kind(group, "v1", kind).expect("served kind")
}

/// Runs the create pipeline the apiserver runs and returns the rendered errors.
fn create(group: &str, kind: &str, mut obj: Value) -> (Value, Vec<String>) {
    let rt = rt(group, kind);
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("uid".into(), json!("uid-1"));
    }
    default(rt, &mut obj);
    prepare_for_create(rt, &mut obj);
    let errs = validate(rt, &obj).iter().map(ToString::to_string).collect();
    (obj, errs)
}

fn container() -> Value {
    json!({"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]})
}

#[test]
fn typical_objects_are_valid_after_defaulting() {
    let labels = json!({"app": "web"});
    let template = json!({"metadata": {"labels": labels}, "spec": {"containers": [container()]}});
    let cases = vec![
        (
            "",
            "Pod",
            json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": [container()]}}),
        ),
        (
            "apps",
            "Deployment",
            json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"selector": {"matchLabels": labels}, "template": template}}),
        ),
        (
            "apps",
            "ReplicaSet",
            json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"selector": {"matchLabels": labels}, "template": template}}),
        ),
        (
            "apps",
            "DaemonSet",
            json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"selector": {"matchLabels": labels}, "template": template}}),
        ),
        (
            "apps",
            "StatefulSet",
            json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"serviceName": "web", "selector": {"matchLabels": labels}, "template": template}}),
        ),
        (
            "",
            "ReplicationController",
            json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"template": template}}),
        ),
        (
            "batch",
            "Job",
            json!({"metadata": {"name": "pi", "namespace": "default"}, "spec": {"template": {"spec": {"containers": [container()], "restartPolicy": "Never"}}}}),
        ),
        (
            "batch",
            "CronJob",
            json!({"metadata": {"name": "c", "namespace": "default"}, "spec": {"schedule": "*/1 * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [container()], "restartPolicy": "OnFailure"}}}}}}),
        ),
        (
            "",
            "Service",
            json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"selector": labels, "ports": [{"port": 80}]}}),
        ),
        (
            "",
            "Service",
            json!({"metadata": {"name": "lb", "namespace": "default"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}}),
        ),
        (
            "",
            "ConfigMap",
            json!({"metadata": {"name": "cfg", "namespace": "default"}, "data": {"a.conf": "x"}}),
        ),
        (
            "",
            "Secret",
            json!({"metadata": {"name": "s", "namespace": "default"}, "stringData": {"password": "x"}}),
        ),
        ("", "Namespace", json!({"metadata": {"name": "dev"}})),
        (
            "",
            "ServiceAccount",
            json!({"metadata": {"name": "default", "namespace": "dev"}}),
        ),
        (
            "",
            "PersistentVolumeClaim",
            json!({"metadata": {"name": "data", "namespace": "default"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
        ),
        (
            "",
            "PersistentVolume",
            json!({"metadata": {"name": "pv1"}, "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}, "hostPath": {"path": "/data"}}}),
        ),
        (
            "",
            "Node",
            json!({"metadata": {"name": "node-1"}, "spec": {"podCIDR": "10.42.0.0/24"}}),
        ),
        (
            "",
            "Endpoints",
            json!({"metadata": {"name": "web", "namespace": "default"}, "subsets": [{"addresses": [{"ip": "10.42.0.5"}], "ports": [{"port": 80}]}]}),
        ),
        (
            "discovery.k8s.io",
            "EndpointSlice",
            json!({"metadata": {"name": "web-abc", "namespace": "default"}, "addressType": "IPv4", "endpoints": [{"addresses": ["10.42.0.5"]}], "ports": [{"port": 80}]}),
        ),
        (
            "networking.k8s.io",
            "Ingress",
            json!({"metadata": {"name": "ing", "namespace": "default"}, "spec": {"rules": [{"host": "example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}),
        ),
        (
            "networking.k8s.io",
            "NetworkPolicy",
            json!({"metadata": {"name": "deny", "namespace": "default"}, "spec": {"podSelector": {}}}),
        ),
        (
            "rbac.authorization.k8s.io",
            "Role",
            json!({"metadata": {"name": "reader", "namespace": "default"}, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        ),
        (
            "rbac.authorization.k8s.io",
            "ClusterRoleBinding",
            json!({"metadata": {"name": "system:admin"}, "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": [{"kind": "User", "name": "admin"}]}),
        ),
        (
            "storage.k8s.io",
            "StorageClass",
            json!({"metadata": {"name": "local"}, "provisioner": "rancher.io/local-path"}),
        ),
        (
            "scheduling.k8s.io",
            "PriorityClass",
            json!({"metadata": {"name": "high"}, "value": 1000}),
        ),
        (
            "policy",
            "PodDisruptionBudget",
            json!({"metadata": {"name": "pdb", "namespace": "default"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": labels}}}),
        ),
        (
            "coordination.k8s.io",
            "Lease",
            json!({"metadata": {"name": "node-1", "namespace": "kube-node-lease"}, "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40}}),
        ),
        (
            "",
            "Event",
            json!({"metadata": {"name": "e.1", "namespace": "default"}, "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p"}, "reason": "Started"}),
        ),
        (
            "",
            "LimitRange",
            json!({"metadata": {"name": "lr", "namespace": "default"}, "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m"}}]}}),
        ),
        (
            "",
            "ResourceQuota",
            json!({"metadata": {"name": "q", "namespace": "default"}, "spec": {"hard": {"pods": "10", "requests.cpu": "4"}}}),
        ),
        (
            "apps",
            "ControllerRevision",
            json!({"metadata": {"name": "web-1", "namespace": "default"}, "data": {}, "revision": 1}),
        ),
    ];
    for (group, kind, obj) in cases {
        let (_, errs) = create(group, kind, obj);
        assert!(errs.is_empty(), "{group}/{kind}: {errs:?}");
    }
}

#[test]
fn upstream_messages_reach_the_caller() {
    let (_, errs) = create(
        "apps",
        "Deployment",
        json!({"metadata": {"name": "Bad_Name", "namespace": "default"},
        "spec": {"replicas": -1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web"}]}}}}),
    );
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs[0].starts_with("metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"));
    assert_eq!(
        errs[1],
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    );
    assert_eq!(
        errs[2],
        "spec.template.spec.containers[0].image: Required value"
    );
}

#[test]
fn generated_names_are_checked_as_prefixes() {
    let (_, errs) = create(
        "",
        "ConfigMap",
        json!({"metadata": {"generateName": "cfg-", "namespace": "default"}}),
    );
    assert_eq!(
        errs,
        vec!["metadata.name: Required value: name or generateName is required"]
    );
}

#[test]
fn pod_create_and_update() {
    let (pod, errs) = create(
        "",
        "Pod",
        json!({"metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}}),
    );
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(
        pod["status"],
        json!({"phase": "Pending", "qosClass": "Guaranteed"})
    );
    let pod_rt = rt("", "Pod");
    let mut new = pod.clone();
    new["spec"]["containers"][0]["image"] = json!("nginx:2");
    new["status"] = json!({"phase": "Running"});
    prepare_for_update(pod_rt, &mut new, &pod);
    assert_eq!(new["status"]["phase"], "Pending");
    assert!(validate_update(pod_rt, &new, &pod).is_empty());
    let mut bad = pod.clone();
    bad["spec"]["restartPolicy"] = json!("Never");
    let errs = validate_update(pod_rt, &bad, &pod);
    assert_eq!(errs.len(), 1);
    assert!(errs[0]
        .to_string()
        .starts_with("spec: Forbidden: pod updates may not change fields other than"));
}

#[test]
fn deployment_selector_is_immutable_and_generation_tracks_spec() {
    let labels = json!({"app": "web"});
    let (old, errs) = create(
        "apps",
        "Deployment",
        json!({"metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": {"app": "web", "v": "1"}}, "spec": {"containers": [container()]}}}}),
    );
    assert!(errs.is_empty(), "{errs:?}");
    let d = rt("apps", "Deployment");
    let mut new = old.clone();
    new["spec"]["selector"] = json!({"matchLabels": {"app": "web", "v": "1"}});
    prepare_for_update(d, &mut new, &old);
    assert_eq!(new["metadata"]["generation"], 2);
    let errs: Vec<String> = validate_update(d, &new, &old)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("spec.selector: Invalid value: "));
    assert!(errs[0].ends_with(": field is immutable"));
}

#[test]
fn objects_stored_before_a_default_existed_can_still_be_updated() {
    let pod_rt = rt("", "Pod");
    let (mut stored, errs) = create(
        "",
        "Pod",
        json!({"metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "1"}}}]}}),
    );
    assert!(errs.is_empty(), "{errs:?}");
    stored["spec"]["containers"][0]
        .as_object_mut()
        .unwrap()
        .remove("resizePolicy");
    stored["metadata"]["generation"] = json!(1);
    let mut new = stored.clone();
    new["metadata"]["labels"] = json!({"a": "b"});
    default(pod_rt, &mut new);
    prepare_for_update(pod_rt, &mut new, &stored);
    assert_eq!(new["metadata"]["generation"], 1);
    assert!(validate_update(pod_rt, &new, &stored).is_empty());
}

#[test]
fn status_writes_do_not_touch_spec() {
    let svc_rt = rt("", "Service");
    let (old, errs) = create(
        "",
        "Service",
        json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"ports": [{"port": 80}], "clusterIP": "10.43.0.9"}}),
    );
    assert!(errs.is_empty(), "{errs:?}");
    let mut new = old.clone();
    new["spec"]["type"] = json!("NodePort");
    new["status"] = json!({"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}});
    prepare_for_status_update(svc_rt, &mut new, &old);
    assert_eq!(new["spec"]["type"], "ClusterIP");
    assert!(validate_update(svc_rt, &new, &old).is_empty());
}

#[test]
fn nothing_panics_on_odd_shapes() {
    let shapes = [
        json!(null),
        json!("x"),
        json!([1, 2]),
        json!({"metadata": 5}),
        json!({"metadata": {"name": 5, "labels": "x", "annotations": [1]}, "spec": "x", "status": 3}),
        json!({"metadata": {"name": "a"}, "spec": {"containers": "x", "template": [1], "selector": "s", "ports": {"a": 1},
            "replicas": "many", "strategy": 4, "rules": 1, "volumes": [null, 1, {"name": 3}], "hard": {"cpu": 1.5}}}),
        json!({"metadata": {"name": "a"}, "spec": {"containers": [null, 1, {"ports": [null, {"containerPort": "80"}], "env": [1], "resources": {"limits": {"cpu": {}}}}],
            "template": {"spec": {"containers": [{"livenessProbe": {"httpGet": {"port": [1]}}}]}}, "jobTemplate": 1, "schedule": 5}}),
        json!({"metadata": {"name": "a"}, "data": {"k": 1}, "rules": [{"verbs": "get"}], "subjects": [1], "roleRef": "x", "subsets": [{"addresses": [1]}]}),
    ];
    for rt in RESOURCES {
        for shape in &shapes {
            let mut obj = shape.clone();
            default(rt, &mut obj);
            prepare_for_create(rt, &mut obj);
            let _ = validate(rt, &obj);
            let mut upd = shape.clone();
            default(rt, &mut upd);
            prepare_for_update(rt, &mut upd, &obj);
            let _ = validate_update(rt, &upd, &obj);
            let _ = validate_update(rt, &obj, shape);
            prepare_for_status_update(rt, &mut upd, shape);
        }
    }
}

#[test]
fn skeletons_carry_type_and_scope() {
    let s = skeleton(rt("", "Namespace"), "dev", Some("ignored"));
    assert_eq!(
        s,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}})
    );
    let p = skeleton(rt("apps", "Deployment"), "web", Some("default"));
    assert_eq!(p["apiVersion"], "apps/v1");
    assert_eq!(p["metadata"]["namespace"], "default");
}
