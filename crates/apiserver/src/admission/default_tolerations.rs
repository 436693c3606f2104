//! DefaultTolerationSeconds: pods tolerate `not-ready` and `unreachable` NoExecute taints for
//! 300 s unless they already tolerate them.

use serde_json::{json, Value};
use skiff_api::ResourceType;

/// How long pods tolerate a not-ready or unreachable node by default.
pub const DEFAULT_SECONDS: i64 = 300;
const TAINTS: [&str; 2] = [
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
];

/// Whether `t` tolerates the NoExecute taint `key` (any value).
fn tolerates(t: &Value, key: &str) -> bool {
    let effect = t.get("effect").and_then(Value::as_str).unwrap_or("");
    let k = t.get("key").and_then(Value::as_str).unwrap_or("");
    let op = t.get("operator").and_then(Value::as_str).unwrap_or("Equal");
    (effect.is_empty() || effect == "NoExecute")
        && ((k.is_empty() && op == "Exists")
            || (k == key
                && (op == "Exists"
                    || t.get("value")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .is_empty())))
}

/// Adds the default tolerations to a new pod.
pub fn default_toleration_seconds(rt: &ResourceType, pod: &mut Value) {
    if !(rt.group.is_empty() && rt.kind == "Pod") {
        return;
    }
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let list = spec.entry("tolerations").or_insert_with(|| json!([]));
    if list.is_null() {
        *list = json!([]);
    }
    let Some(list) = list.as_array_mut() else {
        return;
    };
    for key in TAINTS {
        if !list.iter().any(|t| tolerates(t, key)) {
            list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": DEFAULT_SECONDS}));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skiff_api::catalogue;

    #[test]
    fn pods_get_both_tolerations_unless_they_have_them() {
        let mut pod = json!({"spec": {"containers": []}});
        default_toleration_seconds(catalogue::pods(), &mut pod);
        let t = pod["spec"]["tolerations"].as_array().unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0]["tolerationSeconds"], 300);
        let mut pod = json!({"spec": {"tolerations": [
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2}
        ]}});
        default_toleration_seconds(catalogue::pods(), &mut pod);
        let t = pod["spec"]["tolerations"].as_array().unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0]["tolerationSeconds"], 2);
        assert_eq!(t[1]["key"], "node.kubernetes.io/not-ready");
        let mut all = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
        default_toleration_seconds(catalogue::pods(), &mut all);
        assert_eq!(all["spec"]["tolerations"].as_array().unwrap().len(), 1);
    }
}
