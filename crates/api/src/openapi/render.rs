//! Rendering operations and schemas as OpenAPI v3 and Swagger 2.0 JSON.

use super::operation::{Answer, Body, Operation, PathItem};
use super::params::{In, Param};
use crate::schema::{self, ref_name, REF_PREFIX};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

const PATCH_TYPES: [&str; 4] = [
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const PRODUCES: [&str; 2] = ["application/json", "application/yaml"];

/// Which OpenAPI dialect to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    V3,
    V2,
}

impl Dialect {
    fn reference(self, definition: &str) -> Value {
        match self {
            Dialect::V3 => json!({ "$ref": format!("{REF_PREFIX}{definition}") }),
            Dialect::V2 => json!({ "$ref": format!("#/definitions/{definition}") }),
        }
    }
}

fn param(p: &Param, dialect: Dialect) -> Value {
    let mut out = Map::new();
    out.insert("description".into(), p.description.clone().into());
    let location = match p.location {
        In::Path => "path",
        In::Query => "query",
    };
    out.insert("in".into(), location.into());
    out.insert("name".into(), p.name.into());
    if p.location == In::Path {
        out.insert("required".into(), true.into());
    }
    match dialect {
        Dialect::V3 => {
            out.insert(
                "schema".into(),
                json!({"type": p.kind.as_str(), "uniqueItems": true}),
            );
        }
        Dialect::V2 => {
            out.insert("type".into(), p.kind.as_str().into());
            out.insert("uniqueItems".into(), true.into());
        }
    }
    Value::Object(out)
}

fn answer_schema(answer: &Answer, dialect: Dialect) -> Value {
    match answer {
        Answer::Object(def) => dialect.reference(def),
        Answer::Text => json!({"type": "string"}),
    }
}

fn operation(op: &Operation, tag: &str, dialect: Dialect) -> Value {
    let mut out = Map::new();
    let mut params: Vec<Value> = op.params.iter().map(|p| param(p, dialect)).collect();
    let body_schema = match &op.body {
        Body::None => None,
        Body::Object(def) => Some(dialect.reference(def)),
        Body::Patch => Some(dialect.reference(PATCH)),
    };
    if dialect == Dialect::V2 {
        let consumes: Vec<&str> = match op.body {
            Body::Patch => PATCH_TYPES.to_vec(),
            _ => vec!["*/*"],
        };
        out.insert("consumes".into(), json!(consumes));
        if let Some(schema) = &body_schema {
            params.insert(
                0,
                json!({"in": "body", "name": "body", "required": true, "schema": schema}),
            );
        }
    }
    out.insert("description".into(), op.description.clone().into());
    out.insert("operationId".into(), op.id.clone().into());
    if !params.is_empty() {
        out.insert("parameters".into(), Value::Array(params));
    }
    if let (Dialect::V3, Some(schema)) = (dialect, &body_schema) {
        let content: Map<String, Value> = match op.body {
            Body::Patch => PATCH_TYPES
                .iter()
                .map(|t| (t.to_string(), json!({ "schema": schema })))
                .collect(),
            _ => [("*/*".to_string(), json!({ "schema": schema }))]
                .into_iter()
                .collect(),
        };
        out.insert(
            "requestBody".into(),
            json!({"content": content, "required": true}),
        );
    }
    if dialect == Dialect::V2 {
        let produces: Vec<&str> = match op.answer {
            Answer::Text => vec!["text/plain", "application/json"],
            Answer::Object(_) => PRODUCES.to_vec(),
        };
        out.insert("produces".into(), json!(produces));
    }
    let schema = answer_schema(&op.answer, dialect);
    let responses: Map<String, Value> = op
        .responses
        .iter()
        .map(|(code, description)| {
            let response = match (*code, dialect) {
                ("401", _) => json!({ "description": description }),
                (_, Dialect::V3) => {
                    let content: Map<String, Value> = match op.answer {
                        Answer::Text => [("*/*".to_string(), json!({ "schema": schema }))]
                            .into_iter()
                            .collect(),
                        Answer::Object(_) => PRODUCES
                            .iter()
                            .map(|t| (t.to_string(), json!({ "schema": schema })))
                            .collect(),
                    };
                    json!({"content": content, "description": description})
                }
                (_, Dialect::V2) => json!({"description": description, "schema": schema}),
            };
            (code.to_string(), response)
        })
        .collect();
    out.insert("responses".into(), Value::Object(responses));
    if dialect == Dialect::V2 {
        out.insert("schemes".into(), json!(["https"]));
    }
    out.insert("tags".into(), json!([tag]));
    if !op.action.is_empty() {
        out.insert("x-kubernetes-action".into(), op.action.into());
    }
    if let Some(gvk) = op.gvk {
        out.insert(
            "x-kubernetes-group-version-kind".into(),
            json!({"group": gvk.group, "kind": gvk.kind, "version": gvk.version}),
        );
    }
    Value::Object(out)
}

/// A path item: its operations and path-level parameters.
pub(super) fn path_item(item: &PathItem, tag: &str, dialect: Dialect) -> Value {
    let mut out = Map::new();
    for op in &item.ops {
        out.insert(op.method.into(), operation(op, tag, dialect));
    }
    if !item.params.is_empty() {
        let params = item.params.iter().map(|p| param(p, dialect)).collect();
        out.insert("parameters".into(), Value::Array(params));
    }
    Value::Object(out)
}

/// Collects the definition names referenced anywhere in a value.
fn collect_refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map.get("$ref").and_then(Value::as_str).and_then(ref_name) {
                found.push(name.to_string());
            }
            map.values().for_each(|v| collect_refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, found)),
        _ => {}
    }
}

/// The names of the definitions `roots` reference, transitively, plus `extra`.
pub(super) fn referenced_definitions(roots: &Value, extra: &[&str]) -> BTreeSet<String> {
    let mut pending = Vec::new();
    collect_refs(roots, &mut pending);
    pending.extend(extra.iter().map(|s| s.to_string()));
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if seen.contains(&name) {
            continue;
        }
        if let Some(def) = schema::definition(&name) {
            collect_refs(def, &mut pending);
            seen.insert(name);
        }
    }
    seen
}

/// A registry definition rewritten for Swagger 2.0 (`#/definitions/` refs, no `oneOf`).
pub(super) fn v2_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            let single_ref = map
                .get("allOf")
                .and_then(Value::as_array)
                .filter(|all| all.len() == 1)
                .and_then(|all| all[0].get("$ref"))
                .and_then(Value::as_str);
            for (key, value) in map {
                match key.as_str() {
                    "allOf" if single_ref.is_some() => {}
                    "oneOf" => {
                        out.insert("type".into(), "string".into());
                    }
                    "$ref" => {
                        out.insert(key.clone(), v2_ref(value));
                    }
                    _ => {
                        out.insert(key.clone(), v2_schema(value));
                    }
                }
            }
            if let Some(reference) = single_ref {
                out.insert("$ref".into(), v2_ref(&Value::from(reference)));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(v2_schema).collect()),
        other => other.clone(),
    }
}

fn v2_ref(reference: &Value) -> Value {
    match reference.as_str().and_then(ref_name) {
        Some(name) => format!("#/definitions/{name}").into(),
        None => reference.clone(),
    }
}
