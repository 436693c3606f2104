//! API discovery: `/api`, `/apis`, group and group/version documents, aggregated discovery v2.

use crate::negotiate::json_response;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use serde_json::{json, Value};
use skiff_api::catalogue::{self, ResourceType, Subresource, GROUPS};

/// Media type of aggregated discovery v2.
const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

fn wants_aggregated(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.split(',').next().is_some_and(|first| {
        let first = first.replace(' ', "");
        first.contains("g=apidiscovery.k8s.io")
            && first.contains("v=v2")
            && first.contains("as=APIGroupDiscoveryList")
    })
}

fn aggregated_response(body: &Value) -> Response {
    let mut resp = json_response(200, body);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(AGGREGATED));
    resp
}

fn subresource_verbs(sr: Subresource) -> &'static [&'static str] {
    match sr {
        Subresource::Status | Subresource::Scale => &["get", "patch", "update"],
        Subresource::Finalize => &["update"],
        Subresource::Binding | Subresource::Eviction | Subresource::Token => &["create"],
        Subresource::Log => &["get"],
        Subresource::Exec | Subresource::Attach | Subresource::PortForward => &["create", "get"],
    }
}

fn subresource_kind(
    rt: &ResourceType,
    sr: Subresource,
) -> (&'static str, &'static str, &'static str) {
    match sr {
        Subresource::Scale => ("autoscaling", "v1", "Scale"),
        Subresource::Binding => ("", "v1", "Binding"),
        Subresource::Eviction => ("policy", "v1", "Eviction"),
        Subresource::Token => ("authentication.k8s.io", "v1", "TokenRequest"),
        Subresource::Exec => ("", "v1", "PodExecOptions"),
        Subresource::Attach => ("", "v1", "PodAttachOptions"),
        Subresource::PortForward => ("", "v1", "PodPortForwardOptions"),
        Subresource::Log => ("", "v1", "Pod"),
        Subresource::Status | Subresource::Finalize => (rt.group, rt.version, rt.kind),
    }
}

fn verbs(rt: &ResourceType) -> &'static [&'static str] {
    match (rt.group, rt.kind) {
        ("", "Namespace") => &[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ],
        _ => rt.verbs(),
    }
}

/// The APIResourceList of one group/version.
pub fn resource_list(group: &str, version: &str) -> Value {
    let mut resources = Vec::new();
    for rt in catalogue::in_group_version(group, version) {
        let mut r = json!({
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": verbs(rt),
        });
        if !rt.short_names.is_empty() {
            r["shortNames"] = json!(rt.short_names);
        }
        if !rt.categories.is_empty() {
            r["categories"] = json!(rt.categories);
        }
        resources.push(r);
        for sr in rt.subresources {
            let (g, v, k) = subresource_kind(rt, *sr);
            let mut s = json!({
                "name": format!("{}/{}", rt.plural, sr.name()),
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": k,
                "verbs": subresource_verbs(*sr),
            });
            if !g.is_empty() || (v, k) != (rt.version, rt.kind) {
                s["group"] = json!(g);
                s["version"] = json!(v);
            }
            resources.push(s);
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({ "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources })
}

fn group_doc(group: &str, version: &str) -> Value {
    let gv = json!({ "groupVersion": format!("{group}/{version}"), "version": version });
    json!({ "kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": [gv], "preferredVersion": gv })
}

fn aggregated_group(group: &str, version: &str) -> Value {
    let resources: Vec<Value> = catalogue::in_group_version(group, version)
        .map(|rt| {
            let mut r = json!({
                "resource": rt.plural,
                "responseKind": { "group": rt.group, "version": rt.version, "kind": rt.kind },
                "scope": if rt.namespaced { "Namespaced" } else { "Cluster" },
                "singularResource": rt.singular,
                "verbs": verbs(rt),
            });
            if !rt.short_names.is_empty() {
                r["shortNames"] = json!(rt.short_names);
            }
            if !rt.categories.is_empty() {
                r["categories"] = json!(rt.categories);
            }
            let subs: Vec<Value> = rt
                .subresources
                .iter()
                .map(|sr| {
                    let (g, v, k) = subresource_kind(rt, *sr);
                    json!({
                        "subresource": sr.name(),
                        "responseKind": { "group": g, "version": v, "kind": k },
                        "verbs": subresource_verbs(*sr),
                    })
                })
                .collect();
            if !subs.is_empty() {
                r["subresources"] = Value::Array(subs);
            }
            r
        })
        .collect();
    let mut meta = json!({ "creationTimestamp": null });
    if !group.is_empty() {
        meta["name"] = json!(group);
    }
    json!({ "metadata": meta, "versions": [{ "version": version, "resources": resources, "freshness": "Current" }] })
}

/// `/api`.
pub fn legacy_root(headers: &HeaderMap, server_address: &str) -> Response {
    if wants_aggregated(headers) {
        return aggregated_response(&json!({
            "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
            "items": [aggregated_group("", "v1")],
        }));
    }
    json_response(
        200,
        &json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": server_address }],
        }),
    )
}

/// `/apis`.
pub fn groups_root(headers: &HeaderMap) -> Response {
    if wants_aggregated(headers) {
        let items: Vec<Value> = GROUPS.iter().map(|(g, v)| aggregated_group(g, v)).collect();
        return aggregated_response(&json!({
            "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items,
        }));
    }
    let groups: Vec<Value> = GROUPS
        .iter()
        .map(|(g, v)| {
            let mut d = group_doc(g, v);
            if let Some(o) = d.as_object_mut() {
                o.remove("kind");
                o.remove("apiVersion");
            }
            d
        })
        .collect();
    json_response(
        200,
        &json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups }),
    )
}

/// `/apis/<group>`, if served.
pub fn group(name: &str) -> Option<Response> {
    GROUPS
        .iter()
        .find(|(g, _)| *g == name)
        .map(|(g, v)| json_response(200, &group_doc(g, v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_v1_lists_deployments_with_scale_and_status() {
        let l = resource_list("apps", "v1");
        let names: Vec<&str> = l["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"deployments"));
        assert!(names.contains(&"deployments/scale"));
        assert!(names.contains(&"deployments/status"));
        let scale = l["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "deployments/scale")
            .unwrap();
        assert_eq!(scale["group"], "autoscaling");
        assert_eq!(scale["kind"], "Scale");
    }

    #[test]
    fn aggregated_discovery_is_chosen_by_the_first_accept_alternative() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"));
        assert!(wants_aggregated(&h));
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!wants_aggregated(&h));
    }
}
