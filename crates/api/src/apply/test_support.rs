//! Objects and look-ups shared by the apply tests.

use crate::catalogue::find_kind;
use crate::ResourceType;
use serde_json::{json, Value};

pub const T0: &str = "2024-01-01T00:00:00Z";
pub const T1: &str = "2024-01-01T00:01:00Z";

pub fn configmaps() -> &'static ResourceType {
    find_kind("", "v1", "ConfigMap").unwrap()
}

pub fn deployments() -> &'static ResourceType {
    find_kind("apps", "v1", "Deployment").unwrap()
}

pub fn entry<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    obj.pointer("/metadata/managedFields")?
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}

pub fn cm(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data})
}

pub fn deploy(replicas: i64, containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": containers},
            },
        },
    })
}
