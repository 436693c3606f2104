//! Per-kind strategies: defaulting, create/update preparation and validation, like upstream's
//! registry strategies.

mod batch;
mod cluster;
mod config;
mod container;
mod cron;
mod cron_job;
mod daemon_set;
mod defaults;
mod endpoints;
mod env;
mod ingress;
mod labels;
mod meta;
mod misc;
mod names;
mod net;
mod network_policy;
mod pod;
mod pod_defaults;
mod pod_scheduling;
mod pod_update;
mod prepare;
mod probe;
mod pv;
mod quantity;
mod quota;
mod rbac;
mod security;
mod service;
mod service_defaults;
mod service_ips;
mod stateful_set;
mod storage;
mod taints;
#[cfg(test)]
mod test_support;
mod value;
mod volume;
mod volume_paths;
mod workloads;

pub use cron::parse_schedule;
pub use names::NameRule;
pub use quantity::{parse as parse_quantity, qos_class, Quantity};

use crate::{FieldError, ResourceType};
use serde_json::{json, Value};
use value::Errs;

/// Fills defaults as upstream's defaulting functions do (pod spec, deployment strategy, …).
pub fn default(rt: &ResourceType, obj: &mut Value) {
    defaults::apply(rt, obj);
}

/// Prepares a new object before validation: drops or resets status where upstream does.
pub fn prepare_for_create(rt: &ResourceType, obj: &mut Value) {
    prepare::create(rt, obj);
    omit_empty_metadata(obj);
}

/// Prepares an update of the main resource: keeps the old status where the kind has a status
/// subresource, bumps `metadata.generation` when the spec changed.
pub fn prepare_for_update(rt: &ResourceType, new: &mut Value, old: &Value) {
    prepare::update(rt, new, &defaulted(rt, old));
    omit_empty_metadata(new);
}

/// Drops empty metadata lists and maps, as upstream's `omitempty` encoding does (a released
/// object has no `ownerReferences`, not an empty list).
fn omit_empty_metadata(obj: &mut Value) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in ["ownerReferences", "finalizers", "labels", "annotations"] {
            let empty = match m.get(key) {
                Some(Value::Array(a)) => a.is_empty(),
                Some(Value::Object(o)) => o.is_empty(),
                Some(Value::Null) => true,
                _ => false,
            };
            if empty {
                m.remove(key);
            }
        }
    }
}

/// Prepares an update through `/status`: keeps everything but status (and the metadata
/// upstream lets status writers change) from the old object.
pub fn prepare_for_status_update(rt: &ResourceType, new: &mut Value, old: &Value) {
    prepare::status_update(rt, new, old);
}

/// Validates an object being created, including its metadata.
pub fn validate(rt: &ResourceType, obj: &Value) -> Vec<FieldError> {
    let mut errs = Errs::new();
    if !check_shape(obj, &mut errs) {
        return errs;
    }
    validate_object(rt, obj, true, &mut errs);
    errs
}

/// Validates an update: everything `validate` checks plus immutable fields.
pub fn validate_update(rt: &ResourceType, new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Errs::new();
    if !check_shape(new, &mut errs) {
        return errs;
    }
    let old = defaulted(rt, old);
    if name_rule(rt).is_some() {
        meta::validate_object_meta_update(new, &old, &mut errs);
    }
    validate_object(rt, new, false, &mut errs);
    validate_kind_update(rt, new, &old, &mut errs);
    errs
}

/// The stored object with today's defaults applied, as upstream sees it after decoding from
/// storage; comparisons against it do not flag fields that only defaulting added.
fn defaulted(rt: &ResourceType, old: &Value) -> Value {
    let mut old = if old.is_object() {
        old.clone()
    } else {
        json!({})
    };
    defaults::apply(rt, &mut old);
    old
}

/// How `metadata.name` of a kind is checked; `None` where upstream skips metadata checks.
pub fn name_rule(rt: &ResourceType) -> Option<NameRule> {
    match (rt.group, rt.kind) {
        ("", "Event" | "Binding") => None,
        ("", "Namespace") | ("apps", "StatefulSet") => Some(NameRule::Label),
        ("", "Service") => Some(NameRule::Dns1035),
        ("rbac.authorization.k8s.io", _) => Some(NameRule::PathSegment),
        _ => Some(NameRule::Subdomain),
    }
}

fn check_shape(obj: &Value, errs: &mut Errs) -> bool {
    if !obj.is_object() {
        errs.push(FieldError::invalid(
            "",
            obj.clone(),
            "must be a JSON object",
        ));
        return false;
    }
    if obj
        .get("metadata")
        .is_some_and(|m| !m.is_object() && !m.is_null())
    {
        errs.push(FieldError::invalid(
            "metadata",
            obj["metadata"].clone(),
            "must be an object",
        ));
        return false;
    }
    true
}

fn validate_object(rt: &ResourceType, obj: &Value, creating: bool, errs: &mut Errs) {
    if let Some(rule) = name_rule(rt) {
        meta::validate_object_meta(obj, rt.namespaced, rule, errs);
    }
    match (rt.group, rt.kind) {
        ("", "Pod") => {
            pod::validate_pod(obj, errs);
            if creating {
                pod::validate_pod_create(obj, errs);
            }
        }
        ("", "Binding") => pod::validate_binding(obj, errs),
        ("", "PodTemplate") => pod::validate_pod_template_object(obj, errs),
        ("", "ReplicationController") => workloads::validate_replication_controller(obj, errs),
        ("apps", "Deployment") => workloads::validate_deployment(obj, errs),
        ("apps", "ReplicaSet") => workloads::validate_replica_set(obj, errs),
        ("apps", "DaemonSet") => daemon_set::validate_daemon_set(obj, errs),
        ("apps", "StatefulSet") => stateful_set::validate_stateful_set(obj, errs),
        ("apps", "ControllerRevision") => workloads::validate_controller_revision(obj, errs),
        ("batch", "Job") => batch::validate_job(obj, errs),
        ("batch", "CronJob") => cron_job::validate_cron_job(obj, errs),
        ("", "Service") => service::validate_service(obj, errs),
        ("", "Endpoints") => endpoints::validate_endpoints(obj, errs),
        ("discovery.k8s.io", "EndpointSlice") => endpoints::validate_endpoint_slice(obj, errs),
        ("", "ConfigMap") => config::validate_config_map(obj, errs),
        ("", "Secret") => config::validate_secret(obj, errs),
        ("", "Namespace") => cluster::validate_namespace(obj, errs),
        ("", "Node") => cluster::validate_node(obj, errs),
        ("", "LimitRange") => quota::validate_limit_range(obj, errs),
        ("", "ResourceQuota") => quota::validate_resource_quota(obj, errs),
        ("", "PersistentVolumeClaim") => storage::validate_pvc(obj, errs),
        ("", "PersistentVolume") => pv::validate_pv(obj, errs),
        ("storage.k8s.io", "StorageClass") => storage::validate_storage_class(obj, errs),
        ("", "Event") => misc::validate_event(obj, false, false, errs),
        ("events.k8s.io", "Event") => misc::validate_event(obj, true, creating, errs),
        ("coordination.k8s.io", "Lease") => misc::validate_lease(obj, errs),
        ("scheduling.k8s.io", "PriorityClass") => misc::validate_priority_class(obj, errs),
        ("policy", "PodDisruptionBudget") => misc::validate_pdb(obj, errs),
        ("networking.k8s.io", "Ingress") => ingress::validate_ingress(obj, errs),
        ("networking.k8s.io", "IngressClass") => ingress::validate_ingress_class(obj, errs),
        ("networking.k8s.io", "NetworkPolicy") => {
            network_policy::validate_network_policy(obj, errs)
        }
        ("rbac.authorization.k8s.io", "Role") => rbac::validate_role(obj, true, errs),
        ("rbac.authorization.k8s.io", "ClusterRole") => rbac::validate_role(obj, false, errs),
        ("rbac.authorization.k8s.io", "RoleBinding") => rbac::validate_binding(obj, true, errs),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            rbac::validate_binding(obj, false, errs)
        }
        _ => {}
    }
}

fn validate_kind_update(rt: &ResourceType, new: &Value, old: &Value, errs: &mut Errs) {
    match (rt.group, rt.kind) {
        ("", "Pod") => pod_update::validate_pod_update(new, old, errs),
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet") => {
            workloads::validate_selector_unchanged(new, old, errs)
        }
        ("apps", "StatefulSet") => stateful_set::validate_stateful_set_update(new, old, errs),
        ("apps", "ControllerRevision") => {
            workloads::validate_controller_revision_update(new, old, errs)
        }
        ("batch", "Job") => batch::validate_job_update(new, old, errs),
        ("", "Service") => service_ips::validate_service_update(new, old, errs),
        ("", "ConfigMap") => config::validate_config_map_update(new, old, errs),
        ("", "Secret") => config::validate_secret_update(new, old, errs),
        ("", "Node") => cluster::validate_node_update(new, old, errs),
        ("", "ResourceQuota") => quota::validate_resource_quota_update(new, old, errs),
        ("", "PersistentVolumeClaim") => storage::validate_pvc_update(new, old, errs),
        ("", "PersistentVolume") => pv::validate_pv_update(new, old, errs),
        ("storage.k8s.io", "StorageClass") => {
            storage::validate_storage_class_update(new, old, errs)
        }
        ("discovery.k8s.io", "EndpointSlice") => {
            endpoints::validate_endpoint_slice_update(new, old, errs)
        }
        ("events.k8s.io", "Event") => misc::validate_event_update(new, old, errs),
        ("scheduling.k8s.io", "PriorityClass") => {
            misc::validate_priority_class_update(new, old, errs)
        }
        ("networking.k8s.io", "IngressClass") => {
            ingress::validate_ingress_class_update(new, old, errs)
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            rbac::validate_binding_update(new, old, errs)
        }
        _ => {}
    }
}

/// A minimal valid object of `rt` for tests and examples: apiVersion, kind and metadata.
pub fn skeleton(rt: &ResourceType, name: &str, namespace: Option<&str>) -> Value {
    let mut meta = json!({"name": name});
    if let Some(ns) = namespace.filter(|_| rt.namespaced) {
        meta["namespace"] = json!(ns);
    }
    json!({"apiVersion": rt.api_version(), "kind": rt.kind, "metadata": meta})
}

#[cfg(test)]
mod tests;
