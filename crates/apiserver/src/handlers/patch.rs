//! PATCH bodies: JSON patch, merge patch, strategic merge patch and server-side apply.

use super::write::{update, with_warnings, Change, Part};
use super::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::meta;
use crate::negotiate::{self, json_response};
use axum::response::Response;
use serde_json::Value;
use skiff_api::{apply, strategic, ResourceType};

/// The media type of a server-side apply patch.
pub const APPLY: &str = "application/apply-patch+yaml";

/// Merges an applied configuration into the live object (or none), tracking field owners.
pub(super) fn server_side_apply(
    ctx: &Ctx,
    rt: &ResourceType,
    live: Option<&Value>,
    config: &Value,
    manager: &str,
) -> ApiResult<Value> {
    let force = ctx.query.flag("force");
    apply::apply(rt, live, config, manager, force, &meta::now()).map_err(|e| match e {
        apply::ApplyError::Conflicts(c) => {
            let mut err = ApiError::new(409, "Conflict", c.message());
            let mut details = serde_json::json!({ "name": meta::name(config), "kind": rt.plural, "causes": c.causes() });
            if !rt.group.is_empty() {
                details["group"] = serde_json::json!(rt.group);
            }
            err.details = Some(details);
            err
        }
        apply::ApplyError::Invalid { .. } => ApiError::new(422, "Invalid", e.to_string()),
        other => ApiError::bad_request(other.to_string()),
    })
}

/// Applies a patch of the given media type to an object.
pub fn apply_patch(
    rt: &ResourceType,
    content_type: &str,
    old: &Value,
    patch: &Value,
) -> ApiResult<Value> {
    match content_type {
        "application/json-patch+json" => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            let mut doc = old.clone();
            json_patch::patch(&mut doc, &ops).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?;
            Ok(doc)
        }
        "application/merge-patch+json" => {
            let mut doc = old.clone();
            json_patch::merge(&mut doc, patch);
            Ok(doc)
        }
        "application/strategic-merge-patch+json" => strategic::apply(rt, old, patch)
            .map_err(|e| ApiError::new(422, "Invalid", e.to_string())),
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

/// Decodes a PATCH body: a JSON array for JSON patch, a JSON/YAML object otherwise.
pub fn decode_patch(content_type: &str, body: &[u8]) -> ApiResult<Value> {
    match content_type {
        "application/json-patch+json" => {
            let v: Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            if !v.is_array() {
                return Err(ApiError::bad_request(
                    "error decoding patch: a JSON patch must be an array",
                ));
            }
            Ok(v)
        }
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            let v: Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            if !v.is_object() {
                return Err(ApiError::bad_request(
                    "error decoding patch: the patch must be a JSON object",
                ));
            }
            Ok(v)
        }
        "application/apply-patch+yaml" => negotiate::decode_body(Some("application/yaml"), body),
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

/// PATCH of an object.
pub async fn patch(
    ctx: &Ctx,
    name: &str,
    content_type: &str,
    body: &[u8],
    part: Part,
) -> ApiResult<Response> {
    let patch = decode_patch(content_type, body)?;
    if content_type == "application/apply-patch+yaml" && ctx.query.get("fieldManager").is_none() {
        return Err(ApiError::new(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"));
    }
    let up = update(ctx, name, Change::Patch(content_type, &patch), part).await?;
    Ok(with_warnings(
        json_response(if up.created { 201 } else { 200 }, &up.obj),
        &up.warnings,
    ))
}
