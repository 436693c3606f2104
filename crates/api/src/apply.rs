//! Server-side apply and field ownership (`metadata.managedFields`), as structured-merge-diff.

mod conflict;
mod managed;
mod merge;
mod path;
mod record;
mod scope;
mod set;
mod typed;

pub use conflict::{Conflict, Conflicts};
pub use managed::{go_quote, ManagedEntry, ManagedFieldsError, Operation};
pub use merge::{compare, Comparison};
pub use path::{path_string, Path, PathElement};
pub use record::{record_subresource_update, record_update};
pub use set::{FieldSet, FieldsError};
pub use typed::{field_set, Kind, Type};

use crate::{ResourceType, Subresource};
use record::update_entry;
use scope::{tracked, tracked_comparison, with_skeleton};
use serde_json::{json, Map, Value};

/// The manager that owns what an object held before its first apply.
pub const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// Why an apply was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The applied configuration is not a JSON object.
    #[error("the applied configuration must be an object")]
    NotAnObject,
    /// The configuration's apiVersion is not the endpoint's.
    #[error("Incorrect version specified in apply patch. Specified patch version: {found}, expected: {expected}")]
    WrongVersion {
        /// The apiVersion sent.
        found: String,
        /// The endpoint's apiVersion.
        expected: String,
    },
    /// The configuration's kind is not the endpoint's.
    #[error(
        "the kind in the apply patch ({found:?}) does not match the expected kind ({expected:?})"
    )]
    WrongKind {
        /// The kind sent.
        found: String,
        /// The endpoint's kind.
        expected: &'static str,
    },
    /// The configuration has no metadata.name.
    #[error("metadata.name is required in an apply patch")]
    MissingName,
    /// The configuration sets metadata.managedFields.
    #[error("metadata.managedFields must be nil")]
    ManagedFieldsSet,
    /// A list item has no usable identity or repeats one.
    #[error("failed to create typed patch object ({gvk}): {reason}")]
    Invalid {
        /// `group/version, Kind=kind`.
        gvk: String,
        /// What is wrong, with its path.
        reason: String,
    },
    /// Fields the configuration changes are owned by other managers.
    #[error(transparent)]
    Conflicts(#[from] Conflicts),
}

/// Applies `config` for `manager` onto `live` (absent on create); returns the new object.
pub fn apply(
    rt: &ResourceType,
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, ApplyError> {
    check_config(rt, config)?;
    let ty = Type::of(rt);
    typed::validate(&ty, config, &mut Vec::new()).map_err(|reason| ApplyError::Invalid {
        gvk: format!("{}, Kind={}", rt.api_version(), rt.kind),
        reason,
    })?;
    let mut config = config.clone();
    if rt.has_subresource(Subresource::Status) {
        if let Some(obj) = config.as_object_mut() {
            obj.remove("status");
        }
    }
    let mut live_obj = live.cloned().unwrap_or_else(|| json!({}));
    let stored = managed::take(&mut live_obj);
    let mut entries = stored
        .and_then(|v| managed::decode(&v).ok())
        .unwrap_or_default();
    if live.is_some() && entries.is_empty() {
        let base = with_skeleton(&ty, &json!({}), &live_obj);
        let c = tracked_comparison(rt, "", compare(&ty, Some(&base), Some(&live_obj)));
        entries.push(update_entry(
            rt,
            "",
            BEFORE_FIRST_APPLY,
            now,
            c.added.union(&c.modified),
        ));
    }
    let mut mine = ManagedEntry {
        manager: manager.to_string(),
        operation: Operation::Apply,
        api_version: rt.api_version(),
        time: Some(now.to_string()),
        subresource: String::new(),
        fields: tracked(rt, "", field_set(&ty, &config)),
    };
    let previous = entries
        .iter()
        .position(|e| e.same_owner(&mine))
        .map(|i| entries.remove(i));
    let merged = merge::merge(&ty, Some(&live_obj), Some(&config));
    let owned = entries
        .iter()
        .fold(mine.fields.clone(), |acc, e| acc.union(&e.fields));
    let last = previous
        .as_ref()
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let mut merged = merge::prune(&ty, &merged, &last, &owned);

    let before = with_skeleton(&ty, &live_obj, &merged);
    let after = with_skeleton(&ty, &merged, &live_obj);
    let full = compare(&ty, Some(&before), Some(&after));
    let object_changed = !full.is_same();
    let cmp = tracked_comparison(rt, "", full);
    let changed = cmp.added.union(&cmp.modified);
    entries.sort_by(|a, b| (&a.manager, a.operation).cmp(&(&b.manager, b.operation)));
    let conflicts: Vec<Conflict> = entries
        .iter()
        .flat_map(|e| {
            let owner = e.describe();
            e.fields
                .intersection(&changed)
                .paths()
                .into_iter()
                .map(move |p| Conflict {
                    manager: e.manager.clone(),
                    owner: owner.clone(),
                    field: path_string(&p),
                })
        })
        .collect();
    if !conflicts.is_empty() && !force {
        return Err(Conflicts(conflicts).into());
    }
    for e in &mut entries {
        e.fields = e.fields.difference(&changed).difference(&cmp.removed);
    }
    if !object_changed {
        mine.time = previous.and_then(|p| p.time).or(mine.time);
    }
    entries.push(mine);
    ensure_metadata(&mut merged);
    managed::store(&mut merged, &entries);
    Ok(merged)
}

/// The fields of `obj` that ownership tracks (status and system metadata excluded).
pub fn object_fields(rt: &ResourceType, obj: &Value) -> FieldSet {
    tracked(rt, "", field_set(&Type::of(rt), obj))
}

fn check_config(rt: &ResourceType, config: &Value) -> Result<(), ApplyError> {
    let obj = config.as_object().ok_or(ApplyError::NotAnObject)?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or_default();
    if text("apiVersion") != rt.api_version() {
        return Err(ApplyError::WrongVersion {
            found: text("apiVersion").to_string(),
            expected: rt.api_version(),
        });
    }
    if text("kind") != rt.kind {
        return Err(ApplyError::WrongKind {
            found: text("kind").to_string(),
            expected: rt.kind,
        });
    }
    let meta = obj.get("metadata").and_then(Value::as_object);
    if meta
        .and_then(|m| m.get("managedFields"))
        .is_some_and(|v| !v.is_null())
    {
        return Err(ApplyError::ManagedFieldsSet);
    }
    match meta.and_then(|m| m.get("name")).and_then(Value::as_str) {
        Some(name) if !name.is_empty() => Ok(()),
        _ => Err(ApplyError::MissingName),
    }
}

fn ensure_metadata(obj: &mut Value) {
    if let Some(o) = obj.as_object_mut() {
        if !o.get("metadata").is_some_and(Value::is_object) {
            o.insert("metadata".into(), Value::Object(Map::new()));
        }
    }
}

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
