//! Subresources with their own shapes: `/scale`, `pods/binding`, `pods/eviction`, `namespaces/finalize`.

use super::delete::{delete_one, DeleteOptions};
use super::write::{self, update, Change, Part};
use super::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::negotiate::json_response;
use axum::response::Response;
use serde_json::{json, Value};
use skiff_api::selectors::LabelSelector;

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
    let scale = match content_type {
        None => crate::negotiate::decode_body(Some("application/json"), body)?,
        Some(ct) => {
            let patch = write::decode_patch(ct, body)?;
            match ct {
                "application/json-patch+json" => write::apply_patch(rt, ct, &current, &patch)?,
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
        .filter(|s| !s.is_empty());
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

/// POST of a Binding: assigns an unbound pod to a node.
pub async fn bind(ctx: &Ctx, name: &str, body: &Value) -> ApiResult<Response> {
    let node = body
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if node.is_empty() {
        return Err(ApiError::new(
            422,
            "Invalid",
            format!("Binding {name:?} is invalid: target.name: Required value"),
        ));
    }
    let (pod, _) = ctx
        .api
        .registry
        .get(ctx.target.rt, ctx.target.namespace.as_deref(), name)
        .await?;
    if let Some(current) = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        return Err(ApiError::conflict_because(
            ctx.target.rt,
            name,
            &format!("pod {name} is already assigned to node {current:?}"),
        ));
    }
    if pod
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        return Err(ApiError::conflict_because(
            ctx.target.rt,
            name,
            &format!("pod {name} is being deleted, cannot be assigned to a host"),
        ));
    }
    let mut conditions: Vec<Value> = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    conditions.retain(|c| c.get("type").and_then(Value::as_str) != Some("PodScheduled"));
    conditions.push(json!({ "type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": crate::meta::now() }));
    let mut patch = json!({ "spec": { "nodeName": node }, "status": { "conditions": conditions } });
    if let Some(ann) = body.pointer("/metadata/annotations") {
        patch["metadata"] = json!({ "annotations": ann });
    }
    // spec.nodeName is immutable through ordinary updates; binding is a system write
    update(
        ctx,
        name,
        Change::Patch("application/strategic-merge-patch+json", &patch),
        Part::Unchecked,
    )
    .await?;
    Ok(json_response(
        201,
        &json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201 }),
    ))
}

/// POST of an Eviction: deletes the pod (disruption budgets are checked by the policy layer).
pub async fn evict(ctx: &Ctx, name: &str, body: &Value) -> ApiResult<Response> {
    let opts_body = body
        .get("deleteOptions")
        .map(|d| serde_json::to_vec(d).unwrap_or_default())
        .unwrap_or_default();
    let opts = DeleteOptions::parse(ctx, &opts_body)?;
    crate::admission::check_disruption_budgets(ctx, name).await?;
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
