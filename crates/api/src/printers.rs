//! Server-side table printing (`as=Table`): the columns kubectl shows per kind.
//! OWNER: printers helper. Interface below is fixed; fill the bodies.

use crate::ResourceType;
use chrono::{DateTime, Utc};
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

/// The columns for a resource type.
pub fn columns(_rt: &ResourceType) -> Vec<Column> {
    vec![
        Column { name: "Name", type_: "string", format: "name", description: "Name must be unique within a namespace.", priority: 0 },
        Column { name: "Created At", type_: "date", format: "", description: "CreationTimestamp is a timestamp representing the server time when this object was created.", priority: 0 },
    ]
}

/// The cells of one object's row, one per column.
pub fn row(_rt: &ResourceType, obj: &Value, _now: DateTime<Utc>) -> Vec<Value> {
    vec![
        obj.pointer("/metadata/name").cloned().unwrap_or(Value::Null),
        obj.pointer("/metadata/creationTimestamp").cloned().unwrap_or(Value::Null),
    ]
}
