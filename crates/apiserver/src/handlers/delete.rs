//! DELETE of one object and of collections: preconditions, finalizers, graceful deletion.

use super::read::{list_page, Filter};
use super::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::meta;
use crate::negotiate::json_response;
use crate::registry::Cas;
use axum::response::Response;
use serde_json::{json, Value};
use skiff_api::ResourceType;

/// DeleteOptions gathered from the body and the query.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    grace_period: Option<i64>,
    propagation: Option<String>,
    uid: Option<String>,
    resource_version: Option<String>,
    dry_run: bool,
}

impl DeleteOptions {
    /// Reads options from a DeleteOptions body (may be empty) and query parameters.
    pub fn parse(ctx: &Ctx, body: &[u8]) -> ApiResult<Self> {
        let b: Value = if body.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
        };
        let mut propagation = b
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(p) = ctx.query.get("propagationPolicy") {
            propagation = Some(p.to_string());
        }
        let orphan = b.get("orphanDependents").and_then(Value::as_bool).or(
            match ctx.query.get("orphanDependents") {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            },
        );
        if let (Some(_), Some(_)) = (&propagation, orphan) {
            return Err(ApiError::new(422, "Invalid", "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Invalid value: \"\": orphanDependents and deletionPropagation cannot be both set"));
        }
        if orphan == Some(true) {
            propagation = Some("Orphan".into());
        }
        if let Some(p) = &propagation {
            if !matches!(p.as_str(), "Orphan" | "Background" | "Foreground") {
                return Err(ApiError::new(422, "Invalid", format!("DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: {p:?}: supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"")));
            }
        }
        let grace_period = match ctx.query.int("gracePeriodSeconds")? {
            Some(g) => Some(g),
            None => b.get("gracePeriodSeconds").and_then(Value::as_i64),
        };
        let dry_run = ctx.query.dry_run()?
            || b.get("dryRun")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|v| v == "All"));
        Ok(DeleteOptions {
            grace_period,
            propagation,
            uid: b
                .pointer("/preconditions/uid")
                .and_then(Value::as_str)
                .map(str::to_string),
            resource_version: b
                .pointer("/preconditions/resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_string),
            dry_run,
        })
    }
}

/// DELETE of one object; returns the object (still terminating, or as deleted) or a Status.
pub async fn delete(ctx: &Ctx, name: &str, opts: &DeleteOptions) -> ApiResult<Response> {
    let (obj, deleted) = delete_one(ctx, name, opts).await?;
    let rt = ctx.target.rt;
    if !deleted || returns_object(rt) {
        return Ok(json_response(200, &obj));
    }
    let mut details = json!({ "name": name, "kind": rt.plural, "uid": meta::meta_str(&obj, "uid").unwrap_or("") });
    if !rt.group.is_empty() {
        details["group"] = json!(rt.group);
    }
    Ok(json_response(
        200,
        &json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details,
        }),
    ))
}

/// Kinds whose DELETE answers with the deleted object rather than a Status.
fn returns_object(rt: &ResourceType) -> bool {
    rt.group.is_empty() && matches!(rt.kind, "Pod" | "Service" | "Namespace")
}

/// Deletes or starts deleting one object; `true` when it is gone from the store.
pub async fn delete_one(ctx: &Ctx, name: &str, opts: &DeleteOptions) -> ApiResult<(Value, bool)> {
    let rt = ctx.target.rt;
    let ns = ctx.target.namespace.as_deref();
    let reg = &ctx.api.registry;
    if rt.kind == "Namespace" && matches!(name, "default" | "kube-system" | "kube-public") {
        return Err(ApiError::forbidden(format!(
            "namespaces {name:?} is forbidden: this namespace may not be deleted"
        )));
    }
    loop {
        let (mut obj, rev) = reg.get(rt, ns, name).await?;
        if let Some(uid) = &opts.uid {
            let have = meta::meta_str(&obj, "uid").unwrap_or("");
            if uid != have {
                return Err(ApiError::conflict_because(rt, name, &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {have}")));
            }
        }
        if let Some(want) = &opts.resource_version {
            if *want != rev.to_string() {
                return Err(ApiError::conflict_because(rt, name, &format!("Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {rev}")));
            }
        }
        let graceful = graceful_seconds(rt, &obj, opts);
        let changed = mark_deleting(rt, &mut obj, opts, graceful)?;
        let has_finalizers = has_finalizers(&obj);
        if has_finalizers || graceful.is_some_and(|g| g > 0) {
            if !changed || opts.dry_run {
                return Ok((obj, false));
            }
            match reg.update_at(rt, ns, name, obj, rev).await? {
                Cas::Done(obj) => return Ok((obj, false)),
                Cas::Conflict => continue,
            }
        }
        if opts.dry_run {
            return Ok((obj, true));
        }
        match reg.delete_at(rt, ns, name, rev).await? {
            Cas::Done(obj) => return Ok((obj, true)),
            Cas::Conflict => continue,
        }
    }
}

/// Whether finalizers hold the object (for namespaces, `spec.finalizers` too).
pub fn has_finalizers(obj: &Value) -> bool {
    let non_empty = |p: &str| {
        obj.pointer(p)
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty())
    };
    non_empty("/metadata/finalizers")
        || (obj.get("kind").and_then(Value::as_str) == Some("Namespace")
            && non_empty("/spec/finalizers"))
}

/// The grace period of a pod bound to a node (None for immediate deletion).
fn graceful_seconds(rt: &ResourceType, obj: &Value, opts: &DeleteOptions) -> Option<i64> {
    if !(rt.group.is_empty() && rt.kind == "Pod") {
        return None;
    }
    let bound = obj
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let phase = obj
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !bound || matches!(phase, "Succeeded" | "Failed") {
        return None;
    }
    let default = obj
        .pointer("/spec/terminationGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(30);
    Some(opts.grace_period.unwrap_or(default).max(0))
}

/// Sets deletionTimestamp, grace and propagation finalizers; `true` if anything changed.
fn mark_deleting(
    rt: &ResourceType,
    obj: &mut Value,
    opts: &DeleteOptions,
    graceful: Option<i64>,
) -> ApiResult<bool> {
    let is_namespace = rt.group.is_empty() && rt.kind == "Namespace";
    let meta = meta::metadata_mut(obj)?;
    let mut changed = false;
    let add = match opts.propagation.as_deref() {
        Some("Foreground") => Some("foregroundDeletion"),
        Some("Orphan") => Some("orphan"),
        _ => None,
    };
    let already = meta.get("deletionTimestamp").is_some_and(|v| !v.is_null());
    let mut finalizers: Vec<Value> = meta
        .get("finalizers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(f) = add {
        if !already && !finalizers.iter().any(|x| x == f) {
            finalizers.push(json!(f));
            meta.insert("finalizers".into(), Value::Array(finalizers.clone()));
            changed = true;
        }
    }
    let grace = graceful.unwrap_or(0);
    if !already {
        let when = chrono::Utc::now() + chrono::Duration::seconds(grace);
        meta.insert(
            "deletionTimestamp".into(),
            json!(when.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        );
        meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
        changed = true;
    } else if let Some(g) = graceful {
        let current = meta
            .get("deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MAX);
        if g < current {
            let when = chrono::Utc::now() + chrono::Duration::seconds(g);
            meta.insert(
                "deletionTimestamp".into(),
                json!(when.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            );
            meta.insert("deletionGracePeriodSeconds".into(), json!(g));
            changed = true;
        }
    }
    if is_namespace && obj.pointer("/status/phase").and_then(Value::as_str) != Some("Terminating") {
        if let Some(o) = obj.as_object_mut() {
            o.insert("status".into(), json!({ "phase": "Terminating" }));
        }
        changed = true;
    }
    Ok(changed)
}

/// DELETE of a collection: every object matching the selectors.
pub async fn delete_collection(ctx: &Ctx, opts: &DeleteOptions) -> ApiResult<Response> {
    let filter = Filter::from_ctx(ctx)?;
    let mut list_ctx = ctx.clone();
    list_ctx.query.0.remove("limit");
    list_ctx.query.0.remove("continue");
    let page = list_page(&list_ctx, &filter).await?;
    let mut items = Vec::new();
    for item in page.items {
        let obj = item.decode()?;
        let name = meta::name(&obj).to_string();
        let mut one = ctx.clone();
        one.target.namespace = meta::meta_str(&obj, "namespace")
            .map(str::to_string)
            .or(one.target.namespace);
        match delete_one(&one, &name, opts).await {
            Ok((o, _)) => items.push(o),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    let rt = ctx.target.rt;
    Ok(json_response(
        200,
        &json!({
            "kind": rt.list_kind(), "apiVersion": rt.api_version(),
            "metadata": { "resourceVersion": page.revision.to_string() }, "items": items,
        }),
    ))
}
