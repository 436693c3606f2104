//! Paths and file modes inside volumes: key-to-path items, downward API files and projections.

use super::value::{arr, has, int, s, Errs, Path};
use super::volume::required;
use crate::FieldError;
use serde_json::{json, Value};

const FILE_MODE: &str = "must be a number between 0 and 0777 (octal), both inclusive";

/// `must be a number between 0 and 0777` for modes out of range.
pub fn file_mode(src: &Value, field: &str, p: &Path, errs: &mut Errs) {
    if let Some(m) = int(src, field).filter(|m| !(0..=0o777).contains(m)) {
        errs.push(FieldError::invalid(&p.child(field), json!(m), FILE_MODE));
    }
}

/// Validates `items` key-to-path entries of secret and configMap sources.
pub fn key_to_paths(src: &Value, items_path: &Path, errs: &mut Errs) {
    for (i, item) in arr(src, "items").iter().enumerate() {
        let p = items_path.index(i);
        required(item, "key", &p, errs);
        required(item, "path", &p, errs);
        local_non_reserved_path(s(item, "path"), &p.child("path"), errs);
        file_mode(item, "mode", &p, errs);
    }
}

/// Validates one downward API file: path, one field source, mode.
pub fn downward_api_file(item: &Value, p: &Path, errs: &mut Errs) {
    required(item, "path", p, errs);
    local_non_reserved_path(s(item, "path"), &p.child("path"), errs);
    match (has(item, "fieldRef"), has(item, "resourceFieldRef")) {
        (true, true) => errs.push(FieldError::invalid(
            p,
            json!("resource"),
            "fieldRef and resourceFieldRef can not be specified simultaneously",
        )),
        (false, false) => errs.push(FieldError::required(
            p,
            "one of fieldRef and resourceFieldRef is required",
        )),
        _ => {}
    }
    file_mode(item, "mode", p, errs);
}

/// Validates a projected volume and each of its sources.
pub fn projected(src: &Value, p: &Path, errs: &mut Errs) {
    file_mode(src, "defaultMode", p, errs);
    for (i, source) in arr(src, "sources").iter().enumerate() {
        let sp = p.child("sources").index(i);
        let mut n = 0;
        if let Some(sec) = source.get("secret").filter(|v| !v.is_null()) {
            n += 1;
            required(sec, "name", &sp.child("secret"), errs);
            key_to_paths(sec, &sp.child("secret").child("items"), errs);
        }
        if let Some(cm) = source.get("configMap").filter(|v| !v.is_null()) {
            n += 1;
            required(cm, "name", &sp.child("configMap"), errs);
            key_to_paths(cm, &sp.child("configMap").child("items"), errs);
        }
        if let Some(d) = source.get("downwardAPI").filter(|v| !v.is_null()) {
            n += 1;
            for item in arr(d, "items") {
                downward_api_file(item, &sp.child("downwardAPI"), errs);
            }
        }
        if let Some(t) = source.get("serviceAccountToken").filter(|v| !v.is_null()) {
            n += 1;
            let tp = sp.child("serviceAccountToken").child("expirationSeconds");
            let exp = int(t, "expirationSeconds").unwrap_or(0);
            if exp < 600 {
                errs.push(FieldError::invalid(
                    &tp,
                    json!(exp),
                    "may not specify a duration less than 10 minutes",
                ));
            }
            if exp > 1 << 32 {
                errs.push(FieldError::invalid(
                    &tp,
                    json!(exp),
                    "may not specify a duration larger than 2^32 seconds",
                ));
            }
            if s(t, "path").is_empty() {
                errs.push(FieldError::required(&p.child("path"), ""));
            } else {
                local_non_reserved_path(s(t, "path"), &p.child("path"), errs);
            }
        }
        if has(source, "clusterTrustBundle") {
            n += 1;
        }
        if n > 1 {
            errs.push(FieldError::forbidden(
                &sp,
                "may not specify more than 1 volume type per source",
            ));
        }
    }
}

/// `must not contain '..'` when a path element is `..`.
pub fn no_backsteps(target: &str, p: &Path, errs: &mut Errs) {
    if target
        .replace('\\', "/")
        .split('/')
        .any(|part| part == "..")
    {
        errs.push(FieldError::invalid(
            p,
            json!(target),
            "must not contain '..'",
        ));
    }
}

/// A relative path without `..` elements.
pub fn local_descending_path(target: &str, p: &Path, errs: &mut Errs) {
    if target.starts_with('/') {
        errs.push(FieldError::invalid(
            p,
            json!(target),
            "must be a relative path",
        ));
    }
    no_backsteps(target, p, errs);
}

/// A relative path without `..` elements that does not start with `..`.
pub fn local_non_reserved_path(target: &str, p: &Path, errs: &mut Errs) {
    local_descending_path(target, p, errs);
    if target.starts_with("..") && !target.starts_with("../") {
        errs.push(FieldError::invalid(
            p,
            json!(target),
            "must not start with '..'",
        ));
    }
}
