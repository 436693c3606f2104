//! `metadata.managedFields` entries: decoding, identity, encoding in upstream's order.

use super::set::{FieldSet, FieldsError};
use serde_json::{Map, Value};

/// Why `metadata.managedFields` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManagedFieldsError {
    /// The field is not a list.
    #[error("managedFields must be a list")]
    NotAList,
    /// An entry is not an object or lacks a required member.
    #[error("managed fields entry {index}: {reason}")]
    Entry {
        /// Position of the entry.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// An entry's `fieldsV1` is malformed.
    #[error("managed fields entry {index}: error decoding set: {source}")]
    Fields {
        /// Position of the entry.
        index: usize,
        /// The decoding failure.
        #[source]
        source: FieldsError,
    },
}

/// The kind of write an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, update or patch.
    Update,
}

impl Operation {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `metadata.managedFields` entry with its decoded field set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedEntry {
    /// The field manager's name.
    pub manager: String,
    /// Apply or Update.
    pub operation: Operation,
    /// The API version the fields were written in.
    pub api_version: String,
    /// When the manager last changed the object (RFC 3339).
    pub time: Option<String>,
    /// The subresource written through (`status`), or empty.
    pub subresource: String,
    /// The fields owned.
    pub fields: FieldSet,
}

impl ManagedEntry {
    /// Whether two entries belong to the same owner (apply owners ignore the API version).
    pub fn same_owner(&self, other: &ManagedEntry) -> bool {
        self.manager == other.manager
            && self.operation == other.operation
            && self.subresource == other.subresource
            && (self.operation == Operation::Apply || self.api_version == other.api_version)
    }

    /// How conflict messages name the owner (`"kubectl" using apps/v1`).
    pub fn describe(&self) -> String {
        let mut out = go_quote(&self.manager);
        if !self.subresource.is_empty() {
            out = format!("{out} with subresource {}", go_quote(&self.subresource));
        }
        if self.operation == Operation::Update {
            out = format!("{out} using {}", self.api_version);
        }
        out
    }

    /// The wire form.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), self.manager.clone().into());
        m.insert("operation".into(), self.operation.as_str().into());
        m.insert("apiVersion".into(), self.api_version.clone().into());
        if let Some(t) = &self.time {
            m.insert("time".into(), t.clone().into());
        }
        m.insert("fieldsType".into(), "FieldsV1".into());
        m.insert("fieldsV1".into(), self.fields.to_fields_v1());
        if !self.subresource.is_empty() {
            m.insert("subresource".into(), self.subresource.clone().into());
        }
        Value::Object(m)
    }

    /// Reads one entry, checking it as upstream's decoder does.
    pub fn from_json(index: usize, v: &Value) -> Result<ManagedEntry, ManagedFieldsError> {
        let bad = |reason: &str| ManagedFieldsError::Entry {
            index,
            reason: reason.to_string(),
        };
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        if !v.is_object() {
            return Err(bad("must be an object"));
        }
        let operation = match v.get("operation").and_then(Value::as_str) {
            Some("Apply") => Operation::Apply,
            Some("Update") => Operation::Update,
            _ => return Err(bad("operation must be `Apply` or `Update`")),
        };
        let api_version = text("apiVersion");
        if api_version.is_empty() {
            return Err(bad("apiVersion must not be empty"));
        }
        match v.get("fieldsType").and_then(Value::as_str) {
            Some("FieldsV1") => {}
            None | Some("") => return Err(bad("missing fieldsType")),
            Some(other) => return Err(bad(&format!("invalid fieldsType {other:?}"))),
        }
        let fields = match v.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::new(),
            Some(f) => FieldSet::from_fields_v1(f)
                .map_err(|source| ManagedFieldsError::Fields { index, source })?,
        };
        Ok(ManagedEntry {
            manager: text("manager"),
            operation,
            api_version,
            time: v.get("time").and_then(Value::as_str).map(str::to_string),
            subresource: text("subresource"),
            fields,
        })
    }
}

/// Quotes a string as Go's `%q` does for printable text.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Decodes a `managedFields` list; entries of the same owner are merged.
pub fn decode(list: &Value) -> Result<Vec<ManagedEntry>, ManagedFieldsError> {
    let items = match list {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err(ManagedFieldsError::NotAList),
    };
    let mut out: Vec<ManagedEntry> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let entry = ManagedEntry::from_json(i, item)?;
        match out.iter_mut().find(|e| e.same_owner(&entry)) {
            Some(e) => e.fields = e.fields.union(&entry.fields),
            None => out.push(entry),
        }
    }
    Ok(out)
}

/// Whether a client sent a list of only empty entries (`[{}]`), which resets ownership.
pub fn is_reset(list: &Value) -> bool {
    list.as_array().is_some_and(|items| {
        !items.is_empty()
            && items
                .iter()
                .all(|e| e.as_object().is_some_and(Map::is_empty))
    })
}

/// Upstream's order of entries: Apply before Update, then by time, manager, version.
type Order<'a> = (Operation, Option<&'a str>, &'a str, &'a str, &'a str);

fn entry_order(e: &ManagedEntry) -> Order<'_> {
    (
        e.operation,
        e.time.as_deref(),
        &e.manager,
        &e.api_version,
        &e.subresource,
    )
}

/// The order of an entry in its wire form (as [`entry_order`] of its decoded form).
fn wire_order(v: &Value) -> Order<'_> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
    let operation = match text("operation") {
        "Apply" => Operation::Apply,
        _ => Operation::Update,
    };
    let time = v.get("time").and_then(Value::as_str);
    (
        operation,
        time,
        text("manager"),
        text("apiVersion"),
        text("subresource"),
    )
}

/// Whether a stored entry (wire form) has the same owner as `e` (as [`ManagedEntry::same_owner`]).
pub fn is_owned_by(v: &Value, e: &ManagedEntry) -> bool {
    let (operation, _, manager, api_version, subresource) = wire_order(v);
    manager == e.manager
        && operation == e.operation
        && subresource == e.subresource
        && (operation == Operation::Apply || api_version == e.api_version)
}

/// Encodes entries together with entries already in wire form (`kept`), in upstream's order.
fn encode_with(entries: &[ManagedEntry], kept: Vec<Value>) -> Value {
    let mut all: Vec<(Order<'_>, Option<&ManagedEntry>, usize)> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| (entry_order(e), Some(e), 0))
        .chain(
            kept.iter()
                .enumerate()
                .map(|(i, v)| (wire_order(v), None, i)),
        )
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let order: Vec<(Option<&ManagedEntry>, usize)> =
        all.into_iter().map(|(_, e, i)| (e, i)).collect();
    let mut kept: Vec<Option<Value>> = kept.into_iter().map(Some).collect();
    Value::Array(
        order
            .into_iter()
            .map(|(e, i)| match e {
                Some(e) => e.to_json(),
                None => kept[i].take().unwrap_or_default(),
            })
            .collect(),
    )
}

/// Writes entries into `metadata.managedFields`, removing the field when there are none.
pub fn store(obj: &mut Value, entries: &[ManagedEntry]) {
    store_with(obj, entries, Vec::new())
}

/// As [`store`], with further entries already in wire form.
pub fn store_with(obj: &mut Value, entries: &[ManagedEntry], kept: Vec<Value>) {
    let encoded = encode_with(entries, kept);
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if encoded.as_array().is_some_and(Vec::is_empty) {
        meta.remove("managedFields");
    } else {
        meta.insert("managedFields".into(), encoded);
    }
}

/// Removes and returns `metadata.managedFields`.
pub fn take(obj: &mut Value) -> Option<Value> {
    obj.get_mut("metadata")?
        .as_object_mut()?
        .remove("managedFields")
}
