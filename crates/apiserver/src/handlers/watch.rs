//! Watch: a chunked stream of newline-delimited JSON events, filtered by selectors.

use super::read::{list_page, Filter};
use super::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::negotiate::{self, IncludeObject, Output};
use crate::registry;
use crate::watch_cache::WatchCache;
use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{json, Value};
use skiff_api::ResourceType;
use skiff_store::{Event, EventKind, Revision};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often a watch that asked for bookmarks gets one.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(30);

/// Renders watch events in the client's chosen form.
struct Encoder {
    rt: &'static ResourceType,
    out: Output,
    include: IncludeObject,
    sent_columns: bool,
}

impl Encoder {
    fn event(&mut self, kind: &str, obj: Value) -> Bytes {
        let object = match self.out {
            Output::Table(v) => {
                let rv = obj
                    .pointer("/metadata/resourceVersion")
                    .cloned()
                    .unwrap_or(Value::Null);
                let t = negotiate::table(
                    self.rt,
                    v,
                    [obj],
                    json!({"resourceVersion": rv}),
                    self.include,
                    !self.sent_columns,
                );
                self.sent_columns = true;
                t
            }
            out => negotiate::render_object(self.rt, obj, out, self.include),
        };
        line(&json!({ "type": kind, "object": object }))
    }

    fn bookmark(&self, rev: Revision, initial_end: bool) -> Bytes {
        let mut meta = json!({ "resourceVersion": rev.to_string() });
        if initial_end {
            meta["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
        }
        line(&json!({
            "type": "BOOKMARK",
            "object": { "kind": self.rt.kind, "apiVersion": self.rt.api_version(), "metadata": meta },
        }))
    }
}

fn line(v: &Value) -> Bytes {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    Bytes::from(b)
}

fn error_line(err: &ApiError) -> Bytes {
    line(&json!({ "type": "ERROR", "object": err.to_status() }))
}

/// What one store event means to a watcher with a selector.
fn classify(
    cache: &WatchCache,
    filter: &Filter,
    ev: &Event,
) -> ApiResult<Option<(&'static str, Value)>> {
    let obj = Arc::unwrap_or_clone(cache.object(filter.rt(), &ev.kv)?);
    let prev = match &ev.prev {
        Some(p) => Some(cache.object(filter.rt(), p)?).filter(|p| filter.matches(p)),
        None => None,
    };
    Ok(match ev.kind {
        EventKind::Delete => prev.is_some().then_some(("DELETED", obj)),
        EventKind::Put => match (prev, filter.matches(&obj)) {
            (Some(_), true) => Some(("MODIFIED", obj)),
            (None, true) => Some(("ADDED", obj)),
            // the object left the selection: send the last state that matched, at this revision
            (Some(last), false) => {
                let mut last = Arc::unwrap_or_clone(last);
                registry::set_resource_version(&mut last, ev.kv.mod_revision);
                Some(("DELETED", last))
            }
            (None, false) => None,
        },
    })
}

/// How long a watch from a revision the store has not reached waits for it.
const FUTURE_REVISION_WAIT: Duration = Duration::from_secs(3);

/// Waits briefly for the store to reach `rev`; 504 with `ResourceVersionTooLarge` if it does not.
async fn reached(ctx: &Ctx, rev: Revision) -> ApiResult<Revision> {
    let store = &ctx.api.registry.store;
    let deadline = tokio::time::Instant::now() + FUTURE_REVISION_WAIT;
    loop {
        let current = store.current_revision().await?;
        if rev <= current {
            return Ok(rev);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ApiError::too_large_resource_version(rev, current));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Serves a watch request.
pub async fn watch(ctx: Ctx) -> ApiResult<Response> {
    let filter = Filter::from_ctx(&ctx)?;
    let out = negotiate::output(&ctx.headers)?;
    let include = IncludeObject::parse(ctx.query.get("includeObject"))?;
    let bookmarks = ctx.query.flag("allowWatchBookmarks");
    let send_initial = match ctx.query.get("sendInitialEvents") {
        Some("true") => Some(true),
        Some("false") => Some(false),
        None => None,
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "invalid sendInitialEvents: {v:?}"
            )))
        }
    };
    if send_initial.is_some()
        && !(bookmarks && ctx.query.get("resourceVersionMatch") == Some("NotOlderThan"))
    {
        return Err(ApiError::new(422, "Invalid", "sendInitialEvents requires allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan"));
    }
    let timeout = match ctx.query.int("timeoutSeconds")? {
        Some(s) if s > 0 => Duration::from_secs(s as u64),
        _ => Duration::from_secs(1800 + rand::random::<u64>() % 1800),
    };
    let rv = ctx.query.get("resourceVersion");
    // Initial events: when no RV (or "0") is given, or sendInitialEvents=true.
    let initial = match send_initial {
        Some(b) => b,
        None => matches!(rv, None | Some("0")),
    };
    let mut encoder = Encoder {
        rt: ctx.target.rt,
        out,
        include,
        sent_columns: false,
    };
    let mut first: Vec<Bytes> = Vec::new();
    let start = if initial {
        let mut list_ctx = ctx.clone();
        list_ctx
            .query
            .0
            .retain(|k, _| k == "labelSelector" || k == "fieldSelector");
        let page = list_page(&list_ctx, &filter).await?;
        for item in page.items {
            first.push(encoder.event("ADDED", item.decode()?));
        }
        if send_initial == Some(true) {
            first.push(encoder.bookmark(page.revision, true));
        }
        page.revision
    } else {
        match rv {
            Some(v) => reached(&ctx, registry::parse_rv(v)?).await?,
            None => ctx.api.registry.store.current_revision().await?,
        }
    };
    let prefix = registry::prefix(ctx.target.rt, ctx.target.namespace.as_deref());
    let store = ctx.api.registry.store.clone();
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    // Unfiltered object and metadata watchers share one rendering of each event.
    let plain = filter.is_empty() && matches!(out, Output::Object | Output::Metadata(_));
    let api = ctx.api.clone();
    let watch = store.watch(&prefix, start).await;
    tokio::spawn(async move {
        let cache = &api.watch_cache;
        let mut stream = match watch {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.send(Ok(error_line(&ApiError::from(e)))).await;
                return;
            }
        };
        for b in first {
            if tx.send(Ok(b)).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval(BOOKMARK_INTERVAL);
        tick.tick().await;
        let mut last = start;
        loop {
            let msg = tokio::select! {
                _ = &mut deadline => return,
                _ = tx.closed() => return,
                _ = tick.tick(), if bookmarks => Some(encoder.bookmark(last, false)),
                ev = stream.next() => match ev {
                    None => return,
                    Some(Err(e)) => {
                        let _ = tx.send(Ok(error_line(&ApiError::from(e)))).await;
                        return;
                    }
                    Some(Ok(ev)) => {
                        last = ev.kv.mod_revision;
                        let shared = if plain {
                            let kind = match (ev.kind, &ev.prev) {
                                (EventKind::Delete, _) => "DELETED",
                                (EventKind::Put, Some(_)) => "MODIFIED",
                                (EventKind::Put, None) => "ADDED",
                            };
                            Some(cache.line(filter.rt(), &ev.kv, kind, out, |obj| encoder.event(kind, obj)))
                        } else {
                            None
                        };
                        match shared {
                            Some(Ok(b)) => Some(b),
                            Some(Err(e)) => Some(error_line(&e)),
                            None => match classify(cache, &filter, &ev) {
                                Ok(Some((kind, obj))) => Some(encoder.event(kind, obj)),
                                Ok(None) => None,
                                Err(e) => Some(error_line(&e)),
                            },
                        }
                    }
                },
            };
            if let Some(b) = msg {
                if tx.send(Ok(b)).await.is_err() {
                    return;
                }
            }
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}
