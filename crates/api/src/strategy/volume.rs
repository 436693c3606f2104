//! Pod volume checks: unique names, exactly one source, and each source's required fields.

use super::names::{dns1123_label, dns1123_subdomain};
use super::quantity::parse_value;
use super::storage::validate_pvc_spec;
use super::value::{arr, has, s, Errs, Path};
use super::volume_paths::{
    downward_api_file, file_mode, key_to_paths, local_descending_path, no_backsteps, projected,
};
use crate::FieldError;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Valid volumes of a pod spec by name.
pub type Volumes<'a> = HashMap<&'a str, &'a Value>;

/// Volume source fields in upstream's checking order.
const SOURCES: &[&str] = &[
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "cinder",
    "cephfs",
    "quobyte",
    "downwardAPI",
    "fc",
    "flexVolume",
    "configMap",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "storageos",
    "projected",
    "scaleIO",
    "csi",
    "ephemeral",
    "image",
];

const HOST_PATH_TYPES: &[&str] = &[
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
];

/// Validates `volumes` and returns the valid ones by name.
pub fn validate_volumes<'a>(vols: &'a [Value], path: &Path, errs: &mut Errs) -> Volumes<'a> {
    let mut valid = Volumes::new();
    let mut names: Vec<&str> = Vec::new();
    for (i, vol) in vols.iter().enumerate() {
        let p = path.index(i);
        let mut el = Errs::new();
        validate_source(vol, &p, &mut el);
        let name = s(vol, "name");
        if name.is_empty() {
            el.push(FieldError::required(&p.child("name"), ""));
        } else {
            for msg in dns1123_label(name) {
                el.push(FieldError::invalid(&p.child("name"), json!(name), msg));
            }
        }
        if names.contains(&name) {
            el.push(FieldError::duplicate(&p.child("name"), json!(name)));
        }
        if el.is_empty() {
            names.push(name);
            valid.insert(name, vol);
        } else {
            errs.append(&mut el);
        }
    }
    valid
}

fn validate_source(vol: &Value, path: &Path, errs: &mut Errs) {
    let mut count = 0;
    for key in SOURCES.iter().copied().filter(|k| has(vol, k)) {
        if count > 0 {
            let shown = if key == "downwardAPI" {
                "downwarAPI"
            } else {
                key
            };
            errs.push(FieldError::forbidden(
                &path.child(shown),
                "may not specify more than 1 volume type",
            ));
            continue;
        }
        count += 1;
        let src = &vol[key];
        let p = path.child(key);
        match key {
            "emptyDir"
                if src
                    .get("sizeLimit")
                    .and_then(parse_value)
                    .is_some_and(|q| q.is_negative()) =>
            {
                errs.push(FieldError::forbidden(
                    &p.child("sizeLimit"),
                    "SizeLimit field must be a valid resource quantity",
                ));
            }
            "hostPath" => host_path(src, &p, errs),
            "gitRepo" => {
                required(src, "repository", &p, errs);
                local_descending_path(s(src, "directory"), &p.child("directory"), errs);
            }
            "secret" => {
                required(src, "secretName", &p, errs);
                file_mode(src, "defaultMode", &p, errs);
                key_to_paths(src, &p.child("items"), errs);
            }
            "configMap" => {
                required(src, "name", &p, errs);
                file_mode(src, "defaultMode", &p, errs);
                key_to_paths(src, &p.child("items"), errs);
            }
            "persistentVolumeClaim" => required(src, "claimName", &p, errs),
            "nfs" => {
                required(src, "server", &p, errs);
                required(src, "path", &p, errs);
                if !s(src, "path").starts_with('/') {
                    errs.push(FieldError::invalid(
                        &p.child("path"),
                        json!(s(src, "path")),
                        "must be an absolute path",
                    ));
                }
            }
            "iscsi" => {
                required(src, "targetPortal", &p, errs);
                required(src, "iqn", &p, errs);
            }
            "downwardAPI" => {
                file_mode(src, "defaultMode", &p, errs);
                for item in arr(src, "items") {
                    downward_api_file(item, &p, errs);
                }
            }
            "projected" => projected(src, &p, errs),
            "csi" => csi_driver(s(src, "driver"), &p.child("driver"), errs),
            "ephemeral" => match src.get("volumeClaimTemplate").filter(|t| t.is_object()) {
                None => errs.push(FieldError::required(&p.child("volumeClaimTemplate"), "")),
                Some(t) => {
                    let tp = p.child("volumeClaimTemplate");
                    let spec = t.get("spec").unwrap_or(&Value::Null);
                    validate_pvc_spec(spec, &tp.child("spec"), errs);
                }
            },
            _ => {}
        }
    }
    if count == 0 {
        errs.push(FieldError::required(path, "must specify a volume type"));
    }
}

/// `Required value` when the string field is empty.
pub fn required(src: &Value, field: &str, path: &Path, errs: &mut Errs) {
    if s(src, field).is_empty() {
        errs.push(FieldError::required(&path.child(field), ""));
    }
}

fn host_path(src: &Value, p: &Path, errs: &mut Errs) {
    let path = s(src, "path");
    if path.is_empty() {
        errs.push(FieldError::required(&p.child("path"), ""));
        return;
    }
    no_backsteps(path, &p.child("path"), errs);
    if let Some(t) = src.get("type").and_then(Value::as_str) {
        if !HOST_PATH_TYPES.contains(&t) {
            errs.push(FieldError::not_supported(
                &p.child("type"),
                json!(t),
                HOST_PATH_TYPES,
            ));
        }
    }
}

fn csi_driver(driver: &str, p: &Path, errs: &mut Errs) {
    if driver.is_empty() {
        errs.push(FieldError::required(p, ""));
    }
    if driver.len() > 63 {
        errs.push(FieldError::too_long(p, 63));
    }
    for msg in dns1123_subdomain(&driver.to_lowercase()) {
        errs.push(FieldError::invalid(p, json!(driver), msg));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(vols: Value) -> (Vec<String>, usize) {
        let mut errs = Errs::new();
        let list = vols.as_array().cloned().unwrap_or_default();
        let valid = validate_volumes(&list, &Path::new("spec").child("volumes"), &mut errs).len();
        (errs.iter().map(ToString::to_string).collect(), valid)
    }

    #[test]
    fn names_must_be_unique_labels() {
        let (errs, valid) = check(json!([
            {"name": "a", "emptyDir": {}}, {"name": "a", "emptyDir": {}}, {"name": "B", "emptyDir": {}}]));
        assert_eq!(valid, 1);
        assert_eq!(errs[0], "spec.volumes[1].name: Duplicate value: \"a\"");
        assert!(errs[1]
            .starts_with("spec.volumes[2].name: Invalid value: \"B\": a lowercase RFC 1123 label"));
    }

    #[test]
    fn exactly_one_source() {
        let (errs, _) = check(
            json!([{"name": "a"}, {"name": "b", "emptyDir": {}, "secret": {"secretName": "s"}}]),
        );
        assert_eq!(
            errs,
            vec![
                "spec.volumes[0]: Required value: must specify a volume type",
                "spec.volumes[1].secret: Forbidden: may not specify more than 1 volume type",
            ]
        );
    }

    #[test]
    fn source_fields_are_checked() {
        let (errs, _) = check(json!([
            {"name": "a", "secret": {"defaultMode": 1000, "items": [{"key": "k", "path": "../x"}]}},
            {"name": "b", "hostPath": {"path": "/x", "type": "Weird"}},
            {"name": "c", "persistentVolumeClaim": {}}]));
        assert_eq!(errs, vec![
            "spec.volumes[0].secret.secretName: Required value",
            "spec.volumes[0].secret.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive",
            "spec.volumes[0].secret.items[0].path: Invalid value: \"../x\": must not contain '..'",
            "spec.volumes[1].hostPath.type: Unsupported value: \"Weird\": supported values: \"\", \"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", \"FileOrCreate\", \"Socket\"",
            "spec.volumes[2].persistentVolumeClaim.claimName: Required value",
        ]);
    }
}
