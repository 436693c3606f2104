//! Evictions spend a PodDisruptionBudget's allowed disruptions.

use crate::error::{ApiError, ApiResult};
use crate::handlers::Ctx;
use crate::registry;
use serde_json::{json, Value};
use skiff_api::catalogue;
use skiff_api::selectors::LabelSelector;

/// Spends one disruption of the pod's PodDisruptionBudget, or refuses the eviction (429).
pub async fn admit_eviction(ctx: &Ctx, pod_name: &str) -> ApiResult<()> {
    let ns = ctx.target.namespace.as_deref();
    let (pod, _) = ctx.api.registry.get(ctx.target.rt, ns, pod_name).await?;
    let phase = pod.pointer("/status/phase").and_then(Value::as_str);
    if matches!(phase, Some("Succeeded" | "Failed" | "Pending")) {
        return Ok(());
    }
    let pdbs = catalogue::pod_disruption_budgets();
    loop {
        let list = ctx
            .api
            .registry
            .store
            .list(&registry::prefix(pdbs, ns), Default::default())
            .await?;
        let mut matching = Vec::new();
        for kv in &list.items {
            let pdb = registry::decode(pdbs, kv)?;
            let selector = pdb
                .pointer("/spec/selector")
                .and_then(|s| LabelSelector::from_label_selector(s).ok());
            if selector.is_some_and(|sel| sel.matches(pod.pointer("/metadata/labels"))) {
                matching.push((pdb, kv.mod_revision));
            }
        }
        let (mut pdb, rev) = match matching.len() {
            0 => return Ok(()),
            1 => matching.remove(0),
            _ => return Err(ApiError::internal("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")),
        };
        let pdb_name = crate::meta::name(&pdb).to_string();
        let too_many = |why: String| {
            ApiError::new(
                429,
                "TooManyRequests",
                format!("Cannot evict pod as it would violate the pod's disruption budget. {why}"),
            )
        };
        let generation = pdb
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let observed = pdb
            .pointer("/status/observedGeneration")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if observed < generation {
            return Err(too_many(format!(
                "The disruption budget {pdb_name} is still being processed by the server."
            )));
        }
        let allowed = pdb
            .pointer("/status/disruptionsAllowed")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let desired = pdb
            .pointer("/status/desiredHealthy")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let current = pdb
            .pointer("/status/currentHealthy")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        // an unready pod does not count as healthy: evicting it spends nothing
        if !is_ready(&pod) {
            let policy = pdb
                .pointer("/spec/unhealthyPodEvictionPolicy")
                .and_then(Value::as_str);
            if policy == Some("AlwaysAllow") || (current >= desired && desired > 0) {
                return Ok(());
            }
        }
        if allowed <= 0 {
            return Err(too_many(format!("The disruption budget {pdb_name} needs {desired} healthy pods and has {current} currently")));
        }
        let status = &mut pdb["status"];
        status["disruptionsAllowed"] = json!(allowed - 1);
        if !status["disruptedPods"].is_object() {
            status["disruptedPods"] = json!({});
        }
        status["disruptedPods"][pod_name] = json!(crate::meta::now());
        let key = registry::key(pdbs, ns, &pdb_name);
        match ctx
            .api
            .registry
            .store
            .update(&key, registry::encode(pdbs, &pdb), rev)
            .await
        {
            Ok(_) => return Ok(()),
            Err(skiff_store::Error::Conflict { .. } | skiff_store::Error::NotFound) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Whether the pod has condition Ready=True.
fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}
