//! Access and identity reviews: answers computed for the caller, never stored.

use super::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::meta;
use crate::negotiate::json_response;
use axum::response::Response;
use serde_json::{json, Value};

/// Why every authenticated request is allowed while no authorizer is configured.
const ALLOW_ALL: &str =
    "skiff: no authorizer is configured; every authenticated user may do everything";

/// POST of a SelfSubjectReview, (Self|Local)SubjectAccessReview or SelfSubjectRulesReview.
pub async fn review(ctx: &Ctx, mut body: Value) -> ApiResult<Response> {
    let rt = ctx.target.rt;
    meta::check_type(rt, &mut body)?;
    let status = match rt.kind {
        "SelfSubjectReview" => json!({
            "userInfo": { "username": ctx.user.name, "groups": ctx.user.groups },
        }),
        "SelfSubjectAccessReview" | "SubjectAccessReview" | "LocalSubjectAccessReview" => {
            let attrs = body
                .pointer("/spec/resourceAttributes")
                .or_else(|| body.pointer("/spec/nonResourceAttributes"));
            if attrs.is_none_or(|a| !a.is_object()) {
                let why = "spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified";
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    format!("{} \"\" is invalid: {why}", rt.group_kind()),
                ));
            }
            if rt.kind == "LocalSubjectAccessReview" {
                let want = ctx.target.namespace.as_deref().unwrap_or("");
                let asked = body
                    .pointer("/spec/resourceAttributes/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if asked != want {
                    return Err(ApiError::bad_request(format!(
                        "spec.resourceAttributes.namespace must match namespace: {want}"
                    )));
                }
            }
            json!({ "allowed": true, "reason": ALLOW_ALL })
        }
        "SelfSubjectRulesReview" => json!({
            "resourceRules": [{ "verbs": ["*"], "apiGroups": ["*"], "resources": ["*"] }],
            "nonResourceRules": [{ "verbs": ["*"], "nonResourceURLs": ["*"] }],
            "incomplete": false,
        }),
        _ => return Err(ApiError::method_not_allowed("")),
    };
    if let Some(o) = body.as_object_mut() {
        o.insert("status".into(), status);
        o.entry("metadata").or_insert_with(|| json!({}));
    }
    Ok(json_response(201, &body))
}
