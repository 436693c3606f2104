//! StatefulSet checks and update rules.

use super::labels::{selector_matches, validate_annotations, validate_labels};
use super::meta::{non_negative, semantic_eq};
use super::names::dns1123_label;
use super::value::{int, s, Errs};
use super::workloads::{
    always_restart, common_counts, int_or_percent, int_or_percent_value, label_selector, mismatch,
    not_more_than_100_percent, spec_path,
};
use crate::FieldError;
use serde_json::{json, Value};

/// Validates a StatefulSet spec.
pub fn validate_stateful_set(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let sp = spec_path();
    match s(spec, "podManagementPolicy") {
        "" => errs.push(FieldError::required(&sp.child("podManagementPolicy"), "")),
        "OrderedReady" | "Parallel" => {}
        p => errs.push(FieldError::invalid(
            &sp.child("podManagementPolicy"),
            json!(p),
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    let strategy = spec.get("updateStrategy").unwrap_or(&Value::Null);
    let up = sp.child("updateStrategy");
    let rolling = strategy.get("rollingUpdate").filter(|v| !v.is_null());
    match s(strategy, "type") {
        "" => errs.push(FieldError::required(&up, "")),
        "OnDelete" => {
            if let Some(ru) = rolling {
                errs.push(FieldError::invalid(
                    &up.child("rollingUpdate"),
                    ru.clone(),
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => {
            if let Some(ru) = rolling {
                let rp = up.child("rollingUpdate");
                non_negative(int(ru, "partition"), &rp.child("partition"), errs);
                if let Some(mu) = ru.get("maxUnavailable").filter(|v| !v.is_null()) {
                    int_or_percent(mu, &rp.child("maxUnavailable"), errs);
                    if int_or_percent_value(mu) == 0 {
                        errs.push(FieldError::invalid(
                            &rp.child("maxUnavailable"),
                            mu.clone(),
                            "cannot be 0",
                        ));
                    }
                    not_more_than_100_percent(mu, &rp.child("maxUnavailable"), errs);
                }
            }
        }
        _ => errs.push(FieldError::invalid(
            &up,
            strategy.clone(),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
    if let Some(policy) = spec
        .get("persistentVolumeClaimRetentionPolicy")
        .filter(|v| !v.is_null())
    {
        let pp = sp.child("persistentVolumeClaimRetentionPolicy");
        for field in ["whenDeleted", "whenScaled"] {
            let v = s(policy, field);
            if v != "Retain" && v != "Delete" {
                errs.push(FieldError::not_supported(
                    &pp.child(field),
                    json!(v),
                    &["Retain", "Delete"],
                ));
            }
        }
    }
    common_counts(spec, errs);
    if let Some(start) = spec.pointer("/ordinals/start").and_then(Value::as_i64) {
        non_negative(Some(start), &sp.child("ordinals.start"), errs);
    }
    let service_name = s(spec, "serviceName");
    if !service_name.is_empty() {
        for msg in dns1123_label(service_name) {
            errs.push(FieldError::invalid(
                &sp.child("serviceName"),
                json!(service_name),
                msg,
            ));
        }
    }
    label_selector(spec, "statefulset", errs);
    let tp = sp.child("template");
    let template = spec.get("template").unwrap_or(&Value::Null);
    let sel = spec.get("selector").unwrap_or(&Value::Null);
    match selector_matches(sel, template.pointer("/metadata/labels")) {
        None => errs.push(FieldError::invalid(&sp.child("selector"), sel.clone(), "")),
        Some(ok) => {
            if !ok {
                mismatch(template.pointer("/metadata/labels"), errs);
            }
            let meta = template.get("metadata").unwrap_or(&Value::Null);
            validate_labels(meta.get("labels"), &tp.child("labels"), errs);
            validate_annotations(meta.get("annotations"), &tp.child("annotations"), errs);
        }
    }
    always_restart(template, "StatefulSet", &tp, errs);
}

/// Checks a StatefulSet update: only some spec fields may change.
pub fn validate_stateful_set_update(new: &Value, old: &Value, errs: &mut Errs) {
    let mut munged = new["spec"].clone();
    let mutable = [
        "replicas",
        "template",
        "updateStrategy",
        "minReadySeconds",
        "ordinals",
        "persistentVolumeClaimRetentionPolicy",
    ];
    if let Some(m) = munged.as_object_mut() {
        for key in mutable {
            match old["spec"].get(key) {
                Some(v) => m.insert(key.to_string(), v.clone()),
                None => m.remove(key),
            };
        }
    }
    if !semantic_eq(&munged, &old["spec"]) {
        errs.push(FieldError::forbidden(
            &spec_path(),
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run;
    use crate::strategy::test_support::test_template as template;

    #[test]
    fn stateful_set_spec_and_update() {
        let sts = json!({"spec": {"replicas": 1, "podManagementPolicy": "Sometimes", "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}}, "template": template(json!({"app": "web"})),
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": -1}}}});
        assert_eq!(run(validate_stateful_set, &sts), vec![
            "spec.podManagementPolicy: Invalid value: \"Sometimes\": must be 'OrderedReady' or 'Parallel'",
            "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0",
        ]);
        let mut new = sts.clone();
        new["spec"]["replicas"] = json!(3);
        let mut errs = Errs::new();
        validate_stateful_set_update(&new, &sts, &mut errs);
        assert!(errs.is_empty());
        new["spec"]["serviceName"] = json!("other");
        validate_stateful_set_update(&new, &sts, &mut errs);
        assert_eq!(errs[0].to_string(), "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
    }
}
