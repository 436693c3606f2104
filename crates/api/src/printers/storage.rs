//! Tables for PersistentVolumes, PersistentVolumeClaims and StorageClasses.

use super::format::{age, list_at, name, str_at, text};
use super::{col, wide, Column, Printer, AGE, NAME};
use chrono::{DateTime, Utc};
use serde_json::Value;

const CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";

/// Upstream's `GetAccessModesAsString`: `RWO,ROX,RWX,RWOP` in that order.
fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    let pairs = [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ];
    let short: Vec<&str> = pairs
        .iter()
        .filter(|(m, _)| has(m))
        .map(|(_, s)| *s)
        .collect();
    short.join(",")
}

/// A stored quantity string, or `0` when absent.
fn quantity(obj: &Value, pointer: &str) -> String {
    match obj.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".to_string(),
    }
}

/// The storage class from the beta annotation, else `spec.storageClassName`.
fn storage_class(obj: &Value) -> String {
    let annotations = obj
        .pointer("/metadata/annotations")
        .and_then(Value::as_object);
    match annotations
        .and_then(|a| a.get(CLASS_ANNOTATION))
        .and_then(Value::as_str)
    {
        Some(class) => class.to_string(),
        None => str_at(obj, "/spec/storageClassName").to_string(),
    }
}

fn optional(obj: &Value, pointer: &str) -> Value {
    text(
        obj.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("<unset>"),
    )
}

/// The phase, or `Terminating` once deletion started.
fn phase(obj: &Value) -> Value {
    if obj
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        text("Terminating")
    } else {
        text(str_at(obj, "/status/phase"))
    }
}

static PV_COLUMNS: &[Column] = &[
    NAME,
    col("Capacity", "string", "capacity is the description of the persistent volume's resources and capacity."),
    col("Access Modes", "string", "accessModes contains all ways the volume can be mounted."),
    col("Reclaim Policy", "string", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim."),
    col("Status", "string", "phase indicates if a volume is available, bound to a claim, or released by a claim."),
    col("Claim", "string", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."),
    col("StorageClass", "string", "StorageClass of the pv"),
    col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
    col("Reason", "string", "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI."),
    AGE,
    wide("VolumeMode", "string", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state."),
];

fn pv_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let claim = match obj.pointer("/spec/claimRef") {
        Some(r) if r.is_object() => format!("{}/{}", str_at(r, "/namespace"), str_at(r, "/name")),
        _ => String::new(),
    };
    vec![
        name(obj),
        text(quantity(obj, "/spec/capacity/storage")),
        text(access_modes(list_at(obj, "/spec/accessModes"))),
        text(str_at(obj, "/spec/persistentVolumeReclaimPolicy")),
        phase(obj),
        text(claim),
        text(storage_class(obj)),
        optional(obj, "/spec/volumeAttributesClassName"),
        text(str_at(obj, "/status/reason")),
        age(obj, now),
        optional(obj, "/spec/volumeMode"),
    ]
}

/// The PersistentVolume printer.
pub(crate) static PERSISTENT_VOLUME: Printer = Printer {
    columns: PV_COLUMNS,
    row: pv_row,
};

static PVC_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Status",
        "string",
        "phase represents the current phase of PersistentVolumeClaim.",
    ),
    col(
        "Volume",
        "string",
        "volumeName is the binding reference to the PersistentVolume backing this claim.",
    ),
    col(
        "Capacity",
        "string",
        "capacity represents the actual resources of the underlying volume.",
    ),
    col(
        "Access Modes",
        "string",
        "accessModes contains the actual access modes the volume backing the PVC has.",
    ),
    col("StorageClass", "string", "StorageClass of the pvc"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pvc",
    ),
    AGE,
    wide(
        "VolumeMode",
        "string",
        "volumeMode defines what type of volume is required by the claim.",
    ),
];

fn pvc_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let volume = str_at(obj, "/spec/volumeName");
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        let modes = access_modes(list_at(obj, "/status/accessModes"));
        (quantity(obj, "/status/capacity/storage"), modes)
    };
    vec![
        name(obj),
        phase(obj),
        text(volume),
        text(capacity),
        text(modes),
        text(storage_class(obj)),
        optional(obj, "/spec/volumeAttributesClassName"),
        age(obj, now),
        optional(obj, "/spec/volumeMode"),
    ]
}

/// The PersistentVolumeClaim printer.
pub(crate) static PERSISTENT_VOLUME_CLAIM: Printer = Printer {
    columns: PVC_COLUMNS,
    row: pvc_row,
};

static STORAGE_CLASS_COLUMNS: &[Column] = &[
    NAME,
    col("Provisioner", "string", "provisioner indicates the type of the provisioner."),
    col("ReclaimPolicy", "string", "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete."),
    col("VolumeBindingMode", "string", "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used."),
    col("AllowVolumeExpansion", "string", "allowVolumeExpansion shows whether the storage class allow volume expand."),
    AGE,
];

/// Whether either default-class annotation is `"true"`.
fn is_default_class(obj: &Value) -> bool {
    let annotations = obj
        .pointer("/metadata/annotations")
        .and_then(Value::as_object);
    [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|k| annotations.and_then(|a| a.get(*k)).and_then(Value::as_str) == Some("true"))
}

fn storage_class_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let mut shown = str_at(obj, "/metadata/name").to_string();
    if is_default_class(obj) {
        shown.push_str(" (default)");
    }
    let or = |pointer: &str, default: &str| match str_at(obj, pointer) {
        "" => text(default),
        v => text(v),
    };
    let expansion = obj
        .get("allowVolumeExpansion")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    vec![
        text(shown),
        text(str_at(obj, "/provisioner")),
        or("/reclaimPolicy", "Delete"),
        or("/volumeBindingMode", "Immediate"),
        Value::Bool(expansion),
        age(obj, now),
    ]
}

/// The StorageClass printer.
pub(crate) static STORAGE_CLASS: Printer = Printer {
    columns: STORAGE_CLASS_COLUMNS,
    row: storage_class_row,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::test_support::now;
    use serde_json::json;

    #[test]
    fn bound_volume_and_claim_show_capacity_modes_and_class() {
        let pv = json!({"metadata": {"name": "pv-1", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "local",
                "claimRef": {"namespace": "default", "name": "data"}, "volumeMode": "Filesystem"},
            "status": {"phase": "Bound"}});
        assert_eq!(
            pv_row(&pv, now()),
            [
                json!("pv-1"),
                json!("10Gi"),
                json!("RWO,RWX"),
                json!("Retain"),
                json!("Bound"),
                json!("default/data"),
                json!("local"),
                json!("<unset>"),
                json!(""),
                json!("60m"),
                json!("Filesystem")
            ]
        );

        let pvc = json!({"metadata": {"name": "data", "creationTimestamp": "2024-05-01T11:00:00Z",
                "annotations": {CLASS_ANNOTATION: "legacy"}},
            "spec": {"volumeName": "pv-1", "storageClassName": "local"},
            "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"]}});
        assert_eq!(
            pvc_row(&pvc, now())[..6],
            [
                json!("data"),
                json!("Bound"),
                json!("pv-1"),
                json!("10Gi"),
                json!("RWO"),
                json!("legacy")
            ]
        );
        let pending = json!({"metadata": {"name": "p", "deletionTimestamp": "2024-05-01T11:59:00Z"},
            "spec": {}, "status": {"phase": "Pending"}});
        assert_eq!(
            pvc_row(&pending, now())[1..5],
            [json!("Terminating"), json!(""), json!(""), json!("")]
        );
    }

    #[test]
    fn default_storage_class_is_marked_and_defaults_filled() {
        let sc = json!({"metadata": {"name": "local-path", "creationTimestamp": "2024-05-01T11:59:50Z",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path"});
        assert_eq!(
            storage_class_row(&sc, now()),
            [
                json!("local-path (default)"),
                json!("rancher.io/local-path"),
                json!("Delete"),
                json!("Immediate"),
                json!(false),
                json!("10s")
            ]
        );
    }
}
