//! What a new object charges against a ResourceQuota: object counts, pod compute requests and
//! limits, service node ports and load balancers, claimed storage; and which quotas' scopes
//! select it.

use super::amount::{self, Nanos};
use serde_json::Value;
use skiff_api::ResourceType;
use std::collections::{BTreeMap, BTreeSet};

/// Quota names whose use a pod's containers must state (upstream's validation set).
pub const COMPUTE: [&str; 6] = [
    "cpu",
    "memory",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
];

/// Core kinds with a legacy object-count quota name (`pods`, `services`, …).
const LEGACY_COUNTS: [&str; 7] = [
    "pods",
    "services",
    "configmaps",
    "secrets",
    "persistentvolumeclaims",
    "replicationcontrollers",
    "resourcequotas",
];

fn is_pod(rt: &ResourceType) -> bool {
    rt.group.is_empty() && rt.kind == "Pod"
}

/// Resource amounts of one container list entry: requests/limits by name.
fn container_amounts(c: &Value) -> BTreeMap<String, Nanos> {
    let mut out = BTreeMap::new();
    for (part, prefix) in [("requests", "requests."), ("limits", "limits.")] {
        let Some(m) = c
            .pointer(&format!("/resources/{part}"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (name, q) in m {
            let Some(v) = q
                .as_str()
                .and_then(amount::parse)
                .or_else(|| q.as_i64().map(|i| i128::from(i) * 1_000_000_000))
            else {
                continue;
            };
            out.insert(format!("{prefix}{name}"), v);
            if part == "requests"
                && (name == "cpu" || name == "memory" || name == "ephemeral-storage")
            {
                out.insert(name.clone(), v);
            }
        }
    }
    out
}

/// A pod's compute use: the larger of the containers' sum and any one init container.
fn pod_amounts(pod: &Value) -> BTreeMap<String, Nanos> {
    let list = |field: &str| -> Vec<BTreeMap<String, Nanos>> {
        pod.pointer(&format!("/spec/{field}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(container_amounts)
            .collect()
    };
    let mut sum: BTreeMap<String, Nanos> = BTreeMap::new();
    for c in list("containers") {
        for (k, v) in c {
            *sum.entry(k).or_default() += v;
        }
    }
    for c in list("initContainers") {
        for (k, v) in c {
            let e = sum.entry(k).or_default();
            *e = (*e).max(v);
        }
    }
    sum
}

/// What creating `obj` adds to a quota's use, by quota resource name.
pub fn usage(rt: &ResourceType, obj: &Value) -> BTreeMap<String, Nanos> {
    let one = 1_000_000_000;
    let mut out = BTreeMap::new();
    let count = if rt.group.is_empty() {
        format!("count/{}", rt.plural)
    } else {
        format!("count/{}.{}", rt.plural, rt.group)
    };
    out.insert(count, one);
    if rt.group.is_empty() && LEGACY_COUNTS.contains(&rt.plural) {
        out.insert(rt.plural.to_string(), one);
    }
    if is_pod(rt) {
        out.extend(pod_amounts(obj));
    }
    if rt.group.is_empty() && rt.kind == "Service" {
        let t = obj
            .pointer("/spec/type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP");
        let ports = obj
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if matches!(t, "NodePort" | "LoadBalancer") {
            out.insert("services.nodeports".into(), ports as i128 * one);
        }
        if t == "LoadBalancer" {
            out.insert("services.loadbalancers".into(), one);
        }
    }
    if rt.group.is_empty() && rt.kind == "PersistentVolumeClaim" {
        if let Some(v) = obj
            .pointer("/spec/resources/requests/storage")
            .and_then(Value::as_str)
            .and_then(amount::parse)
        {
            out.insert("requests.storage".into(), v);
        }
    }
    out
}

/// The quota names a pod's containers fail to state: name → container names.
pub fn missing_compute(
    pod: &Value,
    required: &BTreeSet<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut missing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for field in ["containers", "initContainers"] {
        for c in pod
            .pointer(&format!("/spec/{field}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let have = container_amounts(c);
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            for r in required {
                if !have.contains_key(r) {
                    missing
                        .entry(r.clone())
                        .or_default()
                        .insert(name.to_string());
                }
            }
        }
    }
    missing
}

fn scope_matches(scope: &str, op: &str, values: &[&str], rt: &ResourceType, obj: &Value) -> bool {
    if !is_pod(rt) {
        return false;
    }
    let terminating = obj
        .pointer("/spec/activeDeadlineSeconds")
        .is_some_and(|v| v.as_i64().is_some_and(|s| s >= 0));
    let best_effort =
        skiff_api::strategy::qos_class(obj.get("spec").unwrap_or(&Value::Null)) == "BestEffort";
    let class = obj
        .pointer("/spec/priorityClassName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let on = match scope {
        "Terminating" => terminating,
        "NotTerminating" => !terminating,
        "BestEffort" => best_effort,
        "NotBestEffort" => !best_effort,
        "PriorityClass" => {
            return match op {
                "In" => values.contains(&class),
                "NotIn" => !values.contains(&class),
                "Exists" => !class.is_empty(),
                "DoesNotExist" => class.is_empty(),
                _ => false,
            }
        }
        _ => false,
    };
    match op {
        "DoesNotExist" => !on,
        _ => on,
    }
}

/// Whether a quota's scopes and scope selector select `obj` (quotas without either select all).
pub fn selects(quota: &Value, rt: &ResourceType, obj: &Value) -> bool {
    let scopes = quota
        .pointer("/spec/scopes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let exprs = quota
        .pointer("/spec/scopeSelector/matchExpressions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    scopes
        .iter()
        .filter_map(Value::as_str)
        .all(|s| scope_matches(s, "Exists", &[], rt, obj))
        && exprs.iter().all(|e| {
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            scope_matches(
                e.get("scopeName").and_then(Value::as_str).unwrap_or(""),
                e.get("operator").and_then(Value::as_str).unwrap_or(""),
                &values,
                rt,
                obj,
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use skiff_api::catalogue;

    #[test]
    fn a_pod_charges_its_count_and_the_larger_of_containers_and_init_containers() {
        let pod = json!({"spec": {
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "64Mi"}}},
                {"name": "b", "resources": {"requests": {"cpu": "200m"}}},
            ],
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "500m"}}}],
        }});
        let u = usage(catalogue::pods(), &pod);
        assert_eq!(u["pods"], 1_000_000_000);
        assert_eq!(u["count/pods"], 1_000_000_000);
        assert_eq!(amount::format(u["requests.cpu"], false), "500m");
        assert_eq!(u["cpu"], u["requests.cpu"]);
        assert_eq!(amount::format(u["limits.memory"], true), "64Mi");
        let required: BTreeSet<String> = ["limits.cpu".to_string()].into();
        let missing = missing_compute(&pod, &required);
        assert_eq!(missing["limits.cpu"].len(), 3);
    }

    #[test]
    fn scoped_quotas_select_only_matching_pods() {
        let q = json!({"spec": {"scopes": ["BestEffort"]}});
        let best_effort = json!({"spec": {"containers": [{"name": "a"}]}});
        assert!(selects(&q, catalogue::pods(), &best_effort));
        let burstable = json!({"spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]}});
        assert!(!selects(&q, catalogue::pods(), &burstable));
        assert!(!selects(&q, catalogue::services(), &json!({})));
        assert!(selects(
            &json!({"spec": {}}),
            catalogue::services(),
            &json!({})
        ));
    }
}
