//! Lease, PriorityClass, PodDisruptionBudget and Event checks.

use super::labels::validate_selector;
use super::meta::immutable;
use super::names::{dns1123_subdomain, qualified_name};
use super::value::{has, int, s, Errs, Path};
use super::workloads::{int_or_percent, not_more_than_100_percent};
use crate::FieldError;
use serde_json::{json, Value};

const HIGHEST_USER_PRIORITY: i64 = 1_000_000_000;
const SYSTEM_CLASSES: &[(&str, i64)] = &[
    ("system-node-critical", 2_000_001_000),
    ("system-cluster-critical", 2_000_000_000),
];

/// Validates a Lease spec.
pub fn validate_lease(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let sp = Path::new("spec");
    if let Some(d) = int(spec, "leaseDurationSeconds").filter(|d| *d <= 0) {
        errs.push(FieldError::invalid(
            &sp.child("leaseDurationSeconds"),
            json!(d),
            "must be greater than 0",
        ));
    }
    if let Some(t) = int(spec, "leaseTransitions").filter(|t| *t < 0) {
        errs.push(FieldError::invalid(
            &sp.child("leaseTransitions"),
            json!(t),
            "must be greater than or equal to 0",
        ));
    }
    if !s(spec, "preferredHolder").is_empty() && s(spec, "strategy").is_empty() {
        errs.push(FieldError::forbidden(
            &sp.child("preferredHolder"),
            "may only be specified if `strategy` is defined",
        ));
    }
}

/// Validates a PriorityClass: user classes stay below one billion, `system-` names are reserved.
pub fn validate_priority_class(obj: &Value, errs: &mut Errs) {
    let name = s(&obj["metadata"], "name");
    let value = int(obj, "value").unwrap_or(0);
    if name.starts_with("system-") {
        let global = obj
            .get("globalDefault")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let problem = match SYSTEM_CLASSES.iter().find(|(n, _)| *n == name) {
            None => Some(format!("{name} is not a known system priority class")),
            Some((n, v)) if *v != value => Some(format!("value of {n} PriorityClass must be {v}")),
            Some((n, _)) if global => {
                Some(format!("globalDefault of {n} PriorityClass must be false"))
            }
            Some(_) => None,
        };
        if let Some(err) = problem {
            errs.push(FieldError::forbidden(
                &Path::new("metadata").child("name"),
                format!("priority class names with 'system-' prefix are reserved for system use only. error: {err}"),
            ));
        }
    } else if value > HIGHEST_USER_PRIORITY {
        errs.push(FieldError::forbidden(
            &Path::new("value"),
            format!("maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}"),
        ));
    }
    if let Some(p) = obj.get("preemptionPolicy").filter(|v| !v.is_null()) {
        match p.as_str().unwrap_or("") {
            "PreemptLowerPriority" | "Never" => {}
            "" => errs.push(FieldError::required(&Path::new("preemptionPolicy"), "")),
            _ => errs.push(FieldError::not_supported(
                &Path::new("preemptionPolicy"),
                p.clone(),
                &["PreemptLowerPriority", "Never"],
            )),
        }
    }
}

/// Checks a PriorityClass update: value and preemption policy are fixed.
pub fn validate_priority_class_update(new: &Value, old: &Value, errs: &mut Errs) {
    if int(new, "value") != int(old, "value") {
        errs.push(FieldError::forbidden(
            &Path::new("value"),
            "may not be changed in an update.",
        ));
    }
    immutable(
        new.get("preemptionPolicy"),
        old.get("preemptionPolicy"),
        &Path::new("preemptionPolicy"),
        errs,
    );
}

/// Validates a PodDisruptionBudget spec.
pub fn validate_pdb(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let sp = Path::new("spec");
    if has(spec, "minAvailable") && has(spec, "maxUnavailable") {
        errs.push(FieldError::invalid(
            &sp,
            spec.clone(),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for field in ["minAvailable", "maxUnavailable"] {
        if let Some(v) = spec.get(field).filter(|v| !v.is_null()) {
            int_or_percent(v, &sp.child(field), errs);
            not_more_than_100_percent(v, &sp.child(field), errs);
        }
    }
    if let Some(sel) = spec.get("selector").filter(|v| !v.is_null()) {
        validate_selector(sel, &sp.child("selector"), errs);
    }
    if let Some(p) = spec
        .get("unhealthyPodEvictionPolicy")
        .filter(|v| !v.is_null())
    {
        if !["AlwaysAllow", "IfHealthyBudget"].contains(&p.as_str().unwrap_or("")) {
            errs.push(FieldError::not_supported(
                &sp.child("unhealthyPodEvictionPolicy"),
                p.clone(),
                &["AlwaysAllow", "IfHealthyBudget"],
            ));
        }
    }
}

/// Event fields under their core/v1 names, whichever API group the object came from.
struct EventView<'a> {
    involved: &'a Value,
    message: &'a str,
    namespace: &'a str,
    event_time: bool,
}

fn view<'a>(obj: &'a Value, new_api: bool) -> EventView<'a> {
    let (involved, message) = if new_api {
        ("regarding", "note")
    } else {
        ("involvedObject", "message")
    };
    EventView {
        involved: obj.get(involved).unwrap_or(&Value::Null),
        message: s(obj, message),
        namespace: s(&obj["metadata"], "namespace"),
        event_time: has(obj, "eventTime"),
    }
}

/// Legacy event checks applied to every Event (`new_api` for events.k8s.io objects); `strict`
/// adds the events.k8s.io create-time rules.
pub fn validate_event(obj: &Value, new_api: bool, strict: bool, errs: &mut Errs) {
    let e = view(obj, new_api);
    let ns_path = Path::new("involvedObject").child("namespace");
    let involved_ns = s(e.involved, "namespace");
    let mismatch = if !e.event_time {
        if involved_ns.is_empty() {
            !e.namespace.is_empty() && e.namespace != "default"
        } else {
            involved_ns != e.namespace
        }
    } else {
        involved_ns.is_empty() && e.namespace != "default" && e.namespace != "kube-system"
    };
    if mismatch {
        errs.push(FieldError::invalid(
            &ns_path,
            json!(involved_ns),
            "does not match event.namespace",
        ));
    }
    if e.event_time {
        let controller = s(obj, "reportingController");
        if controller.is_empty() {
            errs.push(FieldError::required(&Path::new("reportingController"), ""));
        }
        for msg in qualified_name(controller) {
            errs.push(FieldError::invalid(
                &Path::new("reportingController"),
                json!(controller),
                msg,
            ));
        }
        for (field, limit) in [("reportingInstance", 128), ("action", 128), ("reason", 128)] {
            let v = s(obj, field);
            if v.is_empty() {
                errs.push(FieldError::required(&Path::new(field), ""));
            }
            if v.len() > limit {
                errs.push(FieldError::invalid(
                    &Path::new(field),
                    json!(""),
                    format!("can have at most {limit} characters"),
                ));
            }
        }
        if e.message.len() > 1024 {
            errs.push(FieldError::invalid(
                &Path::new("message"),
                json!(""),
                "can have at most 1024 characters",
            ));
        }
    }
    for msg in dns1123_subdomain(e.namespace) {
        errs.push(FieldError::invalid(
            &Path::new("namespace"),
            json!(e.namespace),
            msg,
        ));
    }
    if strict {
        strict_event(obj, errs);
    }
}

fn strict_event(obj: &Value, errs: &mut Errs) {
    if let Some(series) = obj.get("series").filter(|v| !v.is_null()) {
        if int(series, "count").unwrap_or(0) < 2 {
            errs.push(FieldError::invalid(
                &Path::new("series.count"),
                json!(""),
                "should be at least 2",
            ));
        }
        if !has(series, "lastObservedTime") {
            errs.push(FieldError::required(
                &Path::new("series.lastObservedTime"),
                "",
            ));
        }
    }
    if !has(obj, "eventTime") {
        errs.push(FieldError::required(&Path::new("eventTime"), ""));
    }
    let t = s(obj, "type");
    if t != "Normal" && t != "Warning" {
        errs.push(FieldError::invalid(
            &Path::new("type"),
            json!(""),
            format!("has invalid value: {t}"),
        ));
    }
    for (field, shown) in [
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
        ("deprecatedSource", "source"),
    ] {
        let set = obj
            .get(field)
            .is_some_and(|v| !v.is_null() && v != &json!(0) && v != &json!({}));
        if set {
            errs.push(FieldError::invalid(
                &Path::new(shown),
                json!(""),
                "needs to be unset",
            ));
        }
    }
}

/// Checks an events.k8s.io Event update: everything but the series is fixed.
pub fn validate_event_update(new: &Value, old: &Value, errs: &mut Errs) {
    for (field, shown) in [
        ("regarding", "involvedObject"),
        ("reason", "reason"),
        ("note", "message"),
        ("deprecatedSource", "source"),
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
        ("type", "type"),
        ("eventTime", "eventTime"),
        ("action", "action"),
        ("related", "related"),
        ("reportingController", "reportingController"),
        ("reportingInstance", "reportingInstance"),
    ] {
        immutable(new.get(field), old.get(field), &Path::new(shown), errs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run;

    #[test]
    fn leases_and_priority_classes() {
        assert_eq!(
            run(validate_lease, json!({"spec": {"leaseDurationSeconds": 0}})),
            vec!["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]
        );
        assert_eq!(
            run(
                validate_priority_class,
                json!({"metadata": {"name": "high"}, "value": 2_000_000_000})
            ),
            vec![
                "value: Forbidden: maximum allowed value of a user defined priority is 1000000000",
            ]
        );
        assert_eq!(run(validate_priority_class, json!({"metadata": {"name": "system-x"}, "value": 1})), vec![
            "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-x is not a known system priority class",
        ]);
        assert!(run(
            validate_priority_class,
            json!({"metadata": {"name": "system-node-critical"}, "value": 2_000_001_000})
        )
        .is_empty());
    }

    #[test]
    fn pdbs_take_one_budget() {
        let got = run(
            validate_pdb,
            json!({"spec": {"minAvailable": 1, "maxUnavailable": "150%"}}),
        );
        assert_eq!(got.len(), 2);
        assert!(got[0].starts_with("spec: Invalid value:"));
        assert!(got[0].ends_with("minAvailable and maxUnavailable cannot be both set"));
        assert_eq!(
            got[1],
            "spec.maxUnavailable: Invalid value: \"150%\": must not be greater than 100%"
        );
    }

    #[test]
    fn events() {
        let ev =
            json!({"metadata": {"namespace": "default"}, "involvedObject": {"namespace": "other"}});
        let mut errs = Errs::new();
        validate_event(&ev, false, false, &mut errs);
        assert_eq!(
            errs[0].to_string(),
            "involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"
        );
        errs.clear();
        let new = json!({"metadata": {"namespace": "default"}, "regarding": {"namespace": "default"}, "eventTime": "2024-01-01T00:00:00.000000Z",
            "reportingController": "skiff.io/kubelet", "reportingInstance": "n1", "action": "Pull", "reason": "Pulled", "type": "Info"});
        validate_event(&new, true, true, &mut errs);
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].to_string(),
            "type: Invalid value: \"\": has invalid value: Info"
        );
    }
}
