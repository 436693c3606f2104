//! DaemonSet checks.

use super::labels::{selector_is_empty, selector_matches, validate_selector};
use super::meta::non_negative;
use super::pod::validate_template;
use super::value::{int, s, Errs};
use super::workloads::{
    always_restart, int_or_percent, int_or_percent_value, mismatch, not_more_than_100_percent,
    spec_path,
};
use crate::FieldError;
use serde_json::Value;

/// Validates a DaemonSet spec.
pub fn validate_daemon_set(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let sel = spec.get("selector").unwrap_or(&Value::Null);
    if !sel.is_null() {
        validate_selector(sel, &spec_path().child("selector"), errs);
    }
    if selector_matches(sel, spec.pointer("/template/metadata/labels")) == Some(false) {
        mismatch(spec.pointer("/template/metadata/labels"), errs);
    }
    if !sel.is_null() && selector_is_empty(sel) {
        errs.push(FieldError::invalid(
            &spec_path().child("selector"),
            sel.clone(),
            "empty selector is invalid for daemonset",
        ));
    }
    let tp = spec_path().child("template");
    let template = spec.get("template").unwrap_or(&Value::Null);
    validate_template(template, &tp, errs);
    always_restart(template, "DaemonSet", &tp, errs);
    non_negative(
        int(spec, "minReadySeconds"),
        &spec_path().child("minReadySeconds"),
        errs,
    );
    let strategy = spec.get("updateStrategy").unwrap_or(&Value::Null);
    let up = spec_path().child("updateStrategy");
    match s(strategy, "type") {
        "OnDelete" => {}
        "RollingUpdate" => match strategy.get("rollingUpdate").filter(|v| !v.is_null()) {
            None => errs.push(FieldError::required(&up.child("rollingUpdate"), "")),
            Some(ru) => {
                let rp = up.child("rollingUpdate");
                let (mu, ms) = (&ru["maxUnavailable"], &ru["maxSurge"]);
                int_or_percent(mu, &rp.child("maxUnavailable"), errs);
                int_or_percent(ms, &rp.child("maxSurge"), errs);
                not_more_than_100_percent(mu, &rp.child("maxUnavailable"), errs);
                not_more_than_100_percent(ms, &rp.child("maxSurge"), errs);
                match (int_or_percent_value(mu) != 0, int_or_percent_value(ms) != 0) {
                    (true, true) => errs.push(FieldError::invalid(
                        &rp.child("maxSurge"),
                        ms.clone(),
                        "may not be set when maxUnavailable is non-zero",
                    )),
                    (false, false) => errs.push(FieldError::required(
                        &rp.child("maxUnavailable"),
                        "cannot be 0 when maxSurge is 0",
                    )),
                    _ => {}
                }
            }
        },
        _ => errs.push(FieldError::not_supported(
            &up,
            strategy.clone(),
            &["RollingUpdate", "OnDelete"],
        )),
    }
    non_negative(
        int(spec, "revisionHistoryLimit"),
        &spec_path().child("revisionHistoryLimit"),
        errs,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run;
    use crate::strategy::test_support::test_template as template;
    use serde_json::json;

    #[test]
    fn daemon_set_strategy() {
        let ds = json!({"spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template(json!({"app": "web"})),
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}}});
        assert_eq!(run(validate_daemon_set, &ds), vec!["spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"]);
    }
}
