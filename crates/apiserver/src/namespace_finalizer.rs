//! Empties terminating namespaces through the ordinary delete path, then releases their
//! `kubernetes` finalizer (the namespace controller's job until the controllers crate has one).

use crate::auth::User;
use crate::error::ApiResult;
use crate::handlers::delete::{delete_collection, has_finalizers, DeleteOptions};
use crate::handlers::Ctx;
use crate::registry::{self, Cas};
use crate::request::{Query, Target};
use crate::Api;
use futures::StreamExt;
use serde_json::Value;
use skiff_api::catalogue::{self, RESOURCES};
use skiff_api::convert;
use std::sync::Arc;
use std::time::Duration;

/// Runs forever: reacts to namespace changes, and re-checks every few seconds.
pub async fn run(api: Arc<Api>) {
    let prefix = registry::prefix(catalogue::namespaces(), None);
    loop {
        let mut events = match api.registry.store.watch(&prefix, 0).await {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!("namespace finalizer watch: {e}");
                None
            }
        };
        loop {
            if let Err(e) = sweep(&api).await {
                tracing::warn!("namespace finalizer: {}", e.message);
            }
            let next = async {
                match events.as_mut() {
                    Some(w) => w.next().await.is_some(),
                    None => false,
                }
            };
            if let Ok(false) = tokio::time::timeout(Duration::from_secs(3), next).await {
                break;
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn sweep(api: &Arc<Api>) -> ApiResult<()> {
    let list = api
        .registry
        .store
        .list(
            &registry::prefix(catalogue::namespaces(), None),
            Default::default(),
        )
        .await?;
    for kv in &list.items {
        let ns = registry::decode(catalogue::namespaces(), kv)?;
        if ns
            .pointer("/metadata/deletionTimestamp")
            .is_none_or(Value::is_null)
        {
            continue;
        }
        let name = crate::meta::name(&ns).to_string();
        if empty_namespace(api, &name).await? {
            release(api, &name).await?;
        }
    }
    Ok(())
}

/// Deletes what is left in the namespace, as a client would; `true` once nothing is.
async fn empty_namespace(api: &Arc<Api>, ns: &str) -> ApiResult<bool> {
    let mut empty = true;
    let kinds = RESOURCES
        .iter()
        .filter(|r| r.namespaced && !r.create_only() && !convert::converts(r));
    for rt in kinds {
        let store = &api.registry.store;
        let prefix = registry::prefix(rt, Some(ns));
        let one = skiff_store::ListOptions {
            limit: Some(1),
            ..Default::default()
        };
        if store.list(&prefix, one).await?.items.is_empty() {
            continue;
        }
        empty = false;
        let ctx = Ctx {
            api: api.clone(),
            target: Target {
                rt,
                namespace: Some(ns.to_string()),
                name: None,
                subresource: None,
                watch_prefix: false,
            },
            query: Query::default(),
            headers: Default::default(),
            user: User {
                name: "system:serviceaccount:kube-system:namespace-controller".into(),
                groups: vec![],
            },
        };
        delete_collection(&ctx, &DeleteOptions::default()).await?;
    }
    Ok(empty)
}

/// Drops `kubernetes` from spec.finalizers and deletes the namespace when nothing holds it.
async fn release(api: &Api, name: &str) -> ApiResult<()> {
    let reg = &api.registry;
    let Some((mut ns, rev)) = reg.get_opt(catalogue::namespaces(), None, name).await? else {
        return Ok(());
    };
    if let Some(f) = ns
        .pointer_mut("/spec/finalizers")
        .and_then(Value::as_array_mut)
    {
        f.retain(|x| x != "kubernetes");
    }
    let written = if has_finalizers(&ns) {
        reg.update_at(catalogue::namespaces(), None, name, &ns, rev)
            .await?
    } else {
        reg.delete_at(catalogue::namespaces(), None, name, rev)
            .await?
    };
    if let Cas::Conflict = written {
        tracing::debug!("namespace {name} changed while finalizing; retrying on the next sweep");
    }
    Ok(())
}
