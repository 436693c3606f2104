//! Priority admission: `spec.priorityClassName` becomes `spec.priority` and
//! `spec.preemptionPolicy` from its PriorityClass (the global default when none is named).

use crate::error::{ApiError, ApiResult};
use crate::Api;
use serde_json::{json, Value};
use skiff_api::{catalogue, ResourceType};

/// The built-in classes: name, value, description.
pub const SYSTEM_CLASSES: [(&str, i64, &str); 2] = [
    ("system-node-critical", 2_000_001_000, "Used for system critical pods that must not be moved from their current node."),
    ("system-cluster-critical", 2_000_000_000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
];

/// The PriorityClass resource type.
pub fn priority_classes() -> ApiResult<&'static ResourceType> {
    catalogue::find("scheduling.k8s.io", "v1", "priorityclasses")
        .ok_or_else(|| ApiError::internal("priorityclasses are missing from the catalogue"))
}

/// Resolves a new pod's priority from its PriorityClass; 403 for an unknown class.
pub async fn priority(api: &Api, rt: &ResourceType, pod: &mut Value) -> ApiResult<()> {
    if !(rt.group.is_empty() && rt.kind == "Pod") {
        return Ok(());
    }
    let prt = priority_classes()?;
    let name = crate::meta::name(pod).to_string();
    let forbidden = |m: String| ApiError::forbidden(format!("pods {name:?} is forbidden: {m}"));
    let class_name = pod
        .pointer("/spec/priorityClassName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let class = match &class_name {
        Some(c) => match api.registry.get_opt(prt, None, c).await? {
            Some((pc, _)) => Some(pc),
            None => {
                return Err(forbidden(format!(
                    "no PriorityClass with name {c} was found"
                )))
            }
        },
        None => {
            let mut best: Option<Value> = None;
            for pc in api.registry.list_cached(prt, None).await? {
                let pc = &pc.0;
                let value = |v: &Value| v.get("value").and_then(Value::as_i64).unwrap_or(0);
                if pc.get("globalDefault").and_then(Value::as_bool) == Some(true)
                    && best.as_ref().is_none_or(|b| value(b) > value(pc))
                {
                    best = Some(pc.clone());
                }
            }
            best
        }
    };
    let (value, policy) = match &class {
        Some(pc) => (
            pc.get("value").and_then(Value::as_i64).unwrap_or(0),
            pc.get("preemptionPolicy")
                .and_then(Value::as_str)
                .map(str::to_string),
        ),
        None => (0, None),
    };
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    if let Some(given) = spec.get("priority").and_then(Value::as_i64) {
        if given != value {
            return Err(forbidden(format!("the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {value} from the given PriorityClass name")));
        }
    }
    if let (Some(given), Some(p)) = (
        spec.get("preemptionPolicy").and_then(Value::as_str),
        &policy,
    ) {
        if given != p {
            return Err(forbidden(format!("the string value of PreemptionPolicy ({given}) must not be provided in pod spec; priority admission controller computed {p} from the given PriorityClass name")));
        }
    }
    if let Some(pc) = &class {
        spec.insert("priorityClassName".into(), json!(crate::meta::name(pc)));
        spec.insert("priority".into(), json!(value));
        if let Some(p) = policy {
            spec.insert("preemptionPolicy".into(), json!(p));
        }
    }
    Ok(())
}
