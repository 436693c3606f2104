//! Toleration and taint checks.

use super::labels::validate_label_name;
use super::names::label_value;
use super::value::{has, s, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// Validates `tolerations`.
pub fn validate_tolerations(list: &[Value], path: &Path, errs: &mut Errs) {
    for (i, t) in list.iter().enumerate() {
        let p = path.index(i);
        let (key, op, value, effect) =
            (s(t, "key"), s(t, "operator"), s(t, "value"), s(t, "effect"));
        if !key.is_empty() {
            validate_label_name(key, &p.child("key"), errs);
        }
        if key.is_empty() && op != "Exists" {
            errs.push(FieldError::invalid(&p.child("operator"), json!(op), "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
        }
        if has(t, "tolerationSeconds") && effect != "NoExecute" {
            errs.push(FieldError::invalid(
                &p.child("effect"),
                json!(effect),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match op {
            "Equal" | "" => {
                let msgs = label_value(value);
                if !msgs.is_empty() {
                    errs.push(FieldError::invalid(
                        &p.child("operator"),
                        json!(value),
                        msgs.join(";"),
                    ));
                }
            }
            "Exists" if !value.is_empty() => errs.push(FieldError::invalid(
                &p.child("operator"),
                json!(value),
                "value must be empty when `operator` is 'Exists'",
            )),
            "Exists" => {}
            _ => errs.push(FieldError::not_supported(
                &p.child("operator"),
                json!(op),
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() && !TAINT_EFFECTS.contains(&effect) {
            errs.push(FieldError::not_supported(
                &p.child("effect"),
                json!(effect),
                TAINT_EFFECTS,
            ));
        }
    }
}

/// Validates node taints (`spec.taints` of a Node).
pub fn validate_taints(list: &[Value], path: &Path, errs: &mut Errs) {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let p = path.index(i);
        let (key, effect) = (s(t, "key"), s(t, "effect"));
        validate_label_name(key, &p.child("key"), errs);
        let msgs = label_value(s(t, "value"));
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &p.child("value"),
                json!(s(t, "value")),
                msgs.join(";"),
            ));
        }
        if effect.is_empty() {
            errs.push(FieldError::required(&p.child("effect"), ""));
        } else if !TAINT_EFFECTS.contains(&effect) {
            errs.push(FieldError::not_supported(
                &p.child("effect"),
                json!(effect),
                TAINT_EFFECTS,
            ));
        }
        if seen.contains(&(key, effect)) {
            let mut e = FieldError::duplicate(&p, t.clone());
            e.detail = "taints must be unique by key and effect pair".into();
            errs.push(e);
            continue;
        }
        seen.push((key, effect));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run_list as run;

    #[test]
    fn tolerations() {
        assert_eq!(run(validate_tolerations, json!([{"operator": "Equal", "value": "v"}, {"key": "k", "operator": "Maybe"}, {"key": "k", "operator": "Exists", "tolerationSeconds": 5, "effect": "NoSchedule"}])), vec![
            "x[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            "x[1].operator: Unsupported value: \"Maybe\": supported values: \"Equal\", \"Exists\"",
            "x[2].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
        ]);
    }

    #[test]
    fn taints_are_unique_by_key_and_effect() {
        let got = run(
            validate_taints,
            json!([{"key": "a", "effect": "NoSchedule"}, {"key": "a", "effect": "NoSchedule"}, {"key": "b"}]),
        );
        assert_eq!(got.len(), 2);
        assert!(got[0].starts_with("x[1]: Duplicate value:"));
        assert!(got[0].ends_with("taints must be unique by key and effect pair"));
        assert_eq!(got[1], "x[2].effect: Required value");
    }
}
