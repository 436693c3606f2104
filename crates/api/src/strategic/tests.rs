use super::*;
use crate::catalogue::find;
use serde_json::json;

fn deployments() -> &'static ResourceType {
    find("apps", "v1", "deployments").unwrap()
}

fn pods() -> &'static ResourceType {
    find("", "v1", "pods").unwrap()
}

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
}

fn patch_pod(original: Value, patch: Value) -> Result<Value> {
    apply(pods(), &original, &patch)
}

fn names(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

#[test]
fn maps_merge_recursively_and_null_deletes() {
    let original = json!({"metadata": {"name": "p", "labels": {"a": "1", "b": "2"}}});
    let patch = json!({"metadata": {"labels": {"a": null, "c": "3"}, "annotations": {"x": "y"}}});
    let out = patch_pod(original, patch).unwrap();
    assert_eq!(out["metadata"]["labels"], json!({"b": "2", "c": "3"}));
    assert_eq!(out["metadata"]["annotations"], json!({"x": "y"}));
    assert_eq!(out["metadata"]["name"], "p");
}

#[test]
fn null_for_a_missing_key_is_dropped() {
    let out = patch_pod(pod(json!({})), json!({"spec": {"nodeName": null}})).unwrap();
    assert!(out["spec"].get("nodeName").is_none());
}

#[test]
fn lists_with_merge_key_merge_by_key_and_new_items_come_first() {
    let original = pod(json!({"containers": [
        {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}
    ]}));
    let patch = json!({"spec": {"containers": [
        {"name": "b", "image": "b:2"}, {"name": "c", "image": "c:1"}
    ]}});
    let out = patch_pod(original, patch).unwrap();
    let containers = &out["spec"]["containers"];
    assert_eq!(names(containers), ["a", "b", "c"]);
    assert_eq!(containers[1], json!({"name": "b", "image": "b:2"}));

    let original = pod(json!({"containers": [{"name": "a", "image": "a:1"}]}));
    let patch = json!({"spec": {"containers": [{"name": "z", "image": "z:1"}]}});
    let out = patch_pod(original, patch).unwrap();
    assert_eq!(names(&out["spec"]["containers"]), ["z", "a"]);
}

#[test]
fn patch_delete_element_removes_by_merge_key() {
    let original = pod(json!({"containers": [{"name": "a"}, {"name": "b"}]}));
    let patch = json!({"spec": {"containers": [{"$patch": "delete", "name": "a"}]}});
    let out = patch_pod(original, patch).unwrap();
    assert_eq!(out["spec"]["containers"], json!([{"name": "b"}]));
}

#[test]
fn patch_replace_element_replaces_the_list() {
    let original = pod(json!({"containers": [{"name": "a", "image": "x"}, {"name": "b"}]}));
    let patch = json!({"spec": {"containers": [{"name": "c"}, {"$patch": "replace"}]}});
    let out = patch_pod(original, patch).unwrap();
    assert_eq!(out["spec"]["containers"], json!([{"name": "c"}]));
}

#[test]
fn patch_replace_and_delete_on_maps() {
    let original = json!({"metadata": {"name": "p", "labels": {"a": "1", "b": "2"}}});
    let patch = json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}});
    let out = patch_pod(original.clone(), patch).unwrap();
    assert_eq!(out["metadata"]["labels"], json!({"c": "3"}));

    let patch = json!({"metadata": {"labels": {"$patch": "delete"}}});
    let out = patch_pod(original.clone(), patch).unwrap();
    assert_eq!(out["metadata"]["labels"], json!({}));

    let patch = json!({"metadata": {"labels": {"$patch": "merge", "c": "3"}}});
    let out = patch_pod(original, patch).unwrap();
    assert_eq!(out["metadata"]["labels"], json!({"a": "1", "b": "2", "c": "3"}));
}

#[test]
fn primitive_merge_lists_are_set_unions() {
    let original = json!({"metadata": {"name": "p", "finalizers": ["a", "b"]}});
    let patch = json!({"metadata": {"finalizers": ["b", "c"]}});
    let out = patch_pod(original, patch).unwrap();
    assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));
}

#[test]
fn delete_from_primitive_list_removes_values() {
    let original = json!({"metadata": {"name": "p", "finalizers": ["a", "b", "c"]}});
    let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "x"]}});
    let out = patch_pod(original, patch).unwrap();
    assert_eq!(out["metadata"]["finalizers"], json!(["a", "c"]));
}

#[test]
fn set_element_order_orders_the_result() {
    let original = pod(json!({"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}));
    let patch = json!({"spec": {
        "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}]
    }});
    let out = patch_pod(original, patch).unwrap();
    assert_eq!(names(&out["spec"]["containers"]), ["c", "a", "b"]);

    let original = json!({"metadata": {"name": "p", "finalizers": ["x", "y"]}});
    let patch = json!({"metadata": {
        "$setElementOrder/finalizers": ["y", "z", "x"], "finalizers": ["z"]
    }});
    let out = patch_pod(original, patch).unwrap();
    assert_eq!(out["metadata"]["finalizers"], json!(["y", "z", "x"]));
}

#[test]
fn set_element_order_must_agree_with_the_patch_list() {
    let original = pod(json!({"containers": [{"name": "a"}, {"name": "b"}]}));
    let patch = json!({"spec": {
        "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
        "containers": [{"name": "b"}, {"name": "a"}]
    }});
    let err = patch_pod(original, patch).unwrap_err();
    assert!(err.0.starts_with("The order in patch list:\n[map[name:b] map[name:a]]\n doesn't match $setElementOrder list:"), "{err}");
}

#[test]
fn retain_keys_clears_fields_not_listed() {
    let d = json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
    let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
    let out = apply(deployments(), &d, &patch).unwrap();
    assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));

    let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}});
    let err = apply(deployments(), &d, &patch).unwrap_err();
    assert_eq!(err.0, "invalid patch format of retainKeys");
}

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
fn lists_without_merge_strategy_are_replaced() {
    let original = pod(json!({
        "tolerations": [{"key": "a"}, {"key": "b"}],
        "containers": [{"name": "a", "command": ["x", "y"]}]
    }));
    let patch = json!({"spec": {
        "tolerations": [{"key": "c"}],
        "containers": [{"name": "a", "command": ["z"]}]
    }});
    let out = patch_pod(original, patch).unwrap();
    assert_eq!(out["spec"]["tolerations"], json!([{"key": "c"}]));
    assert_eq!(out["spec"]["containers"][0]["command"], json!(["z"]));
}

#[test]
fn unknown_patch_types_fail_like_upstream() {
    let original = pod(json!({"containers": [{"name": "a"}]}));
    let patch = json!({"spec": {"containers": [{"$patch": "frobnicate", "name": "a"}]}});
    let err = patch_pod(original.clone(), patch).unwrap_err();
    assert_eq!(err.0, "unknown patch type: frobnicate in map: map[$patch:frobnicate name:a]");

    let patch = json!({"metadata": {"$patch": 7}});
    let err = patch_pod(original.clone(), patch).unwrap_err();
    assert_eq!(err.0, "unknown patch type: %!s(7) in map: map[$patch:7]");

    let patch = json!({"spec": {"containers": [{"$patch": "merge"}]}});
    let err = patch_pod(original, patch).unwrap_err();
    assert_eq!(err.0, "merging lists cannot yet be specified in the patch");
}

#[test]
fn malformed_patches_are_errors() {
    let original = pod(json!({"containers": [{"name": "a"}]}));
    let err = patch_pod(original.clone(), json!([1, 2])).unwrap_err();
    assert_eq!(err.0, "invalid JSON document");
    let patch = json!({"spec": {"containers": [{"image": "x"}]}});
    let err = patch_pod(original.clone(), patch).unwrap_err();
    assert_eq!(err.0, "map: map[image:x] does not contain declared merge key: name");
    let patch = json!({"spec": {"containers": [["a"]]}});
    let err = patch_pod(pod(json!({"containers": []})), patch).unwrap_err();
    assert_eq!(err.0, "lists of lists are not supported");
    let patch = json!({"spec": {"containers": ["a"]}});
    assert!(patch_pod(original.clone(), patch).is_err());
    let patch = json!({"spec": {"$setElementOrder/containers": "a"}});
    assert!(patch_pod(original, patch).is_err());
}

#[test]
fn new_fields_have_directives_applied() {
    let patch = json!({"spec": {"containers": [
        {"name": "a", "env": [{"name": "X", "value": "1"}, {"$patch": "delete", "name": "Y"}]}
    ]}});
    let out = patch_pod(pod(json!({})), patch).unwrap();
    assert_eq!(
        out["spec"]["containers"],
        json!([{"name": "a", "env": [{"name": "X", "value": "1"}]}])
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
    assert_eq!(containers[0]["env"], json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]));
    assert_eq!(containers[0]["ports"], json!([{"containerPort": 80, "protocol": "TCP"}]));
    assert_eq!(containers[1], live["spec"]["template"]["spec"]["containers"][1]);
    assert_eq!(out["spec"]["replicas"], 2);
}

#[test]
fn service_ports_merge_by_port_number() {
    let svc = find("", "v1", "services").unwrap();
    let live = json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}]}});
    let patch = json!({"spec": {"ports": [{"port": 80.0, "targetPort": 9090}, {"port": 443}]}});
    let out = apply(svc, &live, &patch).unwrap();
    assert_eq!(out["spec"]["ports"], json!([{"port": 80.0, "targetPort": 9090}, {"port": 443}]));
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
        json!(null), json!(1), json!("s"), json!(true), json!([]), json!({}),
        json!("delete"), json!("replace"), json!("merge"), json!(["name"]),
        json!([{"name": "a"}]), json!([{"$patch": "delete"}]), json!([[1]]), json!([1, "a"]),
    ];
    let keys = [
        "metadata", "spec", "containers", "name", "ports", "containerPort", "finalizers",
        "$patch", "$retainKeys", "$setElementOrder/containers", "$setElementOrder/finalizers",
        "$deleteFromPrimitiveList/finalizers", "volumes", "env", "labels", "emptyDir",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    fn build(next: &mut dyn FnMut(usize) -> usize, atoms: &[Value], keys: &[&str], d: u32) -> Value {
        match next(if d > 3 { 1 } else { 3 }) {
            0 => atoms[next(atoms.len())].clone(),
            1 => Value::Array((0..next(3)).map(|_| build(next, atoms, keys, d + 1)).collect()),
            _ => Value::Object(
                (0..next(4))
                    .map(|_| (keys[next(keys.len())].to_string(), build(next, atoms, keys, d + 1)))
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
