//! LimitRange and ResourceQuota checks and defaults.

use super::names::qualified_name;
use super::quantity::{parse_value, Quantity, QUANTITY_FORMAT};
use super::value::{arr, map, s, str_list, Errs, Path};
use crate::FieldError;
use serde_json::{json, Map, Value};

/// Standard quota resources counted in whole objects.
const COUNTED_RESOURCES: &[&str] = &[
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];

/// Standard quota resources measured in quantities of compute or storage.
const MEASURED_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
];

const QUOTA_SCOPES: &[&str] = &[
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
    "VolumeAttributesClass",
];

fn quantities<'a>(item: &'a Value, field: &str) -> Vec<Entry<'a>> {
    map(item, field)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v, parse_value(v)))
        .collect()
}

type Entry<'a> = (&'a str, &'a Value, Option<Quantity>);

fn find<'a>(list: &[Entry<'a>], k: &str) -> Option<(&'a Value, Quantity)> {
    list.iter()
        .find(|(n, _, _)| *n == k)
        .and_then(|(_, v, q)| q.map(|q| (*v, q)))
}

fn shown(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// Defaults LimitRange container items: default from max, defaultRequest from default or min.
pub fn default_limit_range(obj: &mut Value) {
    let Some(items) = obj
        .pointer_mut("/spec/limits")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for item in items.iter_mut().filter(|i| s(i, "type") == "Container") {
        let get = |i: &Value, f: &str| {
            i.get(f)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let mut default: Map<String, Value> = get(item, "default");
        let mut request: Map<String, Value> = get(item, "defaultRequest");
        for (k, v) in get(item, "max") {
            default.entry(k).or_insert(v);
        }
        for (k, v) in default
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .chain(get(item, "min"))
        {
            request.entry(k).or_insert(v);
        }
        item["default"] = Value::Object(default);
        item["defaultRequest"] = Value::Object(request);
    }
}

/// Validates a LimitRange.
pub fn validate_limit_range(obj: &Value, errs: &mut Errs) {
    let path = Path::new("spec").child("limits");
    let items = arr(&obj["spec"], "limits");
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let t = s(item, "type");
        let before = errs.len();
        for msg in qualified_name(t) {
            errs.push(FieldError::invalid(&p.child("type"), json!(t), msg));
        }
        if errs.len() == before
            && !t.contains('/')
            && !["Pod", "Container", "PersistentVolumeClaim"].contains(&t)
        {
            errs.push(FieldError::invalid(
                &p.child("type"),
                json!(t),
                "must be a standard limit type or fully qualified",
            ));
        }
        if items[..i].iter().any(|o| s(o, "type") == t) {
            errs.push(FieldError::duplicate(&p.child("type"), json!(t)));
        }
        if t == "Pod" {
            for field in ["default", "defaultRequest"] {
                if map(item, field).is_some_and(|m| !m.is_empty()) {
                    errs.push(FieldError::forbidden(
                        &p.child(field),
                        "may not be specified when `type` is 'Pod'",
                    ));
                }
            }
        }
        if t == "PersistentVolumeClaim"
            && !map(item, "min").is_some_and(|m| m.contains_key("storage"))
            && !map(item, "max").is_some_and(|m| m.contains_key("storage"))
        {
            errs.push(FieldError::required(
                &p.child("limits"),
                "either minimum or maximum storage value is required, but neither was provided",
            ));
        }
        let (min, max, def, req) = (
            quantities(item, "min"),
            quantities(item, "max"),
            quantities(item, "default"),
            quantities(item, "defaultRequest"),
        );
        for (k, _, _) in min.iter().chain(&max).chain(&def).chain(&req) {
            let (mn, mx, d, r) = (find(&min, k), find(&max, k), find(&def, k), find(&req, k));
            let mut check = |a: Option<(&Value, Quantity)>,
                             b: Option<(&Value, Quantity)>,
                             field: &str,
                             shown_v: bool,
                             msg: &str| {
                if let (Some((av, aq)), Some((bv, bq))) = (a, b) {
                    if aq > bq {
                        let v = if shown_v { av } else { bv };
                        let text = msg.replace("{a}", &shown(av)).replace("{b}", &shown(bv));
                        errs.push(FieldError::invalid(&p.child(field).key(k), v.clone(), text));
                    }
                }
            };
            check(
                mn,
                mx,
                "min",
                true,
                "min value {a} is greater than max value {b}",
            );
            check(
                mn,
                r,
                "defaultRequest",
                false,
                "min value {a} is greater than default request value {b}",
            );
            check(
                r,
                mx,
                "defaultRequest",
                true,
                "default request value {a} is greater than max value {b}",
            );
            check(
                r,
                d,
                "defaultRequest",
                true,
                "default request value {a} is greater than default limit value {b}",
            );
            check(
                mn,
                d,
                "default",
                true,
                "min value {a} is greater than default value {b}",
            );
            check(
                d,
                mx,
                "default",
                false,
                "default value {a} is greater than max value {b}",
            );
        }
    }
}

/// Checks that a quantity parses and is not negative; returns it when it passes.
pub fn non_negative_quantity(q: &Value, p: &Path, errs: &mut Errs) -> Option<Quantity> {
    match parse_value(q) {
        None => errs.push(FieldError::invalid(p, q.clone(), QUANTITY_FORMAT)),
        Some(v) if v.is_negative() => errs.push(FieldError::invalid(
            p,
            q.clone(),
            "must be greater than or equal to 0",
        )),
        Some(v) => return Some(v),
    }
    None
}

/// Validates a ResourceQuota: resource names, quantities and scopes.
pub fn validate_resource_quota(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let hp = Path::new("spec").child("hard");
    for (k, q) in map(spec, "hard").into_iter().flatten() {
        let p = hp.key(k);
        let before = errs.len();
        for msg in qualified_name(k) {
            errs.push(FieldError::invalid(&p, json!(k), msg));
        }
        let standard = COUNTED_RESOURCES.contains(&k.as_str())
            || MEASURED_RESOURCES.contains(&k.as_str())
            || k.starts_with("hugepages-")
            || k.starts_with("requests.hugepages-");
        if errs.len() == before && !k.contains('/') && !standard {
            errs.push(FieldError::invalid(
                &p,
                json!(k),
                "must be a standard resource for quota",
            ));
        }
        if let Some(v) = non_negative_quantity(q, &p, errs) {
            let integer = k.starts_with("count/") || COUNTED_RESOURCES.contains(&k.as_str());
            if integer && !v.is_integer() {
                errs.push(FieldError::invalid(&p, q.clone(), "must be an integer"));
            }
        }
    }
    let scopes = str_list(spec, "scopes");
    let sp = Path::new("spec").child("scopes");
    let shown_scopes = json!(scopes);
    for scope in &scopes {
        if !QUOTA_SCOPES.contains(scope) {
            errs.push(FieldError::invalid(
                &sp,
                shown_scopes.clone(),
                "unsupported scope",
            ));
        }
    }
    for (a, b) in [
        ("BestEffort", "NotBestEffort"),
        ("Terminating", "NotTerminating"),
    ] {
        if scopes.contains(&a) && scopes.contains(&b) {
            errs.push(FieldError::invalid(
                &sp,
                shown_scopes.clone(),
                "conflicting scopes",
            ));
        }
    }
}

/// Checks a ResourceQuota update: scopes are fixed.
pub fn validate_resource_quota_update(new: &Value, old: &Value, errs: &mut Errs) {
    let (mut a, mut b) = (
        str_list(&new["spec"], "scopes"),
        str_list(&old["spec"], "scopes"),
    );
    a.sort_unstable();
    a.dedup();
    b.sort_unstable();
    b.dedup();
    if a != b {
        errs.push(FieldError::invalid(
            &Path::new("spec").child("scopes"),
            new["spec"].get("scopes").cloned().unwrap_or_default(),
            super::meta::IMMUTABLE,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run;

    #[test]
    fn limit_ranges() {
        let mut lr = json!({"spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}, "min": {"cpu": "2"}}, {"type": "Pod", "default": {"cpu": "1"}}]}});
        default_limit_range(&mut lr);
        assert_eq!(lr["spec"]["limits"][0]["default"], json!({"cpu": "1"}));
        assert_eq!(
            lr["spec"]["limits"][0]["defaultRequest"],
            json!({"cpu": "1"})
        );
        let got = run(validate_limit_range, lr);
        assert!(got.contains(&"spec.limits[0].min[cpu]: Invalid value: \"2\": min value 2 is greater than max value 1".to_string()), "{got:?}");
        assert!(got.contains(
            &"spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'"
                .to_string()
        ));
    }

    #[test]
    fn resource_quotas() {
        let q = json!({"spec": {"hard": {"pods": "1.5", "gpus": "1", "requests.cpu": "1"}, "scopes": ["BestEffort", "NotBestEffort"]}});
        assert_eq!(run(validate_resource_quota, q), vec![
            "spec.hard[pods]: Invalid value: \"1.5\": must be an integer",
            "spec.hard[gpus]: Invalid value: \"gpus\": must be a standard resource for quota",
            "spec.scopes: Invalid value: []string{\"BestEffort\", \"NotBestEffort\"}: conflicting scopes",
        ]);
    }
}
