//! The REST operations of each served resource, named and described as upstream does.

use super::params::{self, name_param, namespace_param, query_params, Param};
use crate::catalogue::{ResourceType, Subresource};
use crate::schema::{definition_name, list_definition_name};

const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";
const API_RESOURCE_LIST: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList";

/// A group/version/kind named by an operation.
#[derive(Debug, Clone, Copy)]
pub(super) struct Gvk {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
}

/// What an operation accepts as its body.
#[derive(Debug, Clone)]
pub(super) enum Body {
    None,
    Object(String),
    Patch,
}

/// What an operation answers with.
#[derive(Debug, Clone)]
pub(super) enum Answer {
    Object(String),
    Text,
}

/// One operation on a path.
#[derive(Debug, Clone)]
pub(super) struct Operation {
    pub method: &'static str,
    pub id: String,
    pub description: String,
    pub action: &'static str,
    pub gvk: Option<Gvk>,
    pub params: Vec<Param>,
    pub body: Body,
    pub responses: Vec<(&'static str, &'static str)>,
    pub answer: Answer,
}

/// A path with its path-level parameters and operations.
#[derive(Debug, Clone)]
pub(super) struct PathItem {
    pub path: String,
    pub params: Vec<Param>,
    pub ops: Vec<Operation>,
}

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

/// Builds the operations of one resource.
struct Names<'a> {
    rt: &'a ResourceType,
    gv: String,
    scope: &'static str,
}

impl Names<'_> {
    fn op(&self, method: &'static str, verb: &str, suffix: &str) -> Operation {
        let id = format!("{verb}{}{}{}{suffix}", self.gv, self.scope, self.rt.kind);
        self.op_with_id(method, id)
    }

    fn op_with_id(&self, method: &'static str, id: String) -> Operation {
        Operation {
            method,
            id,
            description: String::new(),
            action: "",
            gvk: Some(Gvk {
                group: self.rt.group,
                version: self.rt.version,
                kind: self.rt.kind,
            }),
            params: Vec::new(),
            body: Body::None,
            responses: vec![("200", "OK"), ("401", "Unauthorized")],
            answer: Answer::Object(definition_name(self.rt)),
        }
    }
}

impl Operation {
    fn with(mut self, action: &'static str, description: String, params: &[&'static str]) -> Self {
        self.action = action;
        self.description = description;
        self.params = query_params(params);
        self
    }

    fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    fn answers(mut self, answer: Answer, codes: &[(&'static str, &'static str)]) -> Self {
        self.answer = answer;
        self.responses = codes.to_vec();
        self.responses.push(("401", "Unauthorized"));
        self
    }

    fn kind(mut self, group: &'static str, version: &'static str, kind: &'static str) -> Self {
        self.gvk = Some(Gvk { group, version, kind });
        self
    }
}

const OK: (&str, &str) = ("200", "OK");
const CREATED: (&str, &str) = ("201", "Created");
const ACCEPTED: (&str, &str) = ("202", "Accepted");

/// Every path of one resource: collection, object, subresources and the all-namespaces list.
pub(super) fn resource_paths(rt: &ResourceType) -> Vec<PathItem> {
    let n = Names {
        rt,
        gv: format!("{}{}", upper_first(&tag_group(rt.group)), upper_first(rt.version)),
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
    if rt.group.is_empty() && kind == "Binding" {
        return vec![PathItem { path: collection, params: scope_params, ops: vec![create] }];
    }

    let mut paths = vec![PathItem {
        path: collection.clone(),
        params: scope_params.clone(),
        ops: vec![
            n.op("get", "list", "")
                .with("list", format!("list or watch objects of kind {kind}"), params::LIST)
                .answers(Answer::Object(list_definition_name(rt)), &[OK]),
            create,
            n.op_with_id("delete", format!("delete{}Collection{}{kind}", n.gv, n.scope))
                .with("deletecollection", format!("delete collection of {kind}"), params::DELETE_COLLECTION)
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
                .with("list", format!("list or watch objects of kind {kind}"), params::LIST)
                .answers(Answer::Object(list_definition_name(rt)), &[OK])],
        });
    }
    paths
}

/// get/put/patch (and delete on the object itself) of an object or a subresource.
fn object_ops(n: &Names, suffix: &str, of: &str, answer: Answer, delete: bool) -> Vec<Operation> {
    let kind = n.rt.kind;
    let body = match &answer {
        Answer::Object(def) => Body::Object(def.clone()),
        Answer::Text => Body::None,
    };
    let mut ops = vec![
        n.op("get", "read", suffix)
            .with("get", format!("read {of}the specified {kind}"), params::READ)
            .answers(answer.clone(), &[OK]),
        n.op("put", "replace", suffix)
            .with("put", format!("replace {of}the specified {kind}"), params::WRITE)
            .body(body)
            .answers(answer.clone(), &[OK, CREATED]),
        n.op("patch", "patch", suffix)
            .with("patch", format!("partially update {of}the specified {kind}"), params::PATCH)
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

fn subresource_path(n: &Names, sr: Subresource, collection: &str, object_params: &[Param]) -> Option<PathItem> {
    let kind = n.rt.kind;
    let post = |suffix: &str, group, version, sub_kind, def: &str| {
        n.op("post", "create", suffix)
            .with("post", format!("create {} of a {kind}", sr.name()), params::WRITE)
            .kind(group, version, sub_kind)
            .body(Body::Object(def.into()))
            .answers(Answer::Object(def.into()), &[OK, CREATED, ACCEPTED])
    };
    let connect = |suffix: &str, p: &[&'static str]| {
        ["get", "post"].map(|method| {
            let verb = if method == "get" { "connectGet" } else { "connectPost" };
            let mut op = n
                .op(method, verb, suffix)
                .with("connect", format!("connect {} requests to {} of {kind}", method.to_uppercase(), sr.name()), p)
                .answers(Answer::Text, &[OK]);
            op.gvk = None;
            op
        })
    };
    let ops = match sr {
        Subresource::Status => object_ops(n, "Status", "status of ", Answer::Object(definition_name(n.rt)), false),
        Subresource::Scale => object_ops(n, "Scale", "scale of ", Answer::Object(SCALE.into()), false)
            .into_iter()
            .map(|op| op.kind("autoscaling", "v1", "Scale"))
            .collect(),
        Subresource::Binding => vec![post("Binding", "", "v1", "Binding", "io.k8s.api.core.v1.Binding")],
        Subresource::Eviction => vec![post("Eviction", "policy", "v1", "Eviction", "io.k8s.api.policy.v1.Eviction")],
        Subresource::Token => vec![post(
            "Token",
            "authentication.k8s.io",
            "v1",
            "TokenRequest",
            "io.k8s.api.authentication.v1.TokenRequest",
        )],
        Subresource::Finalize => {
            let def = definition_name(n.rt);
            vec![n
                .op("put", "replace", "Finalize")
                .with("put", format!("replace finalize of the specified {kind}"), params::WRITE)
                .body(Body::Object(def.clone()))
                .answers(Answer::Object(def), &[OK, CREATED])]
        }
        Subresource::Log => {
            let mut op = n
                .op("get", "read", "Log")
                .with("get", format!("read log of the specified {kind}"), params::LOG)
                .answers(Answer::Text, &[OK]);
            op.gvk = None;
            vec![op]
        }
        Subresource::Exec => connect("Exec", params::EXEC).to_vec(),
        Subresource::Attach => connect("Attach", params::ATTACH).to_vec(),
        Subresource::PortForward => connect("Portforward", params::PORT_FORWARD).to_vec(),
    };
    Some(PathItem {
        path: format!("{collection}/{{name}}/{}", sr.name()),
        params: object_params.to_vec(),
        ops,
    })
}
