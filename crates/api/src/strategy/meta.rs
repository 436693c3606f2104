//! `metadata` checks on create and update, as upstream's ObjectMeta validation.

use super::labels::{validate_annotations, validate_labels};
use super::names::{qualified_name, NameRule};
use super::value::{arr, int, s, str_list, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

/// Upstream's message for a changed immutable field.
pub const IMMUTABLE: &str = "field is immutable";

/// Finalizer names that need no domain prefix.
const STANDARD_FINALIZERS: &[&str] = &["kubernetes", "orphan", "foregroundDeletion"];

/// Validates `metadata` of a new object.
pub fn validate_object_meta(obj: &Value, namespaced: bool, rule: NameRule, errs: &mut Errs) {
    let meta = obj.get("metadata").unwrap_or(&Value::Null);
    let path = Path::new("metadata");
    let generate_name = s(meta, "generateName");
    if !generate_name.is_empty() {
        for msg in rule.check(generate_name, true) {
            errs.push(FieldError::invalid(
                &path.child("generateName"),
                json!(generate_name),
                msg,
            ));
        }
    }
    let name = s(meta, "name");
    if name.is_empty() {
        errs.push(FieldError::required(
            &path.child("name"),
            "name or generateName is required",
        ));
    } else {
        for msg in rule.check(name, false) {
            errs.push(FieldError::invalid(&path.child("name"), json!(name), msg));
        }
    }
    let ns = s(meta, "namespace");
    if namespaced {
        if ns.is_empty() {
            errs.push(FieldError::required(&path.child("namespace"), ""));
        } else {
            for msg in NameRule::Label.check(ns, false) {
                errs.push(FieldError::invalid(
                    &path.child("namespace"),
                    json!(ns),
                    msg,
                ));
            }
        }
    } else if !ns.is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("namespace"),
            "not allowed on this type",
        ));
    }
    if let Some(g) = int(meta, "generation").filter(|g| *g < 0) {
        errs.push(FieldError::invalid(
            &path.child("generation"),
            json!(g),
            NEGATIVE,
        ));
    }
    validate_meta_maps(meta, &path, errs);
    validate_owner_references(meta, &path.child("ownerReferences"), errs);
    validate_finalizers(meta, &path.child("finalizers"), errs);
}

/// `must be greater than or equal to 0`.
pub const NEGATIVE: &str = "must be greater than or equal to 0";

/// Adds the negative-number error when `v` is below zero.
pub fn non_negative(v: Option<i64>, path: &Path, errs: &mut Errs) {
    if let Some(n) = v.filter(|n| *n < 0) {
        errs.push(FieldError::invalid(path, json!(n), NEGATIVE));
    }
}

fn validate_meta_maps(meta: &Value, path: &Path, errs: &mut Errs) {
    validate_labels(meta.get("labels"), &path.child("labels"), errs);
    validate_annotations(meta.get("annotations"), &path.child("annotations"), errs);
}

fn validate_owner_references(meta: &Value, path: &Path, errs: &mut Errs) {
    let mut first_controller = String::new();
    let refs = arr(meta, "ownerReferences");
    for r in refs {
        let api_version = s(r, "apiVersion");
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        if version.is_empty() {
            errs.push(FieldError::invalid(
                &path.child("apiVersion"),
                json!(api_version),
                "version must not be empty",
            ));
        }
        for field in ["kind", "name", "uid"] {
            if s(r, field).is_empty() {
                errs.push(FieldError::invalid(
                    &path.child(field),
                    json!(s(r, field)),
                    "must not be empty",
                ));
            }
        }
        if group.is_empty() && version == "v1" && s(r, "kind") == "Event" {
            errs.push(FieldError::invalid(
                path,
                r.clone(),
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if r.get("controller").and_then(Value::as_bool) == Some(true) {
            let current = format!("{}/{}", s(r, "kind"), s(r, "name"));
            if first_controller.is_empty() {
                first_controller = current;
            } else {
                errs.push(FieldError::invalid(
                    path,
                    Value::Array(refs.to_vec()),
                    format!("Only one reference can have Controller set to true. Found \"true\" in references for {first_controller} and {current}"),
                ));
            }
        }
    }
}

fn validate_finalizers(meta: &Value, path: &Path, errs: &mut Errs) {
    let finalizers = str_list(meta, "finalizers");
    for (i, f) in finalizers.iter().enumerate() {
        for msg in qualified_name(f) {
            errs.push(FieldError::invalid(path, json!(f), msg));
        }
        if !f.contains('/') && !STANDARD_FINALIZERS.contains(f) {
            errs.push(FieldError::invalid(
                &path.index(i),
                json!(f),
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    if finalizers.contains(&"orphan") && finalizers.contains(&"foregroundDeletion") {
        errs.push(FieldError::invalid(
            path,
            json!(finalizers),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
}

/// Validates `metadata` changes on update: identity fields are immutable, generation only grows.
pub fn validate_object_meta_update(new: &Value, old: &Value, errs: &mut Errs) {
    let nm = new.get("metadata").unwrap_or(&Value::Null);
    let om = old.get("metadata").unwrap_or(&Value::Null);
    let path = Path::new("metadata");
    if om.get("deletionTimestamp").is_some_and(|t| !t.is_null()) {
        let old_f = str_list(om, "finalizers");
        let mut extra: Vec<&str> = str_list(nm, "finalizers")
            .into_iter()
            .filter(|f| !old_f.contains(f))
            .collect();
        extra.sort_unstable();
        extra.dedup();
        if !extra.is_empty() {
            let list: Vec<String> = extra.iter().map(|f| format!("{f:?}")).collect();
            errs.push(FieldError::forbidden(
                &path.child("finalizers"),
                format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                    list.join(", ")
                ),
            ));
        }
    }
    let (ng, og) = (
        int(nm, "generation").unwrap_or(0),
        int(om, "generation").unwrap_or(0),
    );
    if ng < og {
        errs.push(FieldError::invalid(
            &path.child("generation"),
            json!(ng),
            "must not be decremented",
        ));
    }
    for field in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        immutable(nm.get(field), om.get(field), &path.child(field), errs);
    }
}

/// Adds `field is immutable` when the values differ (absent, null and empty count as equal).
pub fn immutable(new: Option<&Value>, old: Option<&Value>, path: &Path, errs: &mut Errs) {
    if !semantic_eq(new.unwrap_or(&Value::Null), old.unwrap_or(&Value::Null)) {
        errs.push(FieldError::invalid(
            path,
            new.cloned().unwrap_or(Value::Null),
            IMMUTABLE,
        ));
    }
}

/// Whether a JSON value is what Go would treat as a zero value (null, "", 0, false, [], {}).
pub fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.values().all(is_zero),
    }
}

/// Equality as upstream's semantic DeepEqual sees decoded objects: absent and zero values are equal.
pub fn semantic_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.iter()
                .all(|(k, v)| y.get(k).map_or_else(|| is_zero(v), |w| semantic_eq(v, w)))
                && y.iter().all(|(k, w)| x.contains_key(k) || is_zero(w))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| semantic_eq(v, w))
        }
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ if is_zero(a) && is_zero(b) => true,
        _ => a == b,
    }
}

/// A short listing of the top-level fields that differ, for "may not change" messages.
pub fn diff_lines(old: &Value, new: &Value) -> String {
    let empty = serde_json::Map::new();
    let (o, n) = (
        old.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for k in keys {
        let (a, b) = (
            o.get(k).unwrap_or(&Value::Null),
            n.get(k).unwrap_or(&Value::Null),
        );
        if !semantic_eq(a, b) {
            out.push(format!("-  {k}: {a}"));
            out.push(format!("+  {k}: {b}"));
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs_of(obj: Value, namespaced: bool, rule: NameRule) -> Vec<String> {
        let mut errs = Errs::new();
        validate_object_meta(&obj, namespaced, rule, &mut errs);
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn name_is_required_and_checked() {
        assert_eq!(
            errs_of(
                json!({"metadata": {"namespace": "default"}}),
                true,
                NameRule::Subdomain
            ),
            vec!["metadata.name: Required value: name or generateName is required"]
        );
        let got = errs_of(
            json!({"metadata": {"name": "Bad_Name", "namespace": "default"}}),
            true,
            NameRule::Subdomain,
        );
        assert_eq!(got.len(), 1);
        assert!(got[0].starts_with("metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of"));
    }

    #[test]
    fn namespace_rules_follow_scope() {
        assert_eq!(
            errs_of(
                json!({"metadata": {"name": "a"}}),
                true,
                NameRule::Subdomain
            ),
            vec!["metadata.namespace: Required value"]
        );
        assert_eq!(
            errs_of(
                json!({"metadata": {"name": "a", "namespace": "x"}}),
                false,
                NameRule::Subdomain
            ),
            vec!["metadata.namespace: Forbidden: not allowed on this type"]
        );
    }

    #[test]
    fn owner_references_and_finalizers() {
        let got = errs_of(
            json!({"metadata": {"name": "a", "ownerReferences": [{"apiVersion": "apps/", "kind": "", "name": "x", "uid": "u"}],
                   "finalizers": ["custom", "example.com/f"]}}),
            false,
            NameRule::Subdomain,
        );
        assert_eq!(got, vec![
            "metadata.ownerReferences.apiVersion: Invalid value: \"apps/\": version must not be empty",
            "metadata.ownerReferences.kind: Invalid value: \"\": must not be empty",
            "metadata.finalizers[0]: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified",
        ]);
    }

    #[test]
    fn update_keeps_identity() {
        let old = json!({"metadata": {"name": "a", "uid": "1", "generation": 3}});
        let new = json!({"metadata": {"name": "b", "uid": "1", "generation": 2}});
        let mut errs = Errs::new();
        validate_object_meta_update(&new, &old, &mut errs);
        let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            vec![
                "metadata.generation: Invalid value: 2: must not be decremented",
                "metadata.name: Invalid value: \"b\": field is immutable",
            ]
        );
    }

    #[test]
    fn semantic_equality_ignores_empty_values() {
        assert!(semantic_eq(&json!({"a": [], "b": 1}), &json!({"b": 1.0})));
        assert!(semantic_eq(&json!({"x": {"y": null}}), &json!({})));
        assert!(!semantic_eq(&json!({"a": [1]}), &json!({})));
        assert!(!semantic_eq(&json!("a"), &json!("b")));
    }
}
