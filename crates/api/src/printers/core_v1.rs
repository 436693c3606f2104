//! Tables for Nodes, Namespaces, ConfigMaps, Secrets, ServiceAccounts and ResourceQuotas.

use super::format::{age, count_at, list_at, name, or_none, str_at, text};
use super::{col, wide, Column, Printer, AGE, NAME};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeSet;

static NODE_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    AGE,
    col("Version", "string", "Kubelet Version reported by the node."),
    wide("Internal-IP", "string", "List of addresses reachable to the node."),
    wide("External-IP", "string", "List of addresses reachable to the node."),
    wide("OS-Image", "string", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
    wide("Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
    wide("Container-Runtime", "string", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2)."),
];

/// `Ready`, `NotReady` or `Unknown`, plus `SchedulingDisabled` when cordoned.
fn node_status(obj: &Value) -> String {
    let conditions = list_at(obj, "/status/conditions");
    let ready = conditions
        .iter()
        .rev()
        .find(|c| str_at(c, "/type") == "Ready");
    let mut status = vec![match ready {
        Some(c) if str_at(c, "/status") == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if obj.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled");
    }
    status.join(",")
}

/// Roles from `node-role.kubernetes.io/<role>` keys and the `kubernetes.io/role` value.
fn node_roles(obj: &Value) -> String {
    let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
    let roles: BTreeSet<&str> = labels
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
            Some(role) if !role.is_empty() => Some(role),
            Some(_) => None,
            None if k == "kubernetes.io/role" => v.as_str().filter(|v| !v.is_empty()),
            None => None,
        })
        .collect();
    let roles: Vec<&str> = roles.into_iter().collect();
    if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.join(",")
    }
}

fn node_address(obj: &Value, kind: &str) -> Value {
    let addresses = list_at(obj, "/status/addresses");
    let found = addresses.iter().find(|a| str_at(a, "/type") == kind);
    or_none(found.map_or("", |a| str_at(a, "/address")))
}

fn node_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let info = |field: &str| match str_at(obj, &format!("/status/nodeInfo/{field}")) {
        "" => text("<unknown>"),
        v => text(v),
    };
    vec![
        name(obj),
        text(node_status(obj)),
        text(node_roles(obj)),
        age(obj, now),
        text(str_at(obj, "/status/nodeInfo/kubeletVersion")),
        node_address(obj, "InternalIP"),
        node_address(obj, "ExternalIP"),
        info("osImage"),
        info("kernelVersion"),
        info("containerRuntimeVersion"),
    ]
}

/// The Node printer.
pub(crate) static NODE: Printer = Printer {
    columns: NODE_COLUMNS,
    row: node_row,
};

static NAMESPACE_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", "The status of the namespace"),
    AGE,
];

fn namespace_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![name(obj), text(str_at(obj, "/status/phase")), age(obj, now)]
}

/// The Namespace printer.
pub(crate) static NAMESPACE: Printer = Printer {
    columns: NAMESPACE_COLUMNS,
    row: namespace_row,
};

static CONFIG_MAP_COLUMNS: &[Column] = &[
    NAME,
    col("Data", "string", "Data contains the configuration data."),
    AGE,
];

fn config_map_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let entries = count_at(obj, "/data") + count_at(obj, "/binaryData");
    vec![name(obj), Value::from(entries), age(obj, now)]
}

/// The ConfigMap printer.
pub(crate) static CONFIG_MAP: Printer = Printer {
    columns: CONFIG_MAP_COLUMNS,
    row: config_map_row,
};

static SECRET_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Type",
        "string",
        "Used to facilitate programmatic handling of secret data.",
    ),
    col("Data", "string", "Data contains the secret data."),
    AGE,
];

fn secret_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let entries = count_at(obj, "/data");
    vec![
        name(obj),
        text(str_at(obj, "/type")),
        Value::from(entries),
        age(obj, now),
    ]
}

/// The Secret printer.
pub(crate) static SECRET: Printer = Printer {
    columns: SECRET_COLUMNS,
    row: secret_row,
};

static SERVICE_ACCOUNT_COLUMNS: &[Column] = &[
    NAME,
    col("Secrets", "string", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."),
    AGE,
];

fn service_account_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let secrets = list_at(obj, "/secrets").len();
    vec![name(obj), Value::from(secrets), age(obj, now)]
}

/// The ServiceAccount printer.
pub(crate) static SERVICE_ACCOUNT: Printer = Printer {
    columns: SERVICE_ACCOUNT_COLUMNS,
    row: service_account_row,
};

static RESOURCE_QUOTA_COLUMNS: &[Column] = &[
    NAME,
    col("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
    col("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
    AGE,
];

/// A quantity as stored (`500m`, `1Gi`), or `0` when absent.
fn quantity(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".to_string(),
    }
}

fn resource_quota_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let hard = obj.pointer("/status/hard").and_then(Value::as_object);
    let used = obj.pointer("/status/used");
    let mut resources: Vec<(&String, &Value)> = hard.into_iter().flatten().collect();
    resources.sort_by(|a, b| a.0.cmp(b.0));
    let (mut requests, mut limits) = (Vec::new(), Vec::new());
    for (resource, hard) in resources {
        let used = quantity(used.and_then(|u| u.get(resource)));
        let entry = format!("{resource}: {used}/{}", quantity(Some(hard)));
        let is_limit = resource.starts_with("limits.");
        if is_limit {
            limits.push(entry)
        } else {
            requests.push(entry)
        }
    }
    vec![
        name(obj),
        text(requests.join(", ")),
        text(limits.join(", ")),
        age(obj, now),
    ]
}

/// The ResourceQuota printer.
pub(crate) static RESOURCE_QUOTA: Printer = Printer {
    columns: RESOURCE_QUOTA_COLUMNS,
    row: resource_quota_row,
};

#[cfg(test)]
mod tests;
