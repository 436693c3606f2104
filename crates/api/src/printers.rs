//! Server-side table printing (`as=Table`): the columns kubectl shows per kind.

mod batch;
mod core_v1;
mod events;
mod format;
mod network;
mod pod;
mod policy;
mod service;
mod storage;
#[cfg(test)]
mod test_support;
mod workloads;

pub use format::human_duration;

use crate::ResourceType;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

/// One table column, as in `meta.k8s.io/v1` TableColumnDefinition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Header text (`NAME`, `READY`, …) as upstream spells it (`Name`, `Ready`).
    pub name: &'static str,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub type_: &'static str,
    /// `name` for the name column, else empty.
    pub format: &'static str,
    /// Column description.
    pub description: &'static str,
    /// 0 for default columns, 1 for `-o wide` extras.
    pub priority: i32,
}

/// A kind's table: its columns and the cells of one object, always with the wide columns.
pub(crate) struct Printer {
    columns: &'static [Column],
    row: fn(&Value, DateTime<Utc>) -> Vec<Value>,
}

const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const CREATED_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The `Name` column every printer starts with.
pub(crate) const NAME: Column = Column {
    name: "Name",
    type_: "string",
    format: "name",
    description: NAME_DESCRIPTION,
    priority: 0,
};

/// The `Age` column (a human duration string).
pub(crate) const AGE: Column = col("Age", "string", CREATED_DESCRIPTION);

/// A default column.
pub(crate) const fn col(
    name: &'static str,
    type_: &'static str,
    description: &'static str,
) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 0,
    }
}

/// A column shown only with `-o wide`.
pub(crate) const fn wide(
    name: &'static str,
    type_: &'static str,
    description: &'static str,
) -> Column {
    Column {
        priority: 1,
        ..col(name, type_, description)
    }
}

/// The wide `Containers` and `Images` columns of workload printers.
pub(crate) const CONTAINERS: Column = wide(
    "Containers",
    "string",
    "Names of each container in the template.",
);
pub(crate) const IMAGES: Column = wide(
    "Images",
    "string",
    "Images referenced by each container in the template.",
);

/// The columns of upstream's default table convertor, for kinds without a printer.
static DEFAULT_COLUMNS: &[Column] = &[NAME, col("Created At", "date", CREATED_DESCRIPTION)];

fn default_row(obj: &Value, _now: DateTime<Utc>) -> Vec<Value> {
    let created = format::time_at(obj, "/metadata/creationTimestamp")
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string());
    vec![format::name(obj), Value::String(created)]
}

static DEFAULT: Printer = Printer {
    columns: DEFAULT_COLUMNS,
    row: default_row,
};

/// The printer upstream registers for the type, or the default Name/Created At table.
fn printer(rt: &ResourceType) -> &'static Printer {
    match (rt.group, rt.kind) {
        ("", "Pod") => &pod::POD,
        ("", "PodTemplate") => &workloads::POD_TEMPLATE,
        ("", "ReplicationController") => &workloads::REPLICATION_CONTROLLER,
        ("apps", "ReplicaSet") => &workloads::REPLICA_SET,
        ("apps", "Deployment") => &workloads::DEPLOYMENT,
        ("apps", "DaemonSet") => &workloads::DAEMON_SET,
        ("apps", "StatefulSet") => &workloads::STATEFUL_SET,
        ("apps", "ControllerRevision") => &workloads::CONTROLLER_REVISION,
        ("batch", "Job") => &batch::JOB,
        ("batch", "CronJob") => &batch::CRON_JOB,
        ("", "Service") => &service::SERVICE,
        ("", "Endpoints") => &service::ENDPOINTS,
        ("", "Node") => &core_v1::NODE,
        ("", "Namespace") => &core_v1::NAMESPACE,
        ("", "ConfigMap") => &core_v1::CONFIG_MAP,
        ("", "Secret") => &core_v1::SECRET,
        ("", "ServiceAccount") => &core_v1::SERVICE_ACCOUNT,
        ("", "ResourceQuota") => &core_v1::RESOURCE_QUOTA,
        ("", "Event") | ("events.k8s.io", "Event") => &events::EVENT,
        ("", "PersistentVolume") => &storage::PERSISTENT_VOLUME,
        ("", "PersistentVolumeClaim") => &storage::PERSISTENT_VOLUME_CLAIM,
        ("storage.k8s.io", "StorageClass") => &storage::STORAGE_CLASS,
        ("networking.k8s.io", "Ingress") => &network::INGRESS,
        ("networking.k8s.io", "IngressClass") => &network::INGRESS_CLASS,
        ("networking.k8s.io", "NetworkPolicy") => &network::NETWORK_POLICY,
        ("discovery.k8s.io", "EndpointSlice") => &network::ENDPOINT_SLICE,
        ("policy", "PodDisruptionBudget") => &policy::POD_DISRUPTION_BUDGET,
        ("rbac.authorization.k8s.io", "RoleBinding") => &policy::ROLE_BINDING,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => &policy::CLUSTER_ROLE_BINDING,
        ("scheduling.k8s.io", "PriorityClass") => &policy::PRIORITY_CLASS,
        ("coordination.k8s.io", "Lease") => &policy::LEASE,
        _ => &DEFAULT,
    }
}

/// The columns for a resource type.
pub fn columns(rt: &ResourceType) -> Vec<Column> {
    printer(rt).columns.to_vec()
}

/// The cells of one object's row, one per column.
pub fn row(rt: &ResourceType, obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    (printer(rt).row)(obj, now)
}

#[cfg(test)]
mod tests;
