//! GET of one object and of collections: selectors, paging, resourceVersion semantics.

use super::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::negotiate::{self, IncludeObject};
use crate::registry::{self, Item};
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};
use skiff_api::selectors::{FieldSelector, LabelSelector};
use skiff_api::{fields, ResourceType};
use skiff_store::{ListOptions, Revision};

/// Label and field selectors of a list or watch.
pub struct Filter {
    label: LabelSelector,
    field: FieldSelector,
    rt: &'static ResourceType,
}

impl Filter {
    /// Parses `labelSelector` and `fieldSelector`; 400 when malformed or unsupported.
    pub fn from_ctx(ctx: &Ctx) -> ApiResult<Filter> {
        let label = LabelSelector::parse(ctx.query.get("labelSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
        let field = FieldSelector::parse(ctx.query.get("fieldSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        fields::check_supported(ctx.target.rt, &field)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(Filter {
            label,
            field,
            rt: ctx.target.rt,
        })
    }

    /// Whether an object passes both selectors.
    pub fn matches(&self, obj: &Value) -> bool {
        self.label.matches(obj.pointer("/metadata/labels"))
            && fields::matches(self.rt, &self.field, obj)
    }

    /// Whether a stored item passes both selectors; decodes it only for field selectors.
    pub fn matches_item(&self, item: &Item) -> ApiResult<bool> {
        if !self.label.matches(item.labels()) {
            return Ok(false);
        }
        if self.field.is_empty() {
            return Ok(true);
        }
        Ok(fields::matches(self.rt, &self.field, &item.decode()?))
    }

    /// The resource type being filtered.
    pub fn rt(&self) -> &'static ResourceType {
        self.rt
    }

    /// Whether neither selector restricts anything.
    pub fn is_empty(&self) -> bool {
        self.label.is_empty() && self.field.is_empty()
    }
}

/// A continue token: the snapshot revision and the last key returned.
fn encode_continue(rev: Revision, last_key: &str) -> String {
    let raw = json!({ "v": "meta.k8s.io/v1", "rv": rev, "start": last_key });
    base64::engine::general_purpose::URL_SAFE.encode(raw.to_string())
}

fn decode_continue(token: &str, prefix: &str) -> ApiResult<(Revision, String)> {
    let bad = || {
        ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    };
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(token)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let rev = v
        .get("rv")
        .and_then(Value::as_i64)
        .filter(|r| *r > 0)
        .ok_or_else(bad)?;
    let start = v.get("start").and_then(Value::as_str).ok_or_else(bad)?;
    if !start.starts_with(prefix) {
        return Err(bad());
    }
    Ok((rev, start.to_string()))
}

/// One page of a filtered list.
pub struct Page {
    /// Matching objects.
    pub items: Vec<Item>,
    /// The revision the page reflects.
    pub revision: Revision,
    /// Continue token when more remain.
    pub continue_token: Option<String>,
    /// Items left after this page, when known exactly (no selectors).
    pub remaining: Option<u64>,
}

/// Lists objects with selectors, `limit`/`continue` and `resourceVersion` semantics.
pub async fn list_page(ctx: &Ctx, filter: &Filter) -> ApiResult<Page> {
    let rt = ctx.target.rt;
    let prefix = registry::prefix(rt, ctx.target.namespace.as_deref());
    let limit = ctx
        .query
        .int("limit")?
        .filter(|l| *l > 0)
        .map(|l| l as usize);
    let store = &ctx.api.registry.store;
    let (mut revision, mut start_after) = match ctx.query.get("continue") {
        Some(_) if ctx.query.get("resourceVersion").is_some_and(|v| v != "0") => {
            return Err(ApiError::bad_request(
                "specifying resource version is not allowed when using continue",
            ));
        }
        Some(token) => {
            let (rev, start) = decode_continue(token, &prefix)?;
            (Some(rev), Some(start))
        }
        None => (resolve_list_revision(ctx).await?, None),
    };
    let mut items = Vec::new();
    let mut continue_token = None;
    let mut remaining = None;
    loop {
        let want = limit.map(|l| l - items.len());
        let res = store
            .list(&prefix, ListOptions { revision, limit: want, start_after: start_after.clone() })
            .await
            .map_err(|e| match e {
                skiff_store::Error::Compacted { .. } if ctx.query.get("continue").is_some() => ApiError::expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                ),
                skiff_store::Error::Compacted { compact_revision, .. } => ApiError::expired(format!(
                    "The resourceVersion for the provided list is too old. (compacted at {compact_revision})"
                )),
                other => other.into(),
            })?;
        revision = Some(res.revision);
        let page_len = res.items.len();
        let last_key = res.items.last().map(|kv| kv.key.clone());
        for kv in &res.items {
            let item = Item::from_kv(rt, kv)?;
            if filter.matches_item(&item)? {
                items.push(item);
            }
        }
        let more = res.remaining > 0 && page_len > 0;
        match (limit, more) {
            (Some(l), true) if items.len() >= l => {
                if let Some(k) = &last_key {
                    continue_token = Some(encode_continue(res.revision, k));
                }
                if filter.is_empty() {
                    remaining = Some(res.remaining);
                }
                break;
            }
            (_, true) => start_after = last_key,
            (_, false) => break,
        }
    }
    Ok(Page {
        items,
        revision: revision.unwrap_or(0),
        continue_token,
        remaining,
    })
}

/// The revision a list reads at: `None` for the latest, or an exact one.
async fn resolve_list_revision(ctx: &Ctx) -> ApiResult<Option<Revision>> {
    let rv = ctx.query.get("resourceVersion");
    let matching = ctx.query.get("resourceVersionMatch");
    match (rv, matching) {
        (None, Some(_)) => Err(ApiError::bad_request(
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
        )),
        (None, None) | (Some("0"), _) => Ok(None),
        (Some(rv), Some("Exact")) => Ok(Some(registry::parse_rv(rv)?)),
        (Some(rv), None | Some("NotOlderThan")) => {
            let want = registry::parse_rv(rv)?;
            let current = ctx.api.registry.store.current_revision().await?;
            if want > current {
                return Err(ApiError::too_large_resource_version(want, current));
            }
            Ok(None)
        }
        (Some(_), Some(other)) => Err(ApiError::bad_request(format!(
            "resourceVersionMatch: Unsupported value: {other:?}: supported values: \"Exact\", \"NotOlderThan\""
        ))),
    }
}

/// GET of a collection.
pub async fn list(ctx: &Ctx) -> ApiResult<Response> {
    let filter = Filter::from_ctx(ctx)?;
    let out = negotiate::output(&ctx.headers)?;
    let include = IncludeObject::parse(ctx.query.get("includeObject"))?;
    let page = list_page(ctx, &filter).await?;
    let mut meta = json!({ "resourceVersion": page.revision.to_string() });
    if let Some(c) = page.continue_token {
        meta["continue"] = json!(c);
    }
    if let Some(r) = page.remaining {
        meta["remainingItemCount"] = json!(r);
    }
    negotiate::render_list(ctx.target.rt, page.items, meta, out, include)
}

/// GET of one object.
pub async fn get(ctx: &Ctx, name: &str) -> ApiResult<Response> {
    let out = negotiate::output(&ctx.headers)?;
    let include = IncludeObject::parse(ctx.query.get("includeObject"))?;
    let (obj, _) = ctx
        .api
        .registry
        .get(ctx.target.rt, ctx.target.namespace.as_deref(), name)
        .await?;
    Ok(negotiate::json_response(
        200,
        &negotiate::render_object(ctx.target.rt, obj, out, include),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_stay_in_their_prefix() {
        let t = encode_continue(42, "/registry/pods/default/web-1");
        assert_eq!(
            decode_continue(&t, "/registry/pods/").unwrap(),
            (42, "/registry/pods/default/web-1".to_string())
        );
        assert!(decode_continue(&t, "/registry/secrets/").is_err());
        assert!(decode_continue("!!", "/registry/pods/").is_err());
    }
}
