//! PersistentVolume checks and update rules.

use super::meta::{immutable, semantic_eq};
use super::storage::{access_modes, class_and_mode, positive_quantity};
use super::value::{arr, has, map, s, Errs, Path};
use super::volume_paths::no_backsteps;
use crate::FieldError;
use serde_json::{json, Value};

const PV_SOURCES: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "flocker",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "scaleIO",
    "local",
    "storageos",
    "csi",
];

/// Validates a PersistentVolume.
pub fn validate_pv(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let path = Path::new("spec");
    if arr(spec, "accessModes").is_empty() {
        errs.push(FieldError::required(&path.child("accessModes"), ""));
    }
    access_modes(spec, &path, errs);
    let capacity = map(spec, "capacity");
    if capacity.is_none_or(|c| c.is_empty()) {
        errs.push(FieldError::required(&path.child("capacity"), ""));
    }
    if capacity.is_none_or(|c| !c.contains_key("storage") || c.len() > 1) {
        let shown = spec.get("capacity").cloned().unwrap_or(json!({}));
        errs.push(FieldError::not_supported(
            &path.child("capacity"),
            shown,
            &["storage"],
        ));
    }
    for (k, q) in capacity.into_iter().flatten() {
        positive_quantity(q, &path.child("capacity").key(k), errs);
    }
    let policy = s(spec, "persistentVolumeReclaimPolicy");
    if !policy.is_empty() && !["Delete", "Recycle", "Retain"].contains(&policy) {
        errs.push(FieldError::not_supported(
            &path.child("persistentVolumeReclaimPolicy"),
            json!(policy),
            &["Delete", "Recycle", "Retain"],
        ));
    }
    let mut count = 0;
    for key in PV_SOURCES.iter().copied().filter(|k| has(spec, k)) {
        if count > 0 {
            errs.push(FieldError::forbidden(
                &path.child(key),
                "may not specify more than 1 volume type",
            ));
            continue;
        }
        count += 1;
        let src = &spec[key];
        match key {
            "hostPath" | "local" => {
                if s(src, "path").is_empty() {
                    errs.push(FieldError::required(&path.child(key).child("path"), ""));
                } else {
                    no_backsteps(s(src, "path"), &path.child(key).child("path"), errs);
                }
            }
            "nfs" => {
                for f in ["server", "path"] {
                    if s(src, f).is_empty() {
                        errs.push(FieldError::required(&path.child(key).child(f), ""));
                    }
                }
            }
            "csi" => {
                for f in ["driver", "volumeHandle"] {
                    if s(src, f).is_empty() {
                        errs.push(FieldError::required(&path.child(key).child(f), ""));
                    }
                }
            }
            _ => {}
        }
    }
    if count == 0 {
        errs.push(FieldError::required(&path, "must specify a volume type"));
    }
    class_and_mode(spec, &path, errs);
}

/// Checks a volume update: its source and volume mode are fixed.
pub fn validate_pv_update(new: &Value, old: &Value, errs: &mut Errs) {
    let (ns, os) = (&new["spec"], &old["spec"]);
    if PV_SOURCES.iter().any(|k| !semantic_eq(&ns[*k], &os[*k])) {
        errs.push(FieldError::forbidden(
            &Path::new("spec").child("persistentvolumesource"),
            "spec.persistentvolumesource is immutable after creation",
        ));
    }
    immutable(
        ns.get("volumeMode"),
        os.get("volumeMode"),
        &Path::new("volumeMode"),
        errs,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run;

    #[test]
    fn volumes_need_one_source_and_capacity() {
        assert_eq!(
            run(
                validate_pv,
                json!({"spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}})
            ),
            vec!["spec: Required value: must specify a volume type",]
        );
        assert_eq!(
            run(
                validate_pv,
                json!({"spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}, "hostPath": {"path": "/d"}, "nfs": {"server": "s", "path": "/p"}}})
            ),
            vec!["spec.nfs: Forbidden: may not specify more than 1 volume type"]
        );
    }
}
