use super::*;
use crate::catalogue::{find, RESOURCES};
use serde_json::json;

fn deployments() -> &'static ResourceType {
    find("apps", "v1", "deployments").unwrap()
}

#[test]
fn every_served_kind_has_a_schema_with_its_group_version_kind() {
    for rt in RESOURCES {
        let name = definition_name(rt);
        let def = definition(&name).unwrap_or_else(|| panic!("no schema for {name}"));
        let gvk = &def["x-kubernetes-group-version-kind"][0];
        assert_eq!(
            gvk,
            &json!({"group": rt.group, "kind": rt.kind, "version": rt.version})
        );
    }
}

#[test]
fn served_kinds_have_list_schemas() {
    let list = definition("io.k8s.api.apps.v1.DeploymentList").unwrap();
    assert_eq!(
        list["x-kubernetes-group-version-kind"][0]["kind"],
        "DeploymentList"
    );
    let items = Node::definition("io.k8s.api.apps.v1.DeploymentList")
        .and_then(|n| n.field("items"))
        .and_then(|n| n.items())
        .unwrap();
    assert_eq!(
        items.definition_name(),
        Some("io.k8s.api.apps.v1.Deployment")
    );
}

#[test]
fn every_patch_meta_row_names_a_real_property() {
    for e in crate::patch_meta::entries() {
        let def = definition(e.definition).unwrap_or_else(|| panic!("{}", e.definition));
        let prop = &def["properties"][e.property];
        assert!(prop.is_object(), "{}.{}", e.definition, e.property);
        if let Some(s) = e.meta.patch_strategy {
            assert_eq!(prop["x-kubernetes-patch-strategy"], s);
        }
    }
}

#[test]
fn navigation_reaches_container_ports_with_patch_metadata() {
    let spec = Node::for_kind(deployments())
        .unwrap()
        .field("spec")
        .unwrap();
    let pod = spec.field("template").unwrap().field("spec").unwrap();
    assert_eq!(pod.definition_name(), Some("io.k8s.api.core.v1.PodSpec"));
    let containers = pod.field("containers").unwrap();
    assert_eq!(containers.shape(), Shape::List);
    assert_eq!(containers.patch_strategy(), Some("merge"));
    assert_eq!(containers.patch_merge_key(), Some("name"));
    let ports = containers.items().unwrap().field("ports").unwrap();
    assert_eq!(ports.patch_merge_key(), Some("containerPort"));
    assert_eq!(ports.list_type(), Some("map"));
    assert_eq!(ports.list_map_keys(), ["containerPort", "protocol"]);
    let strategy = spec.field("strategy").unwrap();
    assert_eq!(strategy.patch_strategy(), Some("retainKeys"));
    assert!(strategy
        .description()
        .unwrap()
        .contains("deployment strategy"));
    assert!(strategy
        .field("rollingUpdate")
        .unwrap()
        .field("maxSurge")
        .is_some());
}

#[test]
fn maps_and_leaves_have_their_shapes() {
    let meta = Node::definition("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").unwrap();
    let labels = meta.field("labels").unwrap();
    assert_eq!(labels.shape(), Shape::Map);
    assert_eq!(labels.values().unwrap().shape(), Shape::Scalar);
    assert_eq!(
        meta.field("creationTimestamp").unwrap().shape(),
        Shape::Scalar
    );
    let fields_v1 = meta.field("managedFields").unwrap().items().unwrap();
    assert_eq!(fields_v1.field("fieldsV1").unwrap().shape(), Shape::Any);
    let quantity = Node::definition("io.k8s.apimachinery.pkg.api.resource.Quantity").unwrap();
    assert_eq!(quantity.shape(), Shape::Scalar);
    let ios = Node::definition("io.k8s.apimachinery.pkg.util.intstr.IntOrString").unwrap();
    assert_eq!(ios.shape(), Shape::Scalar);
}

#[test]
fn property_refs_with_descriptions_use_all_of() {
    let def = definition("io.k8s.api.apps.v1.Deployment").unwrap();
    let spec = &def["properties"]["spec"];
    assert_eq!(
        spec["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"
    );
    assert!(spec.get("$ref").is_none());
    assert!(spec["description"].is_string());
}

#[test]
fn unknown_fields_are_reported_with_upstream_paths() {
    let obj = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"any": "thing"}, "bogus": 1},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "a", "image": "x", "resources": {"limits": {"cpu": "1"}}},
                    {"name": "b", "imagex": "y", "ports": [{"containerPort": 80, "hostPortx": 1}]}
                ]}
            },
            "strategy": {"rollingUpdate": {"maxSurge": "25%"}}
        },
        "extra": true
    });
    assert_eq!(
        unknown_fields(deployments(), &obj),
        vec![
            "metadata.bogus",
            "spec.template.spec.containers[1].imagex",
            "spec.template.spec.containers[1].ports[0].hostPortx",
            "extra",
        ]
    );
}

#[test]
fn free_form_fields_accept_anything() {
    let cm = find("", "v1", "configmaps").unwrap();
    let obj = json!({"metadata": {"name": "c", "managedFields": [{"fieldsV1": {"f:data": {}}}]},
                     "data": {"k": "v"}, "binaryData": {"b": "AA=="}});
    assert!(unknown_fields(cm, &obj).is_empty());
    let cr = find("apps", "v1", "controllerrevisions").unwrap();
    let obj = json!({"metadata": {"name": "r"}, "revision": 1, "data": {"spec": {"anything": 1}}});
    assert!(unknown_fields(cr, &obj).is_empty());
    assert!(unknown_fields(cm, &json!("not an object")).is_empty());
}

#[test]
fn definition_names_follow_upstream() {
    assert_eq!(
        definition_name(deployments()),
        "io.k8s.api.apps.v1.Deployment"
    );
    let np = find("networking.k8s.io", "v1", "networkpolicies").unwrap();
    assert_eq!(
        definition_name(np),
        "io.k8s.api.networking.v1.NetworkPolicy"
    );
    assert_eq!(
        guessed_definition_name("", "v1", "Pod"),
        "io.k8s.api.core.v1.Pod"
    );
    assert_eq!(
        guessed_definition_name("rbac.authorization.k8s.io", "v1", "Role"),
        "io.k8s.api.rbac.v1.Role"
    );
}

#[test]
fn registry_build_time_and_size() {
    let start = std::time::Instant::now();
    let defs = build::definitions();
    let took = start.elapsed();
    let bytes = serde_json::to_vec(&defs).unwrap().len();
    eprintln!(
        "registry: {} definitions, {bytes} bytes JSON, built in {took:?}",
        defs.len()
    );
    assert!(defs.len() > 200);

    warm();
    let obj = json!({"metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {
    "replicas": 2, "selector": {"matchLabels": {"app": "web"}},
    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
        {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}],
         "env": [{"name": "A", "value": "1"}], "resources": {"limits": {"cpu": "1"}},
         "readinessProbe": {"httpGet": {"path": "/", "port": 80}}}
    ]}}}});
    let start = std::time::Instant::now();
    for _ in 0..1000 {
        assert!(unknown_fields(deployments(), &obj).is_empty());
    }
    eprintln!(
        "unknown_fields: {:?} per Deployment",
        start.elapsed() / 1000
    );
}

#[test]
fn metadata_is_never_required() {
    let pod = definition("io.k8s.api.core.v1.Pod").unwrap();
    assert!(pod.get("required").is_none());
    let binding = definition("io.k8s.api.core.v1.Binding").unwrap();
    assert_eq!(binding["required"], json!(["target"]));
}
