use super::*;
use crate::apply::apply;
use crate::apply::test_support::*;
use crate::catalogue::find_kind;
use serde_json::json;

#[test]
fn schema_decides_granularity() {
    let deploy = Type::of(deployments());
    let pod_spec = deploy.field("spec").field("template").field("spec");
    let containers = pod_spec.field("containers");
    assert_eq!(containers.kind(&json!([])), Kind::MapList(vec!["name"]));
    assert_eq!(
        deploy.field("spec").field("selector").kind(&json!({})),
        Kind::Leaf
    );
    assert_eq!(containers.item().field("args").kind(&json!([])), Kind::Leaf);
    let meta = deploy.field("metadata");
    assert_eq!(meta.field("finalizers").kind(&json!([])), Kind::SetList);
    assert_eq!(
        meta.field("ownerReferences").kind(&json!([])),
        Kind::MapList(vec!["uid"])
    );
    assert_eq!(
        deploy.field("spec").kind(&json!("not an object")),
        Kind::Leaf
    );
    assert_eq!(Type::deduced().kind(&json!({"a": 1})), Kind::Fields);
    assert_eq!(Type::deduced().kind(&json!([1])), Kind::Leaf);
}

#[test]
fn set_lists_union_and_keyed_ports_default_their_protocol() {
    let rt = find_kind("", "v1", "Service").unwrap();
    let svc = |finalizers: Value, ports: Value| {
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "s", "finalizers": finalizers}, "spec": {"ports": ports}})
    };
    let a = apply(
        rt,
        None,
        &svc(json!(["a/x"]), json!([{"port": 80}])),
        "a",
        false,
        T0,
    )
    .unwrap();
    let f = &entry(&a, "a", "Apply").unwrap()["fieldsV1"];
    assert_eq!(f["f:metadata"]["f:finalizers"], json!({"v:\"a/x\"": {}}));
    assert!(f["f:spec"]["f:ports"]["k:{\"port\":80,\"protocol\":\"TCP\"}"].is_object());

    let b = apply(
        rt,
        Some(&a),
        &svc(json!(["b/y"]), json!([{"port": 443}])),
        "b",
        false,
        T1,
    )
    .unwrap();
    assert_eq!(b["metadata"]["finalizers"], json!(["a/x", "b/y"]));
    assert_eq!(b["spec"]["ports"], json!([{"port": 80}, {"port": 443}]));
}
