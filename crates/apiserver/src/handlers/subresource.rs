//! Subresources with their own shapes: `/scale`, `pods/binding`, `pods/eviction`, `namespaces/finalize`.

use super::delete::{delete_one, DeleteOptions};
use super::write::{update, Change, Part};
use super::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::negotiate::json_response;
use crate::registry::Cas;
use axum::response::Response;
use serde_json::{json, Value};
use skiff_api::selectors::{is_dns1123_subdomain, is_qualified_name, LabelSelector};
use skiff_api::FieldError;

/// The `autoscaling/v1` Scale view of a scalable object.
fn scale_of(obj: &Value) -> Value {
    let meta = &obj["metadata"];
    let selector = obj
        .pointer("/spec/selector")
        .map(|s| {
            if obj.get("kind").and_then(Value::as_str) == Some("ReplicationController") {
                let labels: Vec<String> = s
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                            .collect()
                    })
                    .unwrap_or_default();
                labels.join(",")
            } else {
                LabelSelector::from_label_selector(s)
                    .map(|l| l.to_string())
                    .unwrap_or_default()
            }
        })
        .unwrap_or_default();
    let mut m = json!({});
    for f in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = meta.get(f) {
            m[f] = v.clone();
        }
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": m,
        "spec": { "replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(0)) },
        "status": {
            "replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        },
    })
}

/// GET of `/scale`.
pub async fn get_scale(ctx: &Ctx, name: &str) -> ApiResult<Response> {
    let (obj, _) = ctx
        .api
        .registry
        .get(ctx.target.rt, ctx.target.namespace.as_deref(), name)
        .await?;
    Ok(json_response(200, &scale_of(&obj)))
}

/// PUT or PATCH of `/scale`: changes only `spec.replicas`.
pub async fn write_scale(
    ctx: &Ctx,
    name: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> ApiResult<Response> {
    let rt = ctx.target.rt;
    let (obj, _) = ctx
        .api
        .registry
        .get(rt, ctx.target.namespace.as_deref(), name)
        .await?;
    let current = scale_of(&obj);
    // a resourceVersion is a precondition only when the client wrote one
    let mut client_rv = true;
    let scale = match content_type {
        None => crate::negotiate::decode_body(Some("application/json"), body)?,
        Some(ct) => {
            let patch = super::patch::decode_patch(ct, body)?;
            client_rv = match &patch {
                Value::Array(ops) => ops.iter().any(|op| {
                    op.get("path").and_then(Value::as_str) == Some("/metadata/resourceVersion")
                }),
                p => p.pointer("/metadata/resourceVersion").is_some(),
            };
            match ct {
                "application/json-patch+json" => {
                    super::patch::apply_patch(rt, ct, &current, &patch)?
                }
                _ => {
                    let mut doc = current.clone();
                    json_patch::merge(&mut doc, &patch);
                    doc
                }
            }
        }
    };
    let replicas = scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if replicas < 0 {
        let err = skiff_api::FieldError::invalid(
            "spec.replicas",
            json!(replicas),
            "must be greater than or equal to 0",
        );
        return Err(ApiError::new(
            422,
            "Invalid",
            format!("Scale.autoscaling {name:?} is invalid: {err}"),
        ));
    }
    let rv = scale
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|s| client_rv && !s.is_empty());
    let mut patch = json!({ "spec": { "replicas": replicas } });
    if let Some(rv) = rv {
        patch["metadata"] = json!({ "resourceVersion": rv });
    }
    let up = update(
        ctx,
        name,
        Change::Patch("application/merge-patch+json", &patch),
        Part::Main,
    )
    .await?;
    Ok(json_response(200, &scale_of(&up.obj)))
}

/// Field errors of a Binding body: a valid target node name, string annotations.
fn validate_binding(body: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match body.pointer("/target/name").and_then(Value::as_str) {
        None | Some("") => errs.push(FieldError::required("target.name", "")),
        Some(node) => {
            for msg in is_dns1123_subdomain(node) {
                errs.push(FieldError::invalid("target.name", json!(node), msg));
            }
        }
    }
    if let Some(ann) = body.pointer("/metadata/annotations") {
        let strings = ann
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_string));
        if !strings && !ann.is_null() {
            errs.push(FieldError::invalid(
                "metadata.annotations",
                ann.clone(),
                "must be a map of strings",
            ));
        }
    }
    errs
}

/// POST of a Binding: assigns an unbound pod to a node, exactly once.
pub async fn bind(ctx: &Ctx, name: &str, body: &Value) -> ApiResult<Response> {
    let rt = ctx.target.rt;
    let ns = ctx.target.namespace.as_deref();
    let errs = validate_binding(body);
    if !errs.is_empty() {
        return Err(ApiError::new(
            422,
            "Invalid",
            skiff_api::field_error::invalid_message("Binding", name, &errs),
        ));
    }
    let node = body
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let reg = &ctx.api.registry;
    loop {
        let (mut pod, rev) = reg.get(rt, ns, name).await?;
        if let Some(current) = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            let why = format!("pod {name} is already assigned to node {current:?}");
            return Err(ApiError::conflict_because(rt, name, &why));
        }
        if pod
            .pointer("/metadata/deletionTimestamp")
            .is_some_and(|v| !v.is_null())
        {
            let why = format!("pod {name} is being deleted, cannot be assigned to a host");
            return Err(ApiError::conflict_because(rt, name, &why));
        }
        bind_to(&mut pod, node, body.pointer("/metadata/annotations"));
        if let Cas::Done(_) = reg.update_at(rt, ns, name, pod, rev).await? {
            break;
        }
    }
    Ok(json_response(
        201,
        &json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201 }),
    ))
}

/// Sets the pod's node, its PodScheduled condition and the binding's annotations.
fn bind_to(pod: &mut Value, node: &str, annotations: Option<&Value>) {
    for part in ["spec", "metadata"] {
        if !pod[part].is_object() {
            pod[part] = json!({});
        }
    }
    pod["spec"]["nodeName"] = json!(node);
    if let Some(Value::Object(ann)) = annotations {
        let meta = &mut pod["metadata"];
        if !meta["annotations"].is_object() {
            meta["annotations"] = json!({});
        }
        for (k, v) in ann {
            meta["annotations"][k] = v.clone();
        }
    }
    if !pod["status"].is_object() {
        pod["status"] = json!({});
    }
    let mut conditions: Vec<Value> = pod["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    conditions.retain(|c| c.get("type").and_then(Value::as_str) != Some("PodScheduled"));
    conditions.push(json!({ "type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": crate::meta::now() }));
    pod["status"]["conditions"] = Value::Array(conditions);
}

/// POST of an Eviction: deletes the pod (disruption budgets are checked by the policy layer).
pub async fn evict(ctx: &Ctx, name: &str, body: &Value) -> ApiResult<Response> {
    let opts_body = body
        .get("deleteOptions")
        .map(|d| serde_json::to_vec(d).unwrap_or_default())
        .unwrap_or_default();
    let opts = DeleteOptions::parse(ctx, &opts_body)?;
    crate::admission::admit_eviction(ctx, name).await?;
    delete_one(ctx, name, &opts).await?;
    Ok(json_response(
        201,
        &json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201 }),
    ))
}

/// PUT of `namespaces/<name>/finalize`: replaces `spec.finalizers`.
pub async fn finalize(ctx: &Ctx, name: &str, body: &Value) -> ApiResult<Response> {
    let finalizers = body
        .pointer("/spec/finalizers")
        .cloned()
        .unwrap_or(json!([]));
    let errs: Vec<FieldError> = match finalizers.as_array() {
        None => vec![FieldError::invalid(
            "spec.finalizers",
            finalizers.clone(),
            "must be a list of names",
        )],
        Some(list) => list
            .iter()
            .enumerate()
            .flat_map(|(i, f)| {
                let field = format!("spec.finalizers[{i}]");
                match f.as_str() {
                    Some(s) => is_qualified_name(s)
                        .into_iter()
                        .map(|m| FieldError::invalid(field.clone(), f.clone(), m))
                        .collect(),
                    None => vec![FieldError::invalid(field, f.clone(), "must be a string")],
                }
            })
            .collect(),
    };
    if !errs.is_empty() {
        return Err(ApiError::invalid(ctx.target.rt, name, &errs));
    }
    let patch = json!({ "spec": { "finalizers": finalizers } });
    let up = update(
        ctx,
        name,
        Change::Patch("application/merge-patch+json", &patch),
        Part::Unchecked,
    )
    .await?;
    Ok(json_response(200, &up.obj))
}
