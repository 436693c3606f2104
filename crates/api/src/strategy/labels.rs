//! Label, annotation and label-selector checks, and selector matching.

use super::names::{label_value, qualified_name};
use super::value::{arr, map, s, str_list, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

/// Total annotation size limit (keys plus values).
pub const TOTAL_ANNOTATION_SIZE: usize = 256 * 1024;

/// Validates a label map (keys are qualified names, values label values); errors name the map path.
pub fn validate_labels(labels: Option<&Value>, path: &Path, errs: &mut Errs) {
    let Some(m) = labels.and_then(Value::as_object) else {
        return;
    };
    for (k, v) in m {
        validate_label_name(k, path, errs);
        let v = v.as_str().unwrap_or("");
        for msg in label_value(v) {
            errs.push(FieldError::invalid(path, json!(v), msg));
        }
    }
}

/// Validates a label key.
pub fn validate_label_name(key: &str, path: &Path, errs: &mut Errs) {
    for msg in qualified_name(key) {
        errs.push(FieldError::invalid(path, json!(key), msg));
    }
}

/// Validates annotation keys (case-insensitive qualified names) and their total size.
pub fn validate_annotations(ann: Option<&Value>, path: &Path, errs: &mut Errs) {
    let Some(m) = ann.and_then(Value::as_object) else {
        return;
    };
    let mut total = 0usize;
    for (k, v) in m {
        for msg in qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path, json!(k), msg));
        }
        total += k.len() + v.as_str().map_or(0, str::len);
    }
    if total > TOTAL_ANNOTATION_SIZE {
        errs.push(FieldError::too_long(path, TOTAL_ANNOTATION_SIZE));
    }
}

/// Validates a `metav1.LabelSelector`.
pub fn validate_selector(sel: &Value, path: &Path, errs: &mut Errs) {
    if !sel.is_object() {
        return;
    }
    validate_labels(sel.get("matchLabels"), &path.child("matchLabels"), errs);
    for (i, expr) in arr(sel, "matchExpressions").iter().enumerate() {
        let p = path.child("matchExpressions").index(i);
        let values = arr(expr, "values");
        match s(expr, "operator") {
            "In" | "NotIn" if values.is_empty() => errs.push(FieldError::required(
                &p.child("values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::forbidden(
                &p.child("values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            op => errs.push(FieldError::invalid(
                &p.child("operator"),
                json!(op),
                "not a valid selector operator",
            )),
        }
        validate_label_name(s(expr, "key"), &p.child("key"), errs);
        for (j, v) in values.iter().enumerate() {
            let v = v.as_str().unwrap_or("");
            for msg in label_value(v) {
                errs.push(FieldError::invalid(
                    &p.child("values").index(j),
                    json!(v),
                    msg,
                ));
            }
        }
    }
}

/// Whether a selector has no requirements at all.
pub fn selector_is_empty(sel: &Value) -> bool {
    map(sel, "matchLabels").is_none_or(|m| m.is_empty()) && arr(sel, "matchExpressions").is_empty()
}

/// Whether a `metav1.LabelSelector` matches `labels`; `None` when the selector cannot be converted.
pub fn selector_matches(sel: &Value, labels: Option<&Value>) -> Option<bool> {
    if sel.is_null() {
        return Some(false);
    }
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let mut ok = true;
    if let Some(m) = map(sel, "matchLabels") {
        for (k, v) in m {
            ok &= get(k) == Some(v.as_str()?);
        }
    }
    for expr in arr(sel, "matchExpressions") {
        let key = s(expr, "key");
        let values = str_list(expr, "values");
        ok &= match s(expr, "operator") {
            "In" if !values.is_empty() => get(key).is_some_and(|v| values.contains(&v)),
            "NotIn" if !values.is_empty() => get(key).is_none_or(|v| !values.contains(&v)),
            "Exists" if values.is_empty() => get(key).is_some(),
            "DoesNotExist" if values.is_empty() => get(key).is_none(),
            _ => return None,
        };
    }
    Some(ok)
}

/// Whether a plain `map[string]string` selector matches `labels` (an empty selector matches all).
pub fn map_selector_matches(sel: &Value, labels: Option<&Value>) -> bool {
    sel.as_object().is_none_or(|m| {
        m.iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_errors_name_the_map_and_show_the_bad_part() {
        let mut errs = Errs::new();
        let labels = json!({"bad key!": "ok", "app": "-bad"});
        validate_labels(
            Some(&labels),
            &Path::new("metadata").child("labels"),
            &mut errs,
        );
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].field, "metadata.labels");
        assert_eq!(errs[0].value, Some(json!("bad key!")));
        assert!(errs[0].detail.starts_with("name part must consist"));
        assert_eq!(errs[1].value, Some(json!("-bad")));
        assert!(errs[1]
            .detail
            .starts_with("a valid label must be an empty string"));
    }

    #[test]
    fn annotations_are_case_insensitive_and_limited_in_size() {
        let mut errs = Errs::new();
        let ann = json!({"Example.COM/Key": "x", "big": "a".repeat(TOTAL_ANNOTATION_SIZE)});
        validate_annotations(
            Some(&ann),
            &Path::new("metadata").child("annotations"),
            &mut errs,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].to_string(),
            "metadata.annotations: Too long: may not be more than 262144 bytes"
        );
    }

    #[test]
    fn selector_operators_are_checked() {
        let mut errs = Errs::new();
        let sel = json!({"matchExpressions": [
            {"key": "a", "operator": "In"},
            {"key": "b", "operator": "Exists", "values": ["x"]},
            {"key": "c", "operator": "Near", "values": ["x"]}]});
        validate_selector(&sel, &Path::new("spec").child("selector"), &mut errs);
        let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(got, vec![
            "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
            "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            "spec.selector.matchExpressions[2].operator: Invalid value: \"Near\": not a valid selector operator",
        ]);
    }

    #[test]
    fn selectors_match_labels() {
        let labels = json!({"app": "web", "tier": "fe"});
        let sel = json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}]});
        assert_eq!(selector_matches(&sel, Some(&labels)), Some(true));
        assert_eq!(
            selector_matches(&json!({"matchLabels": {"app": "db"}}), Some(&labels)),
            Some(false)
        );
        assert_eq!(selector_matches(&json!({}), None), Some(true));
        assert_eq!(
            selector_matches(
                &json!({"matchExpressions": [{"key": "a", "operator": "In"}]}),
                None
            ),
            None
        );
        assert!(selector_is_empty(&json!({"matchLabels": {}})));
        assert!(map_selector_matches(&json!({"app": "web"}), Some(&labels)));
        assert!(!map_selector_matches(&json!({"app": "x"}), Some(&labels)));
    }
}
