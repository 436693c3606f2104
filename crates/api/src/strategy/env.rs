//! Container environment checks: variable names, `valueFrom` sources and `envFrom`.

use super::names::{config_map_key, env_var_name, NameRule};
use super::value::{arr, s, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

const RESOURCE_FIELDS: &[&str] = &[
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

/// Validates a container's `env` list.
pub fn env(c: &Value, path: &Path, errs: &mut Errs) {
    for (i, e) in arr(c, "env").iter().enumerate() {
        let p = path.index(i);
        let name = s(e, "name");
        if name.is_empty() {
            errs.push(FieldError::required(&p.child("name"), ""));
        } else {
            for msg in env_var_name(name) {
                errs.push(FieldError::invalid(&p.child("name"), json!(name), msg));
            }
        }
        if let Some(from) = e.get("valueFrom").filter(|v| !v.is_null()) {
            value_from(from, !s(e, "value").is_empty(), &p.child("valueFrom"), errs);
        }
    }
}

fn value_from(from: &Value, has_value: bool, p: &Path, errs: &mut Errs) {
    let mut n = 0;
    if let Some(f) = from.get("fieldRef").filter(|v| !v.is_null()) {
        n += 1;
        let fp = p.child("fieldRef");
        let field_path = s(f, "fieldPath");
        if s(f, "apiVersion").is_empty() {
            errs.push(FieldError::required(&fp.child("apiVersion"), ""));
        } else if field_path.is_empty() {
            errs.push(FieldError::required(&fp.child("fieldPath"), ""));
        } else if let Some((base, _)) = field_path.split_once('[') {
            if base != "metadata.labels" && base != "metadata.annotations" {
                errs.push(FieldError::invalid(
                    &fp,
                    json!(base),
                    "does not support subscript",
                ));
            }
        } else if !ENV_FIELD_PATHS.contains(&field_path) {
            errs.push(FieldError::not_supported(
                &fp.child("fieldPath"),
                json!(field_path),
                ENV_FIELD_PATHS,
            ));
        }
    }
    if let Some(r) = from.get("resourceFieldRef").filter(|v| !v.is_null()) {
        n += 1;
        let res = s(r, "resource");
        let rp = p.child("resourceFieldRef");
        if res.is_empty() {
            errs.push(FieldError::required(&rp.child("resource"), ""));
        } else if !RESOURCE_FIELDS.contains(&res)
            && !res.starts_with("requests.hugepages-")
            && !res.starts_with("limits.hugepages-")
        {
            errs.push(FieldError::not_supported(
                &rp.child("resource"),
                json!(res),
                RESOURCE_FIELDS,
            ));
        }
    }
    for field in ["configMapKeyRef", "secretKeyRef"] {
        if let Some(sel) = from.get(field).filter(|v| !v.is_null()) {
            n += 1;
            let sp = p.child(field);
            for msg in NameRule::Subdomain.check(s(sel, "name"), false) {
                errs.push(FieldError::invalid(
                    &sp.child("name"),
                    json!(s(sel, "name")),
                    msg,
                ));
            }
            let key = s(sel, "key");
            if key.is_empty() {
                errs.push(FieldError::required(&sp.child("key"), ""));
            } else {
                for msg in config_map_key(key) {
                    errs.push(FieldError::invalid(&sp.child("key"), json!(key), msg));
                }
            }
        }
    }
    let msg = match n {
        0 => "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        _ if has_value => "may not be specified when `value` is not empty",
        1 => return,
        _ => "may not have more than one field specified at a time",
    };
    errs.push(FieldError::invalid(p, json!(""), msg));
}

/// Validates a container's `envFrom` list.
pub fn env_from(c: &Value, path: &Path, errs: &mut Errs) {
    for (i, e) in arr(c, "envFrom").iter().enumerate() {
        let p = path.index(i);
        let prefix = s(e, "prefix");
        if !prefix.is_empty() {
            for msg in env_var_name(prefix) {
                errs.push(FieldError::invalid(&p.child("prefix"), json!(prefix), msg));
            }
        }
        let mut n = 0;
        for field in ["configMapRef", "secretRef"] {
            if let Some(r) = e.get(field).filter(|v| !v.is_null()) {
                n += 1;
                let name = s(r, "name");
                if name.is_empty() {
                    errs.push(FieldError::required(&p.child(field).child("name"), ""));
                } else {
                    for msg in NameRule::Subdomain.check(name, true) {
                        errs.push(FieldError::invalid(
                            &p.child(field).child("name"),
                            json!(name),
                            msg,
                        ));
                    }
                }
            }
        }
        match n {
            0 => errs.push(FieldError::invalid(
                path,
                json!(""),
                "must specify one of: `configMapRef` or `secretRef`",
            )),
            1 => {}
            _ => errs.push(FieldError::invalid(
                path,
                json!(""),
                "may not have more than one field specified at a time",
            )),
        }
    }
}
