//! ServiceAccount admission: pods without `spec.serviceAccountName` run as `default`.
//! (Token volumes come with the RBAC work; the account's existence is not required yet.)

use serde_json::{json, Value};
use skiff_api::ResourceType;

/// Sets `spec.serviceAccountName` (and the deprecated `serviceAccount`) to `default` if unset.
pub fn service_account(rt: &ResourceType, pod: &mut Value) {
    if !(rt.group.is_empty() && rt.kind == "Pod") {
        return;
    }
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let named = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let name = named(spec.get("serviceAccountName"))
        .or_else(|| named(spec.get("serviceAccount")))
        .unwrap_or_else(|| "default".into());
    spec.insert("serviceAccountName".into(), json!(name));
    spec.insert("serviceAccount".into(), json!(name));
}

#[cfg(test)]
mod tests {
    use super::*;
    use skiff_api::catalogue;

    #[test]
    fn pods_without_an_account_get_default() {
        let mut pod = json!({"spec": {}});
        service_account(catalogue::pods(), &mut pod);
        assert_eq!(pod["spec"]["serviceAccountName"], "default");
        let mut pod = json!({"spec": {"serviceAccountName": "builder"}});
        service_account(catalogue::pods(), &mut pod);
        assert_eq!(pod["spec"]["serviceAccountName"], "builder");
    }
}
