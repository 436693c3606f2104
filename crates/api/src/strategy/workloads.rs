//! Deployment, ReplicaSet, ReplicationController and ControllerRevision checks, and helpers shared by controller kinds.

use super::labels::{map_selector_matches, selector_is_empty, selector_matches, validate_selector};
use super::meta::{immutable, non_negative};
use super::names::percent;
use super::pod::validate_template;
use super::value::{has, int, int_or_str, s, Errs, IntOrStr, Path};
use crate::FieldError;
use serde_json::{json, Value};

/// The `spec` path.
pub fn spec_path() -> Path {
    Path::new("spec")
}

/// `must be an integer or percentage` style checks of an IntOrString, as `ValidatePositiveIntOrPercent`.
pub fn int_or_percent(v: &Value, path: &Path, errs: &mut Errs) {
    match int_or_str(v) {
        Some(IntOrStr::Str(p)) => {
            for msg in percent(p) {
                errs.push(FieldError::invalid(path, v.clone(), msg));
            }
        }
        Some(IntOrStr::Int(n)) => non_negative(Some(n), path, errs),
        None => errs.push(FieldError::invalid(
            path,
            v.clone(),
            "must be an integer or percentage (e.g '5%%')",
        )),
    }
}

/// The number an IntOrString stands for (percentages without the sign; junk is 0).
pub fn int_or_percent_value(v: &Value) -> i64 {
    match int_or_str(v) {
        Some(IntOrStr::Int(n)) => n,
        Some(IntOrStr::Str(p)) => p.strip_suffix('%').unwrap_or(p).parse().unwrap_or(0),
        None => 0,
    }
}

/// `must not be greater than 100%` for percentages above 100.
pub fn not_more_than_100_percent(v: &Value, path: &Path, errs: &mut Errs) {
    if let Some(IntOrStr::Str(p)) = int_or_str(v) {
        if percent(p).is_empty() && int_or_percent_value(v) > 100 {
            errs.push(FieldError::invalid(
                path,
                v.clone(),
                "must not be greater than 100%",
            ));
        }
    }
}

/// Selector checks shared by apps kinds: required, valid and not empty.
pub fn label_selector(spec: &Value, kind: &str, errs: &mut Errs) {
    let p = spec_path().child("selector");
    match spec.get("selector").filter(|v| !v.is_null()) {
        None => errs.push(FieldError::required(&p, "")),
        Some(sel) => {
            validate_selector(sel, &p, errs);
            if selector_is_empty(sel) {
                errs.push(FieldError::invalid(
                    &p,
                    sel.clone(),
                    format!("empty selector is invalid for {kind}"),
                ));
            }
        }
    }
}

fn template_matches(spec: &Value, errs: &mut Errs) -> bool {
    let sel = spec.get("selector").unwrap_or(&Value::Null);
    let labels = spec.pointer("/template/metadata/labels");
    match selector_matches(sel, labels) {
        None => {
            errs.push(FieldError::invalid(
                &spec_path().child("selector"),
                sel.clone(),
                "invalid label selector",
            ));
            false
        }
        Some(ok) => {
            if !ok {
                mismatch(labels, errs);
            }
            true
        }
    }
}

/// Reports template labels the selector does not match.
pub fn mismatch(labels: Option<&Value>, errs: &mut Errs) {
    errs.push(FieldError::invalid(
        &spec_path()
            .child("template")
            .child("metadata")
            .child("labels"),
        labels.cloned().unwrap_or(json!({})),
        "`selector` does not match template `labels`",
    ));
}

fn controller_template(spec: &Value, kind: &str, errs: &mut Errs) {
    let tp = spec_path().child("template");
    let template = spec.get("template").unwrap_or(&Value::Null);
    validate_template(template, &tp, errs);
    always_restart(template, kind, &tp, errs);
}

/// Controllers keep pods running: `restartPolicy` Always, no `activeDeadlineSeconds`.
pub fn always_restart(template: &Value, kind: &str, tp: &Path, errs: &mut Errs) {
    let restart = template
        .pointer("/spec/restartPolicy")
        .cloned()
        .unwrap_or(json!(""));
    if restart.as_str() != Some("Always") {
        errs.push(FieldError::not_supported(
            &tp.child("spec").child("restartPolicy"),
            restart,
            &["Always"],
        ));
    }
    if template
        .pointer("/spec/activeDeadlineSeconds")
        .is_some_and(|v| !v.is_null())
    {
        errs.push(FieldError::forbidden(
            &tp.child("spec").child("activeDeadlineSeconds"),
            format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
}

/// `replicas` and `minReadySeconds` may not be negative.
pub fn common_counts(spec: &Value, errs: &mut Errs) {
    non_negative(int(spec, "replicas"), &spec_path().child("replicas"), errs);
    non_negative(
        int(spec, "minReadySeconds"),
        &spec_path().child("minReadySeconds"),
        errs,
    );
}

/// Validates a ReplicaSet spec (also the shared part of Deployments).
pub fn validate_replica_set(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    common_counts(spec, errs);
    label_selector(spec, "deployment", errs);
    if template_matches(spec, errs) {
        controller_template(spec, "ReplicaSet", errs);
    }
}

/// Validates a Deployment spec.
pub fn validate_deployment(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    non_negative(int(spec, "replicas"), &spec_path().child("replicas"), errs);
    label_selector(spec, "deployment", errs);
    if template_matches(spec, errs) {
        controller_template(spec, "ReplicaSet", errs);
    }
    let strategy = spec.get("strategy").unwrap_or(&Value::Null);
    let sp = spec_path().child("strategy");
    let rolling = strategy.get("rollingUpdate").filter(|v| !v.is_null());
    match s(strategy, "type") {
        "Recreate" if rolling.is_some() => errs.push(FieldError::forbidden(
            &sp.child("rollingUpdate"),
            "may not be specified when strategy `type` is 'Recreate'",
        )),
        "Recreate" => {}
        "RollingUpdate" => match rolling {
            None => errs.push(FieldError::required(
                &sp.child("rollingUpdate"),
                "this should be defaulted and never be nil",
            )),
            Some(ru) => {
                let rp = sp.child("rollingUpdate");
                let (mu, ms) = (&ru["maxUnavailable"], &ru["maxSurge"]);
                int_or_percent(mu, &rp.child("maxUnavailable"), errs);
                int_or_percent(ms, &rp.child("maxSurge"), errs);
                if int_or_percent_value(mu) == 0 && int_or_percent_value(ms) == 0 {
                    errs.push(FieldError::invalid(
                        &rp.child("maxUnavailable"),
                        mu.clone(),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                not_more_than_100_percent(mu, &rp.child("maxUnavailable"), errs);
            }
        },
        _ => errs.push(FieldError::not_supported(
            &sp,
            strategy.clone(),
            &["Recreate", "RollingUpdate"],
        )),
    }
    non_negative(
        int(spec, "minReadySeconds"),
        &spec_path().child("minReadySeconds"),
        errs,
    );
    non_negative(
        int(spec, "revisionHistoryLimit"),
        &spec_path().child("revisionHistoryLimit"),
        errs,
    );
    if let Some(pd) = int(spec, "progressDeadlineSeconds") {
        let pp = spec_path().child("progressDeadlineSeconds");
        non_negative(Some(pd), &pp, errs);
        if pd <= int(spec, "minReadySeconds").unwrap_or(0) {
            errs.push(FieldError::invalid(
                &pp,
                json!(pd),
                "must be greater than minReadySeconds",
            ));
        }
    }
}

/// Validates a ReplicationController spec.
pub fn validate_replication_controller(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    non_negative(
        int(spec, "minReadySeconds"),
        &spec_path().child("minReadySeconds"),
        errs,
    );
    let sel = spec.get("selector").unwrap_or(&Value::Null);
    if sel.as_object().is_none_or(|m| m.is_empty()) {
        errs.push(FieldError::required(&spec_path().child("selector"), ""));
    }
    non_negative(int(spec, "replicas"), &spec_path().child("replicas"), errs);
    let tp = spec_path().child("template");
    let Some(template) = spec.get("template").filter(|t| !t.is_null()) else {
        return errs.push(FieldError::required(&tp, ""));
    };
    let labels = template.pointer("/metadata/labels");
    if sel.as_object().is_some_and(|m| !m.is_empty()) && !map_selector_matches(sel, labels) {
        errs.push(FieldError::invalid(
            &tp.child("metadata").child("labels"),
            labels.cloned().unwrap_or(json!({})),
            "`selector` does not match template `labels`",
        ));
    }
    validate_template(template, &tp, errs);
    always_restart(template, "ReplicationController", &tp, errs);
}

/// Checks that `spec.selector` did not change (Deployments, ReplicaSets, DaemonSets in apps/v1).
pub fn validate_selector_unchanged(new: &Value, old: &Value, errs: &mut Errs) {
    immutable(
        new["spec"].get("selector"),
        old["spec"].get("selector"),
        &spec_path().child("selector"),
        errs,
    );
}

/// Validates a ControllerRevision.
pub fn validate_controller_revision(obj: &Value, errs: &mut Errs) {
    if !has(obj, "data") {
        errs.push(FieldError::required(
            &Path::new("data"),
            "data is mandatory",
        ));
    }
    non_negative(int(obj, "revision"), &Path::new("revision"), errs);
}

/// Checks a ControllerRevision update: its data is fixed.
pub fn validate_controller_revision_update(new: &Value, old: &Value, errs: &mut Errs) {
    immutable(new.get("data"), old.get("data"), &Path::new("data"), errs);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run;
    use crate::strategy::test_support::test_template as template;

    fn deployment() -> Value {
        json!({"spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": template(json!({"app": "web"})),
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600}})
    }

    #[test]
    fn a_defaulted_deployment_is_valid() {
        assert!(run(validate_deployment, deployment()).is_empty());
    }

    #[test]
    fn deployment_selector_and_replicas() {
        let mut d = deployment();
        d["spec"]["replicas"] = json!(-1);
        d["spec"]["selector"] = json!({"matchLabels": {"app": "db"}});
        assert_eq!(run(validate_deployment, &d), vec![
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
        ]);
        d["spec"]["selector"] = Value::Null;
        d["spec"]["replicas"] = json!(1);
        assert_eq!(
            run(validate_deployment, &d)[0],
            "spec.selector: Required value"
        );
    }

    #[test]
    fn deployment_strategy() {
        let mut d = deployment();
        d["spec"]["strategy"]["rollingUpdate"] = json!({"maxUnavailable": 0, "maxSurge": "0%"});
        assert_eq!(run(validate_deployment, &d), vec!["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"]);
        d["spec"]["strategy"] = json!({"type": "Recreate", "rollingUpdate": {}});
        assert_eq!(run(validate_deployment, &d), vec!["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]);
    }

    #[test]
    fn controllers_require_always_restart() {
        let mut rs = json!({"spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": template(json!({"app": "web"}))}});
        rs["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
        assert_eq!(run(validate_replica_set, &rs), vec!["spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""]);
        let rc = json!({"spec": {"replicas": 1, "selector": {}, "template": template(json!({"app": "web"}))}});
        assert_eq!(
            run(validate_replication_controller, &rc),
            vec!["spec.selector: Required value"]
        );
    }

    #[test]
    fn selectors_are_immutable() {
        let mut errs = Errs::new();
        let new = json!({"spec": {"selector": {"matchLabels": {"app": "b"}}}});
        validate_selector_unchanged(&new, &deployment(), &mut errs);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec.selector");
        assert_eq!(errs[0].detail, "field is immutable");
    }
}
