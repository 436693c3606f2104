use super::*;

mod kubectl;

pub(super) fn apps() -> Value {
    v3_document("apps", "v1").unwrap()
}

#[test]
fn index_lists_every_group_version_with_a_stable_hash() {
    let index = v3_index();
    let paths = index["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 1 + GROUPS.len());
    let core = paths["api/v1"]["serverRelativeURL"].as_str().unwrap();
    let hash = core.strip_prefix("/openapi/v3/api/v1?hash=").unwrap();
    assert!(
        hash.len() >= 32
            && hash
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    );
    assert_eq!(Some(hash), v3_document_hash("", "v1"));
    assert_eq!(digest(v3_document_bytes("", "v1").unwrap()), hash);
    assert!(paths["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .starts_with("/openapi/v3/apis/apps/v1?hash="));
    assert_eq!(v3_index(), index);
}

#[test]
fn unserved_group_versions_have_no_document() {
    assert!(v3_document("apps", "v1beta1").is_none());
    assert!(v3_document("example.com", "v1").is_none());
    assert!(v3_document_bytes("", "v2").is_none());
}

#[test]
fn deployment_paths_match_upstream() {
    let doc = apps();
    assert_eq!(doc["openapi"], "3.0.0");
    assert_eq!(
        doc["info"],
        json!({"title": "Kubernetes", "version": "v1.33.0"})
    );
    let paths = &doc["paths"];
    let collection = &paths["/apis/apps/v1/namespaces/{namespace}/deployments"];
    assert_eq!(
        collection["get"]["operationId"],
        "listAppsV1NamespacedDeployment"
    );
    assert_eq!(collection["get"]["x-kubernetes-action"], "list");
    assert_eq!(collection["post"]["x-kubernetes-action"], "post");
    assert_eq!(
        collection["delete"]["operationId"],
        "deleteAppsV1CollectionNamespacedDeployment"
    );
    assert_eq!(
        collection["delete"]["x-kubernetes-action"],
        "deletecollection"
    );
    assert_eq!(collection["parameters"][0]["name"], "namespace");
    let list_schema =
        &collection["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(
        list_schema["$ref"],
        "#/components/schemas/io.k8s.api.apps.v1.DeploymentList"
    );

    let object = &paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
    for (method, action) in [
        ("get", "get"),
        ("put", "put"),
        ("patch", "patch"),
        ("delete", "delete"),
    ] {
        assert_eq!(object[method]["x-kubernetes-action"], action);
        assert_eq!(
            object[method]["x-kubernetes-group-version-kind"],
            json!({"group": "apps", "kind": "Deployment", "version": "v1"})
        );
    }
    assert_eq!(
        object["patch"]["operationId"],
        "patchAppsV1NamespacedDeployment"
    );
    let patch_body = object["patch"]["requestBody"]["content"]
        .as_object()
        .unwrap();
    for t in [
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
    ] {
        assert_eq!(
            patch_body[t]["schema"]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
        );
    }
    let put_body = &object["put"]["requestBody"]["content"]["*/*"]["schema"]["$ref"];
    assert_eq!(
        put_body,
        "#/components/schemas/io.k8s.api.apps.v1.Deployment"
    );
    let names: Vec<&str> = object["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["name", "namespace"]);
    let query: Vec<&str> = object["patch"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        query,
        [
            "dryRun",
            "fieldManager",
            "fieldValidation",
            "force",
            "pretty"
        ]
    );

    let status = &paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status"];
    assert_eq!(
        status["patch"]["operationId"],
        "patchAppsV1NamespacedDeploymentStatus"
    );
    let scale = &paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"];
    assert_eq!(
        scale["put"]["x-kubernetes-group-version-kind"]["kind"],
        "Scale"
    );
    let all = &paths["/apis/apps/v1/deployments"]["get"];
    assert_eq!(all["operationId"], "listAppsV1DeploymentForAllNamespaces");
}

#[test]
fn cluster_scoped_and_core_paths() {
    let doc = v3_document("", "v1").unwrap();
    let ns = &doc["paths"]["/api/v1/namespaces/{name}"];
    assert_eq!(ns["get"]["operationId"], "readCoreV1Namespace");
    assert_eq!(ns["parameters"].as_array().unwrap().len(), 1);
    assert!(doc["paths"]["/api/v1/namespaces/{name}/finalize"]["put"].is_object());
    assert!(doc["paths"]["/api/v1/namespaces/{namespace}/bindings"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/log"]["get"].is_object());
    let rbac = v3_document("rbac.authorization.k8s.io", "v1").unwrap();
    let roles = &rbac["paths"]["/apis/rbac.authorization.k8s.io/v1/clusterroles"]["get"];
    assert_eq!(roles["operationId"], "listRbacAuthorizationV1ClusterRole");
    assert_eq!(roles["tags"], json!(["rbacAuthorization_v1"]));
}

#[test]
fn v2_document_uses_definitions() {
    let doc = v2_document();
    assert_eq!(doc["swagger"], "2.0");
    let defs = doc["definitions"].as_object().unwrap();
    assert!(defs.contains_key("io.k8s.api.apps.v1.Deployment"));
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for r in &refs {
        let name = r
            .strip_prefix("#/definitions/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(defs.contains_key(name), "{name}");
    }
    let spec = &defs["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"];
    assert_eq!(
        spec["$ref"],
        "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"
    );
    let patch = &doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
    assert_eq!(patch["parameters"][0]["in"], "body");
    assert!(patch["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "fieldValidation"));
    assert_eq!(
        defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["type"],
        "string"
    );
}

#[test]
fn document_build_time_and_size() {
    let start = std::time::Instant::now();
    let docs: Vec<Vec<u8>> = group_versions()
        .map(|(g, v)| serde_json::to_vec(&build_v3(g, v)).unwrap())
        .collect();
    let v3_time = start.elapsed();
    let start = std::time::Instant::now();
    let v2 = serde_json::to_vec(&build_v2()).unwrap();
    let v2_time = start.elapsed();
    let v3_bytes: usize = docs.iter().map(Vec::len).sum();
    eprintln!(
        "openapi: v3 {} docs {v3_bytes} bytes in {v3_time:?}; v2 {} bytes in {v2_time:?}",
        docs.len(),
        v2.len()
    );
    assert!(v3_bytes > 0 && !v2.is_empty());
    drop((docs, v2));
    let took = warm();
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS"))
                .map(str::to_string)
        });
    eprintln!("openapi: warm() {took:?}; process {rss:?}");
}

pub(super) fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                out.push(r.to_string());
            }
            m.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
