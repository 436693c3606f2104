//! Patches as kubectl sends them, and arbitrary patches that must fail cleanly.

use super::{deployments, names, patch_pod, pod, pods};
use crate::catalogue::find;
use crate::strategic::apply;
use serde_json::{json, Value};

#[test]
fn volumes_merge_by_name_and_retain_keys() {
    let original = pod(json!({"volumes": [
        {"name": "a", "emptyDir": {}}, {"name": "b", "secret": {"secretName": "s"}}
    ]}));
    let patch = json!({"spec": {"volumes": [
        {"$retainKeys": ["configMap", "name"], "configMap": {"name": "c"}, "name": "a"}
    ]}});
    let out = patch_pod(original, patch).unwrap();
    assert_eq!(
        out["spec"]["volumes"],
        json!([{"name": "a", "configMap": {"name": "c"}}, {"name": "b", "secret": {"secretName": "s"}}])
    );
}

#[test]
fn kubectl_apply_patch_updates_a_deployment() {
    let live = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1.25",
             "env": [{"name": "A", "value": "1"}],
             "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 8080, "protocol": "TCP"}]},
            {"name": "sidecar", "image": "busybox", "args": ["sleep", "1d"]}
        ]}}}
    });
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
        "containers": [{
            "$setElementOrder/env": [{"name": "A"}, {"name": "B"}],
            "$setElementOrder/ports": [{"containerPort": 80}],
            "env": [{"name": "B", "value": "2"}],
            "image": "nginx:1.26",
            "name": "web",
            "ports": [{"$patch": "delete", "containerPort": 8080}]
        }]
    }}}});
    let out = apply(deployments(), &live, &patch).unwrap();
    let containers = &out["spec"]["template"]["spec"]["containers"];
    assert_eq!(names(containers), ["web", "sidecar"]);
    assert_eq!(containers[0]["image"], "nginx:1.26");
    assert_eq!(
        containers[0]["env"],
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    );
    assert_eq!(
        containers[0]["ports"],
        json!([{"containerPort": 80, "protocol": "TCP"}])
    );
    assert_eq!(
        containers[1],
        live["spec"]["template"]["spec"]["containers"][1]
    );
    assert_eq!(out["spec"]["replicas"], 2);
}

#[test]
fn service_ports_merge_by_port_number() {
    let svc = find("", "v1", "services").unwrap();
    let live = json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}]}});
    let patch = json!({"spec": {"ports": [{"port": 80.0, "targetPort": 9090}, {"port": 443}]}});
    let out = apply(svc, &live, &patch).unwrap();
    assert_eq!(
        out["spec"]["ports"],
        json!([{"port": 80.0, "targetPort": 9090}, {"port": 443}])
    );
}

#[test]
fn deep_patches_fail_instead_of_overflowing() {
    let mut patch = json!("x");
    for _ in 0..500 {
        patch = json!({ "a": patch });
    }
    let original = patch.clone();
    let err = apply(pods(), &original, &patch).unwrap_err();
    assert!(err.0.contains("nested deeper"), "{err}");
}

#[test]
fn arbitrary_patches_never_panic() {
    let live = json!({"metadata": {"name": "p", "finalizers": ["a"], "labels": {"x": "y"}},
        "spec": {"containers": [{"name": "a", "ports": [{"containerPort": 1}], "env": []}],
                 "volumes": [{"name": "v", "emptyDir": {}}]}});
    let atoms = [
        json!(null),
        json!(1),
        json!("s"),
        json!(true),
        json!([]),
        json!({}),
        json!("delete"),
        json!("replace"),
        json!("merge"),
        json!(["name"]),
        json!([{"name": "a"}]),
        json!([{"$patch": "delete"}]),
        json!([[1]]),
        json!([1, "a"]),
    ];
    let keys = [
        "metadata",
        "spec",
        "containers",
        "name",
        "ports",
        "containerPort",
        "finalizers",
        "$patch",
        "$retainKeys",
        "$setElementOrder/containers",
        "$setElementOrder/finalizers",
        "$deleteFromPrimitiveList/finalizers",
        "volumes",
        "env",
        "labels",
        "emptyDir",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    fn build(
        next: &mut dyn FnMut(usize) -> usize,
        atoms: &[Value],
        keys: &[&str],
        d: u32,
    ) -> Value {
        match next(if d > 3 { 1 } else { 3 }) {
            0 => atoms[next(atoms.len())].clone(),
            1 => Value::Array(
                (0..next(3))
                    .map(|_| build(next, atoms, keys, d + 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..next(4))
                    .map(|_| {
                        (
                            keys[next(keys.len())].to_string(),
                            build(next, atoms, keys, d + 1),
                        )
                    })
                    .collect(),
            ),
        }
    }
    for _ in 0..3000 {
        let patch = build(&mut next, &atoms, &keys, 0);
        let _ = apply(pods(), &live, &patch);
        let _ = apply(pods(), &patch, &live);
    }
}

/// The patch kubectl 1.33 `apply` sent for a Deployment (captured against our OpenAPI).
#[test]
fn captured_kubectl_apply_patch() {
    let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [
                {"name": "web", "image": "nginx:1.25", "env": [{"name": "A", "value": "1"}],
                 "ports": [{"containerPort": 80}, {"containerPort": 8080}]},
                {"name": "sidecar", "image": "busybox"}
            ], "volumes": [{"name": "v", "emptyDir": {}}]}}}});
    let patch = json!({"spec": {"strategy": {"type": "Recreate"}, "template": {"spec": {
        "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
        "$setElementOrder/volumes": [{"name": "v"}],
        "containers": [{
            "$setElementOrder/env": [{"name": "A"}, {"name": "B"}],
            "$setElementOrder/ports": [{"containerPort": 80}],
            "env": [{"name": "B", "value": "2"}],
            "image": "nginx:1.26", "name": "web",
            "ports": [{"$patch": "delete", "containerPort": 8080}]
        }],
        "volumes": [{"$retainKeys": ["configMap", "name"], "configMap": {"name": "cm"},
                     "emptyDir": null, "name": "v"}]
    }}}});
    let out = apply(deployments(), &live, &patch).unwrap();
    assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
    assert_eq!(
        out["spec"]["template"]["spec"],
        json!({"containers": [
            {"name": "web", "image": "nginx:1.26",
             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
             "ports": [{"containerPort": 80}]},
            {"name": "sidecar", "image": "busybox"}
        ], "volumes": [{"name": "v", "configMap": {"name": "cm"}}]})
    );
}
