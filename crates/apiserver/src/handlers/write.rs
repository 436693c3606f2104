//! POST, PUT and PATCH: decoding, defaulting, validation, admission and compare-and-swap.

use super::patch::{apply_patch, server_side_apply, APPLY};
use super::Ctx;
use crate::admission;
use crate::error::{ApiError, ApiResult};
use crate::meta;
use crate::negotiate::json_response;
use crate::registry::{self, resource_version, Cas};
use crate::request::FieldValidation;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use serde_json::Value;
use skiff_api::{apply, schema, strategy, ResourceType};

/// Which part of an object an update writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The main resource.
    Main,
    /// The `/status` subresource.
    Status,
    /// A system write (binding, finalize) that skips the kind's update strategy.
    Unchecked,
}

/// Drops fields the schema does not know and applies the request's `fieldValidation`:
/// Strict rejects unknown or duplicate fields, Warn reports them, Ignore says nothing.
pub fn check_fields(
    ctx: &Ctx,
    rt: &ResourceType,
    obj: &mut Value,
    raw: Option<&[u8]>,
) -> ApiResult<Vec<String>> {
    let mode = FieldValidation::from_query(&ctx.query)?;
    let unknown = schema::prune_unknown_fields(rt, obj);
    if mode == FieldValidation::Ignore {
        return Ok(Vec::new());
    }
    let duplicates = raw
        .filter(|b| b.first() == Some(&b'{'))
        .map(crate::duplicates::duplicate_fields)
        .unwrap_or_default();
    let msgs: Vec<String> = duplicates
        .iter()
        .map(|f| format!("duplicate field {f:?}"))
        .chain(unknown.iter().map(|f| format!("unknown field {f:?}")))
        .collect();
    match mode {
        FieldValidation::Strict if !msgs.is_empty() => Err(ApiError::bad_request(format!(
            "strict decoding error: {}",
            msgs.join(", ")
        ))),
        _ => Ok(msgs),
    }
}

/// Adds `Warning` headers for accepted-with-warnings requests.
pub fn with_warnings(mut resp: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let text = format!("299 - {w:?}");
        if let Ok(v) = HeaderValue::from_str(&text) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

/// Field manager and operation for managedFields.
pub(super) fn manager(ctx: &Ctx) -> String {
    let ua = ctx
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    meta::manager_name(ctx.query.get("fieldManager"), ua)
}

/// POST of a new object.
pub async fn create(ctx: &Ctx, body: Value, raw: &[u8]) -> ApiResult<Response> {
    let rt = ctx.target.rt;
    let dry_run = ctx.query.dry_run()?;
    let mut obj = body;
    meta::check_type(rt, &mut obj)?;
    let warnings = check_fields(ctx, rt, &mut obj, Some(raw))?;
    meta::check_namespace(rt, &mut obj, ctx.target.namespace.as_deref())?;
    meta::prepare_create(&mut obj)?;
    let obj = create_prepared(ctx, obj, dry_run, Some(&manager(ctx))).await?;
    Ok(with_warnings(json_response(201, &obj), &warnings))
}

/// Defaults, validates, admits and stores a new object whose metadata is prepared.
/// `manager` records the creator's fields; None when server-side apply already recorded them.
pub async fn create_prepared(
    ctx: &Ctx,
    mut obj: Value,
    dry_run: bool,
    manager: Option<&str>,
) -> ApiResult<Value> {
    let rt = ctx.target.rt;
    let ns = ctx.target.namespace.as_deref();
    admission::namespace_lifecycle(&ctx.api, rt, ns, meta::name(&obj)).await?;
    admission::mutate_create(&ctx.api, rt, &mut obj).await?;
    strategy::default(rt, &mut obj);
    strategy::prepare_for_create(rt, &mut obj);
    admission::limit_ranger(&ctx.api, rt, ns, &mut obj).await?;
    let errs = strategy::validate(rt, &obj);
    if !errs.is_empty() {
        return Err(ApiError::invalid(rt, meta::name(&obj), &errs));
    }
    admission::charge_create(&ctx.api, rt, ns, &obj, dry_run).await?;
    if let Some(manager) = manager {
        apply::record_update(rt, None, &mut obj, manager, &meta::now());
    }
    let name = meta::name(&obj).to_string();
    if rt.kind == "Service" && rt.group.is_empty() {
        return admission::create_service(&ctx.api, ns, &name, obj, dry_run).await;
    }
    if dry_run {
        return Ok(obj);
    }
    ctx.api.registry.create(rt, ns, &name, obj).await
}

/// How an update computes the new object from the stored one.
pub enum Change<'a> {
    /// PUT: the body replaces the object.
    Replace(&'a Value),
    /// PATCH: the body is applied to the stored object.
    Patch(&'a str, &'a Value),
}

/// Outcome of an update.
pub struct Updated {
    /// The object as stored (or as it would be, for dry runs).
    pub obj: Value,
    /// Whether it was created (PUT of a missing object where allowed).
    pub created: bool,
    /// Warnings for fields the schema does not know (fieldValidation=Warn).
    pub warnings: Vec<String>,
}

/// Reads, changes and compare-and-swaps an object until it lands or a precondition fails.
pub async fn update(ctx: &Ctx, name: &str, change: Change<'_>, part: Part) -> ApiResult<Updated> {
    let rt = ctx.target.rt;
    let ns = ctx.target.namespace.as_deref();
    let dry_run = ctx.query.dry_run()?;
    let manager = manager(ctx);
    let reg = &ctx.api.registry;
    let mut warnings = Vec::new();
    loop {
        let Some((old, old_rev)) = reg.get_opt(rt, ns, name).await? else {
            let (mut obj, applied) = match change {
                Change::Patch(APPLY, config) => {
                    (server_side_apply(ctx, rt, None, config, &manager)?, true)
                }
                Change::Replace(body) if allow_create_on_update(rt) => (body.clone(), false),
                _ => return Err(ApiError::not_found(rt, name)),
            };
            if part != Part::Main {
                return Err(ApiError::not_found(rt, name));
            }
            let warnings = check_fields(ctx, rt, &mut obj, None)?;
            meta::check_type(rt, &mut obj)?;
            meta::check_namespace(rt, &mut obj, ns)?;
            check_url_name(&obj, name)?;
            meta::prepare_create(&mut obj)?;
            let recorder = (!applied).then_some(manager.as_str());
            let obj = create_prepared(ctx, obj, dry_run, recorder).await?;
            return Ok(Updated {
                obj,
                created: true,
                warnings,
            });
        };
        let (mut new, precondition) = match change {
            Change::Replace(body) => {
                let mut new = body.clone();
                let pre = resource_version(&new)?;
                if let Some(uid) = meta::meta_str(&new, "uid").filter(|u| !u.is_empty()) {
                    let old_uid = meta::meta_str(&old, "uid").unwrap_or("");
                    if uid != old_uid {
                        return Err(ApiError::conflict_because(rt, name, &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {old_uid}")));
                    }
                }
                meta::check_namespace(rt, &mut new, ns)?;
                (new, pre)
            }
            Change::Patch(kind, patch) => {
                let mut new = match kind {
                    APPLY => server_side_apply(ctx, rt, Some(&old), patch, &manager)?,
                    _ => apply_patch(rt, kind, &old, patch)?,
                };
                warnings = check_fields(ctx, rt, &mut new, None)?;
                let pre = resource_version(&new)?.filter(|r| *r != old_rev);
                (new, pre)
            }
        };
        if let Some(pre) = precondition {
            if pre != old_rev {
                return Err(ApiError::conflict(rt, name));
            }
        }
        meta::check_type(rt, &mut new)?;
        check_url_name(&new, name)?;
        if let Change::Patch(..) = change {
            check_uid_unchanged(rt, name, &new, &old)?;
        }
        meta::keep_system_fields(&mut new, &old)?;
        match part {
            Part::Main => {
                strategy::default(rt, &mut new);
                strategy::prepare_for_update(rt, &mut new, &old);
            }
            Part::Status => strategy::prepare_for_status_update(rt, &mut new, &old),
            Part::Unchecked => {}
        }
        let mut _allocation = None;
        if part != Part::Unchecked {
            _allocation = admission::mutate_update(&ctx.api, rt, &mut new, &old).await?;
            let errs = strategy::validate_update(rt, &new, &old);
            if !errs.is_empty() {
                return Err(ApiError::invalid(rt, name, &errs));
            }
        }
        registry::set_resource_version(&mut new, old_rev);
        let now = meta::now();
        match (&change, part) {
            (Change::Patch(APPLY, _), _) => {}
            (_, Part::Status) => {
                apply::record_subresource_update(rt, "status", Some(&old), &mut new, &manager, &now)
            }
            _ => apply::record_update(rt, Some(&old), &mut new, &manager, &now),
        }
        if new == old {
            return Ok(Updated {
                obj: old,
                created: false,
                warnings,
            });
        }
        if dry_run {
            return Ok(Updated {
                obj: new,
                created: false,
                warnings,
            });
        }
        let written = if finalized(&new) {
            reg.delete_at(rt, ns, name, old_rev).await?
        } else {
            reg.update_at(rt, ns, name, new, old_rev).await?
        };
        match written {
            Cas::Done(obj) => {
                return Ok(Updated {
                    obj,
                    created: false,
                    warnings,
                })
            }
            Cas::Conflict if precondition.is_some() => return Err(ApiError::conflict(rt, name)),
            Cas::Conflict => continue,
        }
    }
}

/// 422 when a patch rewrites `metadata.uid`, which is immutable.
fn check_uid_unchanged(rt: &ResourceType, name: &str, new: &Value, old: &Value) -> ApiResult<()> {
    let uid = meta::meta_str(new, "uid").unwrap_or("");
    if uid.is_empty() || Some(uid) == meta::meta_str(old, "uid") {
        return Ok(());
    }
    let err = skiff_api::FieldError::invalid(
        "metadata.uid",
        serde_json::json!(uid),
        "field is immutable",
    );
    Err(ApiError::invalid(rt, name, &[err]))
}

/// 400 unless the body names the object the URL names.
fn check_url_name(obj: &Value, name: &str) -> ApiResult<()> {
    if meta::name(obj) == name {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "the name of the object ({}) does not match the name on the URL ({name})",
        meta::name(obj)
    )))
}

/// Whether an object being deleted has lost its last finalizer.
fn finalized(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
        && !super::delete::has_finalizers(obj)
}

/// Kinds whose PUT creates a missing object, as upstream allows.
fn allow_create_on_update(rt: &ResourceType) -> bool {
    rt.group.is_empty() && matches!(rt.kind, "Endpoints" | "Event" | "LimitRange")
        || matches!(rt.kind, "Lease" | "EndpointSlice")
}

/// PUT of an object.
pub async fn replace(
    ctx: &Ctx,
    name: &str,
    mut body: Value,
    raw: &[u8],
    part: Part,
) -> ApiResult<Response> {
    let warnings = check_fields(ctx, ctx.target.rt, &mut body, Some(raw))?;
    let up = update(ctx, name, Change::Replace(&body), part).await?;
    Ok(with_warnings(
        json_response(if up.created { 201 } else { 200 }, &up.obj),
        &warnings,
    ))
}
