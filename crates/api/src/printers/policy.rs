//! Tables for PodDisruptionBudgets, RoleBindings, ClusterRoleBindings, PriorityClasses and Leases.

use super::format::{age, int_at, int_or_string, list_at, name, str_at, text};
use super::{col, wide, Column, Printer, AGE, NAME};
use chrono::{DateTime, Utc};
use serde_json::Value;

static PDB_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Min Available",
        "string",
        "The minimum number of pods that must be available.",
    ),
    col(
        "Max Unavailable",
        "string",
        "The maximum number of pods that may be unavailable.",
    ),
    col(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

fn pdb_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let bound = |pointer: &str| match obj.pointer(pointer) {
        Some(v) if !v.is_null() => text(int_or_string(v)),
        _ => text("N/A"),
    };
    vec![
        name(obj),
        bound("/spec/minAvailable"),
        bound("/spec/maxUnavailable"),
        Value::from(int_at(obj, "/status/disruptionsAllowed", 0)),
        age(obj, now),
    ]
}

/// The PodDisruptionBudget printer.
pub(crate) static POD_DISRUPTION_BUDGET: Printer = Printer {
    columns: PDB_COLUMNS,
    row: pdb_row,
};

static ROLE_BINDING_COLUMNS: &[Column] = &[
    NAME,
    col("Role", "string", "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace."),
    AGE,
    wide("Users", "string", "Users in the roleBinding"),
    wide("Groups", "string", "Groups in the roleBinding"),
    wide("ServiceAccounts", "string", "ServiceAccounts in the roleBinding"),
];

static CLUSTER_ROLE_BINDING_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Role",
        "string",
        "RoleRef can only reference a ClusterRole in the global namespace.",
    ),
    AGE,
    wide("Users", "string", "Users in the clusterRoleBinding"),
    wide("Groups", "string", "Groups in the clusterRoleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the clusterRoleBinding",
    ),
];

fn binding_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let role = format!(
        "{}/{}",
        str_at(obj, "/roleRef/kind"),
        str_at(obj, "/roleRef/name")
    );
    let (mut users, mut groups, mut accounts) = (Vec::new(), Vec::new(), Vec::new());
    for subject in list_at(obj, "/subjects") {
        let name = str_at(subject, "/name");
        match str_at(subject, "/kind") {
            "User" => users.push(name.to_string()),
            "Group" => groups.push(name.to_string()),
            "ServiceAccount" => {
                accounts.push(format!("{}/{name}", str_at(subject, "/namespace")));
            }
            _ => {}
        }
    }
    vec![
        name(obj),
        text(role),
        age(obj, now),
        text(users.join(", ")),
        text(groups.join(", ")),
        text(accounts.join(", ")),
    ]
}

/// The RoleBinding printer.
pub(crate) static ROLE_BINDING: Printer = Printer {
    columns: ROLE_BINDING_COLUMNS,
    row: binding_row,
};

/// The ClusterRoleBinding printer.
pub(crate) static CLUSTER_ROLE_BINDING: Printer = Printer {
    columns: CLUSTER_ROLE_BINDING_COLUMNS,
    row: binding_row,
};

static PRIORITY_CLASS_COLUMNS: &[Column] = &[
    NAME,
    col("Value", "integer", "value represents the integer value of this priority class."),
    col("Global-Default", "boolean", "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class."),
    AGE,
    col("PreemptionPolicy", "string", "preemptionPolicy is the Policy for preempting pods with lower priority."),
];

fn priority_class_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let global = obj
        .get("globalDefault")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    vec![
        name(obj),
        Value::from(int_at(obj, "/value", 0)),
        Value::Bool(global),
        age(obj, now),
        text(str_at(obj, "/preemptionPolicy")),
    ]
}

/// The PriorityClass printer.
pub(crate) static PRIORITY_CLASS: Printer = Printer {
    columns: PRIORITY_CLASS_COLUMNS,
    row: priority_class_row,
};

static LEASE_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Holder",
        "string",
        "holderIdentity contains the identity of the holder of a current lease.",
    ),
    AGE,
];

fn lease_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        name(obj),
        text(str_at(obj, "/spec/holderIdentity")),
        age(obj, now),
    ]
}

/// The Lease printer.
pub(crate) static LEASE: Printer = Printer {
    columns: LEASE_COLUMNS,
    row: lease_row,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::test_support::now;
    use serde_json::json;

    #[test]
    fn pdb_shows_bounds_or_na() {
        let pdb = json!({"metadata": {"name": "web"}, "spec": {"minAvailable": "50%"},
            "status": {"disruptionsAllowed": 1}});
        assert_eq!(
            pdb_row(&pdb, now())[1..4],
            [json!("50%"), json!("N/A"), json!(1)]
        );
        let pdb = json!({"metadata": {"name": "db"}, "spec": {"maxUnavailable": 1}});
        assert_eq!(
            pdb_row(&pdb, now())[1..4],
            [json!("N/A"), json!("1"), json!(0)]
        );
    }

    #[test]
    fn bindings_split_subjects_by_kind() {
        let rb = json!({"metadata": {"name": "admins", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "roleRef": {"kind": "ClusterRole", "name": "admin"},
            "subjects": [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": "ops"},
                {"kind": "User", "name": "bob"}, {"kind": "ServiceAccount", "namespace": "ci", "name": "deployer"}]});
        assert_eq!(
            binding_row(&rb, now()),
            [
                json!("admins"),
                json!("ClusterRole/admin"),
                json!("60m"),
                json!("alice, bob"),
                json!("ops"),
                json!("ci/deployer")
            ]
        );
    }

    #[test]
    fn priority_class_and_lease_cells() {
        let pc = json!({"metadata": {"name": "system-node-critical"}, "value": 2000001000,
            "preemptionPolicy": "PreemptLowerPriority"});
        assert_eq!(
            priority_class_row(&pc, now())[1..3],
            [json!(2000001000), json!(false)]
        );
        assert_eq!(
            priority_class_row(&pc, now())[4],
            json!("PreemptLowerPriority")
        );
        let lease = json!({"metadata": {"name": "node-1"}, "spec": {"holderIdentity": "node-1"}});
        assert_eq!(lease_row(&lease, now())[1], json!("node-1"));
    }
}
