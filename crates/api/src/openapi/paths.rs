//! The REST paths of each served resource, named and described as upstream does.

use super::operation::{Answer, Body, Names, Operation, PathItem, ACCEPTED, CREATED, OK};
use super::params::{self, name_param, namespace_param, Param};
use super::subresources::subresource_path;
use crate::catalogue::ResourceType;
use crate::schema::{definition_name, list_definition_name};

const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
/// The definition of `/scale` bodies.
pub(super) const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";
const API_RESOURCE_LIST: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList";

/// The URL prefix of a group/version (`/api/v1`, `/apis/apps/v1`).
pub(super) fn prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// The group as upstream spells it in tags (`core`, `apps`, `rbacAuthorization`).
pub(super) fn tag_group(group: &str) -> String {
    let trimmed = group.trim_end_matches(".k8s.io");
    if trimmed.is_empty() {
        return "core".into();
    }
    let mut out = String::new();
    for (i, part) in trimmed.split('.').enumerate() {
        if i == 0 {
            out.push_str(part);
        } else {
            out.push_str(&upper_first(part));
        }
    }
    out
}

fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The `APIResourceList` path of a group/version (`/apis/apps/v1/`).
pub(super) fn resources_path(group: &str, version: &str) -> PathItem {
    let gv = format!("{}{}", upper_first(&tag_group(group)), upper_first(version));
    PathItem {
        path: format!("{}/", prefix(group, version)),
        params: Vec::new(),
        ops: vec![Operation {
            method: "get",
            id: format!("get{gv}APIResources"),
            description: "get available resources".into(),
            action: "",
            gvk: None,
            params: Vec::new(),
            body: Body::None,
            responses: vec![("200", "OK"), ("401", "Unauthorized")],
            answer: Answer::Object(API_RESOURCE_LIST.into()),
        }],
    }
}

/// Every path of one resource: collection, object, subresources and the all-namespaces list.
pub(super) fn resource_paths(rt: &ResourceType) -> Vec<PathItem> {
    let n = Names {
        rt,
        gv: format!(
            "{}{}",
            upper_first(&tag_group(rt.group)),
            upper_first(rt.version)
        ),
        scope: if rt.namespaced { "Namespaced" } else { "" },
    };
    let kind = rt.kind;
    let def = definition_name(rt);
    let base = prefix(rt.group, rt.version);
    let collection = if rt.namespaced {
        format!("{base}/namespaces/{{namespace}}/{}", rt.plural)
    } else {
        format!("{base}/{}", rt.plural)
    };
    let scope_params: Vec<Param> = rt.namespaced.then(namespace_param).into_iter().collect();
    let object_params: Vec<Param> = std::iter::once(name_param(kind))
        .chain(scope_params.iter().cloned())
        .collect();
    let created = Answer::Object(def.clone());
    let create = n
        .op("post", "create", "")
        .with("post", format!("create a {kind}"), params::WRITE)
        .body(Body::Object(def.clone()))
        .answers(created.clone(), &[OK, CREATED, ACCEPTED]);
    if rt.create_only() {
        return vec![PathItem {
            path: collection,
            params: scope_params,
            ops: vec![create],
        }];
    }

    let mut paths = vec![PathItem {
        path: collection.clone(),
        params: scope_params.clone(),
        ops: vec![
            n.op("get", "list", "")
                .with(
                    "list",
                    format!("list or watch objects of kind {kind}"),
                    params::LIST,
                )
                .answers(Answer::Object(list_definition_name(rt)), &[OK]),
            create,
            n.op_with_id(
                "delete",
                format!("delete{}Collection{}{kind}", n.gv, n.scope),
            )
            .with(
                "deletecollection",
                format!("delete collection of {kind}"),
                params::DELETE_COLLECTION,
            )
            .body(Body::Object(DELETE_OPTIONS.into()))
            .answers(Answer::Object(STATUS.into()), &[OK]),
        ],
    }];
    paths.push(PathItem {
        path: format!("{collection}/{{name}}"),
        params: object_params.clone(),
        ops: object_ops(&n, "", "", Answer::Object(def.clone()), true),
    });
    for sr in rt.subresources {
        if let Some(item) = subresource_path(&n, *sr, &collection, &object_params) {
            paths.push(item);
        }
    }
    if rt.namespaced {
        let all = n.op_with_id("get", format!("list{}{kind}ForAllNamespaces", n.gv));
        paths.push(PathItem {
            path: format!("{base}/{}", rt.plural),
            params: Vec::new(),
            ops: vec![all
                .with(
                    "list",
                    format!("list or watch objects of kind {kind}"),
                    params::LIST,
                )
                .answers(Answer::Object(list_definition_name(rt)), &[OK])],
        });
    }
    paths
}

/// get/put/patch (and delete on the object itself) of an object or a subresource.
pub(super) fn object_ops(
    n: &Names,
    suffix: &str,
    of: &str,
    answer: Answer,
    delete: bool,
) -> Vec<Operation> {
    let kind = n.rt.kind;
    let body = match &answer {
        Answer::Object(def) => Body::Object(def.clone()),
        Answer::Text => Body::None,
    };
    let mut ops = vec![
        n.op("get", "read", suffix)
            .with(
                "get",
                format!("read {of}the specified {kind}"),
                params::READ,
            )
            .answers(answer.clone(), &[OK]),
        n.op("put", "replace", suffix)
            .with(
                "put",
                format!("replace {of}the specified {kind}"),
                params::WRITE,
            )
            .body(body)
            .answers(answer.clone(), &[OK, CREATED]),
        n.op("patch", "patch", suffix)
            .with(
                "patch",
                format!("partially update {of}the specified {kind}"),
                params::PATCH,
            )
            .body(Body::Patch)
            .answers(answer, &[OK, CREATED]),
    ];
    if delete {
        ops.push(
            n.op("delete", "delete", suffix)
                .with("delete", format!("delete a {kind}"), params::DELETE)
                .body(Body::Object(DELETE_OPTIONS.into()))
                .answers(Answer::Object(STATUS.into()), &[OK, ACCEPTED]),
        );
    }
    ops
}
