use super::*;
use crate::apply::path::path_string;
use serde_json::json;

fn set_of(v: Value) -> FieldSet {
    FieldSet::from_fields_v1(&v).expect("valid FieldsV1")
}

fn f(name: &str) -> PathElement {
    PathElement::Field(name.into())
}

#[test]
fn fields_v1_round_trips_upstream_shapes() {
    let text = r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}},"f:finalizers":{"v:\"a\"":{}},"f:replicas":{}}}"#;
    let parsed: Value = serde_json::from_str(text).unwrap();
    let set = set_of(parsed);
    assert_eq!(set.to_fields_v1().to_string(), text);
    let image = [
        f("spec"),
        f("containers"),
        PathElement::key(vec![("name".into(), json!("nginx"))]),
        f("image"),
    ];
    assert!(set.has(&image));
    assert!(set.has(&image[..3]), "the item itself is a member");
    assert!(!set.has(&image[..2]), "the list is not a member");
    assert_eq!(
        path_string(&image),
        r#".spec.containers[name="nginx"].image"#
    );
}

#[test]
fn key_fields_are_sorted_whatever_order_they_arrive_in() {
    let set = set_of(json!({"k:{\"protocol\":\"TCP\",\"containerPort\":80}": {}}));
    let key = set
        .to_fields_v1()
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    assert_eq!(key, r#"k:{"containerPort":80,"protocol":"TCP"}"#);
    let pe = PathElement::from_fields_key(&key).unwrap();
    assert_eq!(pe.to_string(), r#"[containerPort=80,protocol="TCP"]"#);
}

#[test]
fn index_and_value_elements_parse() {
    let set = set_of(json!({"i:3": {}, "v:5": {}}));
    assert!(set.has(&[PathElement::Index(3)]));
    assert!(set.has(&[PathElement::Value(json!(5))]));
    assert_eq!(PathElement::Value(json!("x")).to_string(), r#"[="x"]"#);
}

#[test]
fn malformed_documents_are_errors_not_panics() {
    for bad in [
        json!([]),
        json!({"x:a": {}}),
        json!({"f:a": 1}),
        json!({"k:[1]": {}}),
        json!({"k:{": {}}),
        json!({"i:-1": {}}),
        json!({"é": {}}),
        json!({"f": {}}),
    ] {
        assert!(FieldSet::from_fields_v1(&bad).is_err(), "{bad}");
    }
}

#[test]
fn set_operations_follow_paths_not_subtrees() {
    let a = set_of(json!({"f:data": {"f:a": {}, "f:b": {}}, "f:x": {}}));
    let b = set_of(json!({"f:data": {"f:b": {}, "f:c": {}}}));
    assert_eq!(
        a.union(&b),
        set_of(json!({"f:data": {"f:a": {}, "f:b": {}, "f:c": {}}, "f:x": {}}))
    );
    assert_eq!(
        a.difference(&b),
        set_of(json!({"f:data": {"f:a": {}}, "f:x": {}}))
    );
    assert_eq!(a.intersection(&b), set_of(json!({"f:data": {"f:b": {}}})));
    assert!(a.difference(&a).is_empty());
    let member_only = set_of(json!({"f:data": {}}));
    assert_eq!(
        a.difference(&member_only),
        a,
        "a member does not cover its children"
    );
}

#[test]
fn paths_and_leaves_list_members_before_children() {
    let set = set_of(json!({"f:spec": {".": {}, "f:b": {}, "f:a": {"f:z": {}}}, "f:kind": {}}));
    let paths: Vec<String> = set.paths().iter().map(|p| path_string(p)).collect();
    assert_eq!(paths, [".kind", ".spec", ".spec.b", ".spec.a.z"]);
    let leaves: Vec<String> = set.leaves().iter().map(|p| path_string(p)).collect();
    assert_eq!(leaves, [".kind", ".spec.b", ".spec.a.z"]);
    assert!(set.with_parents().has(&[f("spec"), f("a")]));
}

#[test]
fn in_place_subtract_and_absorb_agree_with_difference_and_union() {
    let a = set_of(
        json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}, "f:tier": {}}},
        "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:x": {}}}}, "f:data": {}}),
    );
    let b = set_of(json!({"f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {"f:template": {"f:spec": {"f:x": {}}}}, "f:status": {"f:phase": {}}}));
    for (x, y) in [(&a, &b), (&b, &a), (&a, &a), (&a, &FieldSet::new())] {
        let mut sub = x.clone();
        sub.subtract(y);
        assert_eq!(sub, x.difference(y));
        let mut all = x.clone();
        all.absorb(y.clone());
        assert_eq!(all, x.union(y));
    }
    let mut top = a.clone();
    top.retain_top(|pe| *pe != f("spec"));
    assert!(!top.has(&[f("spec"), f("replicas")]));
    assert!(top.has(&[f("data")]));
    assert!(top.has(&[f("metadata"), f("labels"), f("tier")]));
}
