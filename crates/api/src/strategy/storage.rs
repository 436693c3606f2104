//! PersistentVolumeClaim and StorageClass checks and defaults.

use super::labels::validate_selector;
use super::meta::{diff_lines, immutable, semantic_eq};
use super::names::{dns1123_subdomain, qualified_name};
use super::quantity::{parse_value, Quantity, QUANTITY_FORMAT};
use super::value::{arr, s, set_default_str, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];
const VOLUME_MODES: &[&str] = &["Block", "Filesystem"];
/// Checks `accessModes` values and the ReadWriteOncePod exclusivity.
pub fn access_modes(spec: &Value, path: &Path, errs: &mut Errs) {
    let (mut rwop, mut other) = (false, false);
    for mode in arr(spec, "accessModes") {
        let m = mode.as_str().unwrap_or("");
        if !ACCESS_MODES.contains(&m) {
            errs.push(FieldError::not_supported(
                &path.child("accessModes"),
                mode.clone(),
                ACCESS_MODES,
            ));
        } else if m == "ReadWriteOncePod" {
            rwop = true;
        } else {
            other = true;
        }
    }
    if rwop && other {
        errs.push(FieldError::forbidden(
            &path.child("accessModes"),
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
}

/// Checks `storageClassName` and `volumeMode`.
pub fn class_and_mode(spec: &Value, path: &Path, errs: &mut Errs) {
    let class = s(spec, "storageClassName");
    if !class.is_empty() {
        for msg in dns1123_subdomain(class) {
            errs.push(FieldError::invalid(
                &path.child("storageClassName"),
                json!(class),
                msg,
            ));
        }
    }
    if let Some(mode) = spec.get("volumeMode").filter(|m| !m.is_null()) {
        if !VOLUME_MODES.contains(&mode.as_str().unwrap_or("")) {
            errs.push(FieldError::not_supported(
                &path.child("volumeMode"),
                mode.clone(),
                VOLUME_MODES,
            ));
        }
    }
}

/// A quantity that must parse and be above zero.
pub fn positive_quantity(q: &Value, path: &Path, errs: &mut Errs) {
    match parse_value(q) {
        None => errs.push(FieldError::invalid(path, q.clone(), QUANTITY_FORMAT)),
        Some(v) if v <= Quantity::ZERO => errs.push(FieldError::invalid(
            path,
            q.clone(),
            "must be greater than zero",
        )),
        Some(_) => {}
    }
}

/// Validates a PersistentVolumeClaim spec (also used for claim templates).
pub fn validate_pvc_spec(spec: &Value, path: &Path, errs: &mut Errs) {
    if arr(spec, "accessModes").is_empty() {
        errs.push(FieldError::required(
            &path.child("accessModes"),
            "at least 1 access mode is required",
        ));
    }
    if let Some(sel) = spec.get("selector").filter(|v| !v.is_null()) {
        validate_selector(sel, &path.child("selector"), errs);
    }
    access_modes(spec, path, errs);
    match spec.pointer("/resources/requests/storage") {
        None => errs.push(FieldError::required(
            &path.child("resources").key("storage"),
            "",
        )),
        Some(q) => positive_quantity(q, &path.child("resources").key("storage"), errs),
    }
    class_and_mode(spec, path, errs);
    for field in ["dataSource", "dataSourceRef"] {
        let Some(ds) = spec.get(field).filter(|v| v.is_object()) else {
            continue;
        };
        let p = path.child(field);
        for f in ["name", "kind"] {
            if s(ds, f).is_empty() {
                errs.push(FieldError::required(&p.child(f), ""));
            }
        }
        if s(ds, "apiGroup").is_empty() && s(ds, "kind") != "PersistentVolumeClaim" {
            errs.push(FieldError::invalid(
                &p,
                json!(s(ds, "kind")),
                "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
            ));
        }
    }
}

/// Validates a PersistentVolumeClaim.
pub fn validate_pvc(obj: &Value, errs: &mut Errs) {
    validate_pvc_spec(
        obj.get("spec").unwrap_or(&Value::Null),
        &Path::new("spec"),
        errs,
    );
}

/// Checks a claim update: the spec is fixed except `volumeName` once and storage growth when bound.
pub fn validate_pvc_update(new: &Value, old: &Value, errs: &mut Errs) {
    let (ns, os) = (&new["spec"], &old["spec"]);
    let mut munged = ns.clone();
    if s(os, "volumeName").is_empty() {
        set_or_remove(&mut munged, "volumeName", os.get("volumeName"));
    }
    if new.pointer("/status/phase").and_then(Value::as_str) == Some("Bound") {
        if let (Some(m), Some(old_storage)) = (
            munged.pointer_mut("/resources/requests"),
            os.pointer("/resources/requests/storage"),
        ) {
            if let Some(m) = m.as_object_mut() {
                m.insert("storage".into(), old_storage.clone());
            }
        }
    }
    if !semantic_eq(&munged, os) {
        errs.push(FieldError::forbidden(
            &Path::new("spec"),
            format!("spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n{}", diff_lines(os, &munged)),
        ));
    }
    let new_size = ns
        .pointer("/resources/requests/storage")
        .and_then(parse_value);
    let old_size = os
        .pointer("/resources/requests/storage")
        .and_then(parse_value);
    if let (Some(n), Some(o)) = (new_size, old_size) {
        if n < o {
            errs.push(FieldError::forbidden(
                &Path::new("spec")
                    .child("resources")
                    .child("requests")
                    .child("storage"),
                "field can not be less than previous value",
            ));
        }
    }
    immutable(
        ns.get("volumeMode"),
        os.get("volumeMode"),
        &Path::new("volumeMode"),
        errs,
    );
}

fn set_or_remove(obj: &mut Value, key: &str, val: Option<&Value>) {
    if let Some(m) = obj.as_object_mut() {
        match val {
            Some(v) => m.insert(key.to_string(), v.clone()),
            None => m.remove(key),
        };
    }
}

/// Validates a StorageClass.
pub fn validate_storage_class(obj: &Value, errs: &mut Errs) {
    let provisioner = s(obj, "provisioner");
    let p = Path::new("provisioner");
    if provisioner.is_empty() {
        errs.push(FieldError::required(&p, ""));
    } else {
        for msg in qualified_name(&provisioner.to_lowercase()) {
            errs.push(FieldError::invalid(
                &p,
                json!(provisioner.to_lowercase()),
                msg,
            ));
        }
    }
    if let Some(policy) = obj.get("reclaimPolicy").filter(|v| !v.is_null()) {
        if !["Delete", "Retain"].contains(&policy.as_str().unwrap_or("")) {
            errs.push(FieldError::not_supported(
                &Path::new("reclaimPolicy"),
                policy.clone(),
                &["Delete", "Retain"],
            ));
        }
    }
    match obj.get("volumeBindingMode").filter(|v| !v.is_null()) {
        None => errs.push(FieldError::required(&Path::new("volumeBindingMode"), "")),
        Some(m) if !["Immediate", "WaitForFirstConsumer"].contains(&m.as_str().unwrap_or("")) => {
            errs.push(FieldError::not_supported(
                &Path::new("volumeBindingMode"),
                m.clone(),
                &["Immediate", "WaitForFirstConsumer"],
            ))
        }
        Some(_) => {}
    }
}

/// Checks a StorageClass update: parameters, provisioner, reclaim policy and binding mode are fixed.
pub fn validate_storage_class_update(new: &Value, old: &Value, errs: &mut Errs) {
    if !semantic_eq(&new["parameters"], &old["parameters"]) {
        errs.push(FieldError::forbidden(
            &Path::new("parameters"),
            "updates to parameters are forbidden.",
        ));
    }
    if s(new, "provisioner") != s(old, "provisioner") {
        errs.push(FieldError::forbidden(
            &Path::new("provisioner"),
            "updates to provisioner are forbidden.",
        ));
    }
    if s(new, "reclaimPolicy") != s(old, "reclaimPolicy") {
        errs.push(FieldError::forbidden(
            &Path::new("reclaimPolicy"),
            "updates to reclaimPolicy are forbidden.",
        ));
    }
    immutable(
        new.get("volumeBindingMode"),
        old.get("volumeBindingMode"),
        &Path::new("volumeBindingMode"),
        errs,
    );
}

/// Defaults of claims, volumes and storage classes.
pub fn default_pvc_spec(spec: &mut Value) {
    set_default_str(spec, "volumeMode", "Filesystem");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run;

    #[test]
    fn claims_need_modes_and_storage() {
        assert_eq!(
            run(validate_pvc, json!({"spec": {}})),
            vec![
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value",
            ]
        );
        assert_eq!(
            run(validate_pvc, json!({"spec": {"accessModes": ["ReadWriteOnce", "Everyone"], "resources": {"requests": {"storage": "0"}}}})),
            vec![
                "spec.accessModes: Unsupported value: \"Everyone\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
                "spec.resources[storage]: Invalid value: \"0\": must be greater than zero",
            ]
        );
    }

    #[test]
    fn claim_spec_is_immutable_except_storage_growth() {
        let old = json!({"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}, "status": {"phase": "Bound"}});
        let mut grown = old.clone();
        grown["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
        grown["spec"]["volumeName"] = json!("pv-1");
        let mut errs = Errs::new();
        validate_pvc_update(&grown, &old, &mut errs);
        assert!(errs.is_empty(), "{errs:?}");
        let mut changed = old.clone();
        changed["spec"]["accessModes"] = json!(["ReadWriteMany"]);
        validate_pvc_update(&changed, &old, &mut errs);
        assert_eq!(errs.len(), 1);
        assert!(errs[0]
            .to_string()
            .starts_with("spec: Forbidden: spec is immutable after creation"));
    }

    #[test]
    fn storage_classes() {
        assert_eq!(run(validate_storage_class, json!({"volumeBindingMode": "Later"})), vec![
            "provisioner: Required value",
            "volumeBindingMode: Unsupported value: \"Later\": supported values: \"Immediate\", \"WaitForFirstConsumer\"",
        ]);
        let mut errs = Errs::new();
        validate_storage_class_update(
            &json!({"provisioner": "b"}),
            &json!({"provisioner": "a"}),
            &mut errs,
        );
        assert_eq!(
            errs[0].to_string(),
            "provisioner: Forbidden: updates to provisioner are forbidden."
        );
    }
}
