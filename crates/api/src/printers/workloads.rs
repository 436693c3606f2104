//! Tables for replicated workloads, their controller revisions and pod templates.

use super::format::{
    age, container_cells, format_labels, int_at, list_at, name, str_at, template_cells, text,
};
use super::{col, wide, Column, Printer, AGE, CONTAINERS, IMAGES, NAME};
use crate::selectors::LabelSelector;
use chrono::{DateTime, Utc};
use serde_json::Value;

const NULL: Value = Value::Null;

fn template_spec(obj: &Value) -> &Value {
    obj.pointer("/spec/template/spec").unwrap_or(&NULL)
}

/// `spec.replicas`, defaulted to 1 as the apps/v1 and core/v1 defaulters do.
fn desired(obj: &Value) -> i64 {
    int_at(obj, "/spec/replicas", 1)
}

static POD_TEMPLATE_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Containers",
        "string",
        "Names of each container in the template.",
    ),
    col(
        "Images",
        "string",
        "Images referenced by each container in the template.",
    ),
    col("Pod Labels", "string", "The labels for the pod template."),
];

fn pod_template_row(obj: &Value, _now: DateTime<Utc>) -> Vec<Value> {
    let [names, images] = container_cells(obj.pointer("/template/spec").unwrap_or(&NULL));
    let labels = format_labels(obj.pointer("/template/metadata/labels"));
    vec![name(obj), names, images, text(labels)]
}

/// The PodTemplate printer.
pub(crate) static POD_TEMPLATE: Printer = Printer {
    columns: POD_TEMPLATE_COLUMNS,
    row: pod_template_row,
};

static REPLICAS_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Desired",
        "integer",
        "Replicas is the number of desired replicas.",
    ),
    col(
        "Current",
        "integer",
        "Replicas is the most recently observed number of replicas.",
    ),
    col(
        "Ready",
        "integer",
        "The number of ready replicas for this replica set.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    wide(
        "Selector",
        "string",
        "Selector is a label query over pods that should match the replica count.",
    ),
];

fn replica_counts(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        name(obj),
        Value::from(desired(obj)),
        Value::from(int_at(obj, "/status/replicas", 0)),
        Value::from(int_at(obj, "/status/readyReplicas", 0)),
        age(obj, now),
    ]
}

fn replication_controller_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let mut cells = replica_counts(obj, now);
    cells.extend(container_cells(template_spec(obj)));
    cells.push(text(format_labels(obj.pointer("/spec/selector"))));
    cells
}

/// The ReplicationController printer.
pub(crate) static REPLICATION_CONTROLLER: Printer = Printer {
    columns: REPLICAS_COLUMNS,
    row: replication_controller_row,
};

fn replica_set_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let mut cells = replica_counts(obj, now);
    cells.extend(template_cells(obj.get("spec").unwrap_or(&NULL)));
    cells
}

/// The ReplicaSet printer.
pub(crate) static REPLICA_SET: Printer = Printer {
    columns: REPLICAS_COLUMNS,
    row: replica_set_row,
};

static DEPLOYMENT_COLUMNS: &[Column] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    col("Up-to-date", "string", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
    col("Available", "string", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment."),
];

fn deployment_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let ready = int_at(obj, "/status/readyReplicas", 0);
    let selector = obj.pointer("/spec/selector").unwrap_or(&NULL);
    let selector = match LabelSelector::from_label_selector(selector) {
        Ok(s) => s.to_string(),
        Err(_) => "<invalid>".to_string(),
    };
    let mut cells = vec![
        name(obj),
        text(format!("{ready}/{}", desired(obj))),
        Value::from(int_at(obj, "/status/updatedReplicas", 0)),
        Value::from(int_at(obj, "/status/availableReplicas", 0)),
        age(obj, now),
    ];
    cells.extend(container_cells(template_spec(obj)));
    cells.push(text(selector));
    cells
}

/// The Deployment printer.
pub(crate) static DEPLOYMENT: Printer = Printer {
    columns: DEPLOYMENT_COLUMNS,
    row: deployment_row,
};

static DAEMON_SET_COLUMNS: &[Column] = &[
    NAME,
    col("Desired", "integer", "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod)."),
    col("Current", "integer", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod."),
    col("Ready", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready."),
    col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
    col("Available", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)"),
    col("Node Selector", "string", "NodeSelector is a selector which must be true for the pod to fit on a node."),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", "A label query over pods that are managed by the daemon set."),
];

fn daemon_set_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let count = |field: &str| Value::from(int_at(obj, &format!("/status/{field}"), 0));
    let mut cells = vec![
        name(obj),
        count("desiredNumberScheduled"),
        count("currentNumberScheduled"),
        count("numberReady"),
        count("updatedNumberScheduled"),
        count("numberAvailable"),
        text(format_labels(template_spec(obj).get("nodeSelector"))),
        age(obj, now),
    ];
    cells.extend(template_cells(obj.get("spec").unwrap_or(&NULL)));
    cells
}

/// The DaemonSet printer.
pub(crate) static DAEMON_SET: Printer = Printer {
    columns: DAEMON_SET_COLUMNS,
    row: daemon_set_row,
};

static STATEFUL_SET_COLUMNS: &[Column] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    AGE,
    CONTAINERS,
    IMAGES,
];

fn stateful_set_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let ready = int_at(obj, "/status/readyReplicas", 0);
    let mut cells = vec![
        name(obj),
        text(format!("{ready}/{}", desired(obj))),
        age(obj, now),
    ];
    cells.extend(container_cells(template_spec(obj)));
    cells
}

/// The StatefulSet printer.
pub(crate) static STATEFUL_SET: Printer = Printer {
    columns: STATEFUL_SET_COLUMNS,
    row: stateful_set_row,
};

static CONTROLLER_REVISION_COLUMNS: &[Column] = &[
    NAME,
    col("Controller", "string", "Controller of the object"),
    col(
        "Revision",
        "string",
        "Revision indicates the revision of the state represented by Data.",
    ),
    AGE,
];

/// The controlling owner as `kind.group/name` in lower case, or `<none>`.
fn controller_name(obj: &Value) -> String {
    let owners = list_at(obj, "/metadata/ownerReferences");
    let Some(owner) = owners
        .iter()
        .find(|o| o.get("controller") == Some(&Value::Bool(true)))
    else {
        return "<none>".to_string();
    };
    let api_version = str_at(owner, "/apiVersion");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = str_at(owner, "/kind");
    let name = str_at(owner, "/name");
    match (kind, group) {
        ("", "") => name.to_string(),
        (kind, "") => format!("{}/{name}", kind.to_lowercase()),
        (kind, group) => format!("{}/{name}", format!("{kind}.{group}").to_lowercase()),
    }
}

fn controller_revision_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let revision = Value::from(int_at(obj, "/revision", 0));
    vec![
        name(obj),
        text(controller_name(obj)),
        revision,
        age(obj, now),
    ]
}

/// The ControllerRevision printer.
pub(crate) static CONTROLLER_REVISION: Printer = Printer {
    columns: CONTROLLER_REVISION_COLUMNS,
    row: controller_revision_row,
};

#[cfg(test)]
mod tests;
