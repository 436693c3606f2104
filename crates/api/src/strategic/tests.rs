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

mod realistic;

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
    assert_eq!(
        out["metadata"]["labels"],
        json!({"a": "1", "b": "2", "c": "3"})
    );
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
    let d =
        json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
    let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
    let out = apply(deployments(), &d, &patch).unwrap();
    assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));

    let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}});
    let err = apply(deployments(), &d, &patch).unwrap_err();
    assert_eq!(err.0, "invalid patch format of retainKeys");
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
    assert_eq!(
        err.0,
        "unknown patch type: frobnicate in map: map[$patch:frobnicate name:a]"
    );

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
    assert_eq!(
        err.0,
        "map: map[image:x] does not contain declared merge key: name"
    );
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
