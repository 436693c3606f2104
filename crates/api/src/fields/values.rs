//! The value of a canonical selectable field on a stored object (upstream `ToSelectableFields`).

use crate::ResourceType;
use serde_json::Value;

fn text(obj: &Value, pointer: &str) -> Option<String> {
    match obj.pointer(pointer)? {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn string_at(obj: &Value, pointer: &str) -> String {
    text(obj, pointer).unwrap_or_default()
}

fn bool_at(obj: &Value, pointer: &str) -> String {
    obj.pointer(pointer)
        .and_then(Value::as_bool)
        .unwrap_or(false)
        .to_string()
}

fn int_at(obj: &Value, pointer: &str) -> String {
    obj.pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(0)
        .to_string()
}

/// The first of the pointers that holds a non-empty string.
fn first_of(obj: &Value, pointers: &[&str]) -> String {
    pointers
        .iter()
        .filter_map(|p| text(obj, p))
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

/// The field value of a pod; `status.podIPs` is accepted upstream but never populated.
fn pod_value(label: &str, obj: &Value) -> String {
    match label {
        "spec.hostNetwork" => bool_at(obj, "/spec/hostNetwork"),
        "status.podIP" => first_of(obj, &["/status/podIPs/0/ip", "/status/podIP"]),
        "status.podIPs" => String::new(),
        _ => string_at(obj, &format!("/{}", label.replace('.', "/"))),
    }
}

/// The field value of an Event stored in either core/v1 or events.k8s.io/v1 shape.
fn event_value(label: &str, obj: &Value) -> String {
    if let Some(field) = label.strip_prefix("involvedObject.") {
        let core = format!("/involvedObject/{field}");
        let events = format!("/regarding/{field}");
        return first_of(obj, &[&core, &events]);
    }
    match label {
        "reportingComponent" => first_of(obj, &["/reportingComponent", "/reportingController"]),
        "source" => first_of(
            obj,
            &[
                "/source/component",
                "/deprecatedSource/component",
                "/reportingComponent",
                "/reportingController",
            ],
        ),
        "reason" => string_at(obj, "/reason"),
        "type" => string_at(obj, "/type"),
        _ => String::new(),
    }
}

/// The value the canonical label selects on `obj`; missing fields read as upstream's zero value.
pub(super) fn field_value(rt: &ResourceType, label: &str, obj: &Value) -> String {
    match label {
        "metadata.name" => return string_at(obj, "/metadata/name"),
        "metadata.namespace" => return string_at(obj, "/metadata/namespace"),
        _ => {}
    }
    match (rt.group, rt.kind) {
        ("", "Pod") => pod_value(label, obj),
        (_, "Event") => event_value(label, obj),
        ("", "Node") if label == "spec.unschedulable" => bool_at(obj, "/spec/unschedulable"),
        ("", "ReplicationController") if label == "status.replicas" => {
            int_at(obj, "/status/replicas")
        }
        ("batch", "Job") if label == "status.successful" => int_at(obj, "/status/succeeded"),
        ("", "Namespace" | "Secret" | "Service") => {
            string_at(obj, &format!("/{}", label.replace('.', "/")))
        }
        _ => String::new(),
    }
}
