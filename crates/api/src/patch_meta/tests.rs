use super::*;

#[test]
fn containers_merge_by_name() {
    let m = lookup("io.k8s.api.core.v1.PodSpec", "containers").unwrap();
    assert_eq!(m.patch_strategy, Some("merge"));
    assert_eq!(m.merge_key, Some("name"));
    assert_eq!(m.list_type, Some(ListType::Map));
    assert_eq!(m.list_map_keys, ["name"]);
    assert!(m.merges() && !m.retains_keys());
}

#[test]
fn container_ports_are_keyed_by_port_and_protocol() {
    let m = lookup("io.k8s.api.core.v1.Container", "ports").unwrap();
    assert_eq!(m.merge_key, Some("containerPort"));
    assert_eq!(m.list_map_keys, ["containerPort", "protocol"]);
}

#[test]
fn volumes_merge_and_retain_keys() {
    let m = lookup("io.k8s.api.core.v1.PodSpec", "volumes").unwrap();
    assert!(m.merges() && m.retains_keys());
    let s = lookup("io.k8s.api.apps.v1.DeploymentSpec", "strategy").unwrap();
    assert!(!s.merges() && s.retains_keys());
}

#[test]
fn tolerations_are_atomic_and_unknown_fields_have_no_meta() {
    let m = lookup("io.k8s.api.core.v1.PodSpec", "tolerations").unwrap();
    assert_eq!(m.patch_strategy, None);
    assert_eq!(m.list_type, Some(ListType::Atomic));
    assert!(lookup("io.k8s.api.core.v1.PodSpec", "nodeName").is_none());
    assert!(lookup("nope", "containers").is_none());
}

#[test]
fn table_has_no_duplicate_rows() {
    let mut seen = std::collections::HashSet::new();
    for e in entries() {
        assert!(
            seen.insert((e.definition, e.property)),
            "{}.{}",
            e.definition,
            e.property
        );
        if e.meta.merge_key.is_some() {
            assert!(e.meta.merges(), "{}.{}", e.definition, e.property);
        }
    }
}

#[test]
fn extensions_are_written_like_upstream() {
    let mut schema = serde_json::Map::new();
    lookup("io.k8s.api.core.v1.ServiceSpec", "ports")
        .unwrap()
        .write_extensions(&mut schema);
    assert_eq!(
        Value::Object(schema),
        serde_json::json!({
            "x-kubernetes-list-map-keys": ["port", "protocol"],
            "x-kubernetes-list-type": "map",
            "x-kubernetes-patch-merge-key": "port",
            "x-kubernetes-patch-strategy": "merge",
        })
    );
}
