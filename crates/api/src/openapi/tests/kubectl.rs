//! The document features kubectl relies on: the fieldValidation probe, explain, components.

use super::{apps, collect_refs};
use crate::catalogue::RESOURCES;
use crate::openapi::{group_versions, v3_document, META};
use serde_json::{json, Value};

/// kubectl's `--validate=strict` probe (cli-runtime query_param_verifier_v3.go).
fn patch_supports_field_validation(doc: &Value, group: &str, version: &str, kind: &str) -> bool {
    let gvk = json!({"group": group, "kind": kind, "version": version});
    let mut found = false;
    for item in doc["paths"].as_object().unwrap().values() {
        let Some(op) = item.get("patch") else {
            continue;
        };
        if op["x-kubernetes-group-version-kind"] != gvk {
            continue;
        }
        found = true;
        let ok = op["parameters"].as_array().is_some_and(|ps| {
            ps.iter()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
        });
        if !ok {
            return false;
        }
    }
    found
}

#[test]
fn every_patchable_kind_advertises_field_validation() {
    for rt in RESOURCES.iter().filter(|rt| !rt.create_only()) {
        let doc = v3_document(rt.group, rt.version).unwrap();
        assert!(
            patch_supports_field_validation(&doc, rt.group, rt.version, rt.kind),
            "{}",
            rt.kind
        );
    }
}

#[test]
fn components_hold_every_referenced_definition() {
    for (group, version) in group_versions() {
        let doc = v3_document(group, version).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        for r in refs {
            let name = r.strip_prefix("#/components/schemas/").unwrap();
            assert!(schemas.contains_key(name), "{group}/{version}: {name}");
        }
        for name in META {
            assert!(schemas.contains_key(*name), "{group}/{version}: {name}");
        }
    }
}

/// Resolves a property the way kubectl explain does: `$ref` or single `allOf`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let reference = schema["$ref"]
        .as_str()
        .or_else(|| schema["allOf"][0]["$ref"].as_str());
    match reference.and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => &doc["components"]["schemas"][name],
        None => schema,
    }
}

#[test]
fn explain_finds_deployment_strategy_and_patch_metadata() {
    let doc = apps();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let want = json!([{"group": "apps", "kind": "Deployment", "version": "v1"}]);
    let (_, deployment) = schemas
        .iter()
        .find(|(_, s)| s["x-kubernetes-group-version-kind"] == want)
        .unwrap();
    let spec = resolve(&doc, &deployment["properties"]["spec"]);
    let strategy = &spec["properties"]["strategy"];
    assert!(strategy["description"]
        .as_str()
        .unwrap()
        .contains("deployment strategy"));
    assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
    let rolling = resolve(
        &doc,
        &resolve(&doc, strategy)["properties"]["rollingUpdate"],
    );
    let max_surge = &rolling["properties"]["maxSurge"];
    assert!(max_surge["description"]
        .as_str()
        .unwrap()
        .contains("maximum number of pods"));
    let pod_spec = &schemas["io.k8s.api.core.v1.PodSpec"];
    assert_eq!(
        pod_spec["properties"]["containers"]["x-kubernetes-patch-merge-key"],
        "name"
    );
    assert_eq!(
        pod_spec["properties"]["containers"]["x-kubernetes-patch-strategy"],
        "merge"
    );
}
