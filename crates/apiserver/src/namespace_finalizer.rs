//! Empties terminating namespaces, then releases their `kubernetes` finalizer.

use crate::error::ApiResult;
use crate::registry::{self, Registry};
use futures::StreamExt;
use serde_json::Value;
use skiff_api::catalogue::{self, RESOURCES};
use std::time::Duration;

/// Runs forever: reacts to namespace changes, and re-checks every few seconds.
pub async fn run(reg: Registry) {
    let ns_rt = catalogue::find("", "v1", "namespaces").expect("namespaces are in the catalogue");
    let prefix = registry::prefix(ns_rt, None);
    loop {
        let mut events = match reg.store.watch(&prefix, 0).await {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!("namespace finalizer watch: {e}");
                None
            }
        };
        loop {
            if let Err(e) = sweep(&reg).await {
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

async fn sweep(reg: &Registry) -> ApiResult<()> {
    let ns_rt = catalogue::find("", "v1", "namespaces").expect("namespaces are in the catalogue");
    let list = reg
        .store
        .list(&registry::prefix(ns_rt, None), Default::default())
        .await?;
    for kv in &list.items {
        let ns = registry::decode(ns_rt, kv)?;
        if ns
            .pointer("/metadata/deletionTimestamp")
            .is_none_or(Value::is_null)
        {
            continue;
        }
        let name = ns
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if empty_namespace(reg, &name).await? {
            release(reg, &name).await?;
        }
    }
    Ok(())
}

/// Deletes what is left in the namespace; `true` once nothing is.
async fn empty_namespace(reg: &Registry, ns: &str) -> ApiResult<bool> {
    let mut empty = true;
    for rt in RESOURCES
        .iter()
        .filter(|r| r.namespaced && r.kind != "Binding" && !skiff_api::convert::converts(r))
    {
        let list = reg
            .store
            .list(&registry::prefix(rt, Some(ns)), Default::default())
            .await?;
        for kv in &list.items {
            empty = false;
            let obj = registry::decode(rt, kv)?;
            if obj
                .pointer("/metadata/deletionTimestamp")
                .is_some_and(|v| !v.is_null())
            {
                continue;
            }
            let has_finalizers = obj
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .is_some_and(|f| !f.is_empty());
            if has_finalizers {
                let mut o = obj.clone();
                if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.insert(
                        "deletionTimestamp".into(),
                        Value::String(crate::meta::now()),
                    );
                    m.insert("deletionGracePeriodSeconds".into(), Value::from(0));
                }
                let _ = reg
                    .store
                    .update(&kv.key, registry::encode(rt, &o), kv.mod_revision)
                    .await;
            } else {
                let _ = reg.store.delete(&kv.key, Some(kv.mod_revision)).await;
            }
        }
    }
    Ok(empty)
}

/// Drops `kubernetes` from spec.finalizers and deletes the namespace when nothing holds it.
async fn release(reg: &Registry, name: &str) -> ApiResult<()> {
    let ns_rt = catalogue::find("", "v1", "namespaces").expect("namespaces are in the catalogue");
    let key = registry::key(ns_rt, None, name);
    let Some((mut ns, rev)) = reg.get_opt(ns_rt, None, name).await? else {
        return Ok(());
    };
    if let Some(f) = ns
        .pointer_mut("/spec/finalizers")
        .and_then(Value::as_array_mut)
    {
        f.retain(|x| x != "kubernetes");
    }
    if crate::handlers::delete::has_finalizers(&ns) {
        let _ = reg
            .store
            .update(&key, registry::encode(ns_rt, &ns), rev)
            .await;
    } else {
        let _ = reg.store.delete(&key, Some(rev)).await;
    }
    Ok(())
}
