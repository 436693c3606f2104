//! Ownership of ordinary writes (create, update, patch): upstream's `Update` operation.

use super::managed::{self, ManagedEntry, Operation};
use super::merge::compare;
use super::scope::{tracked_comparison, with_skeleton};
use super::set::FieldSet;
use super::typed::Type;
use crate::ResourceType;
use serde_json::Value;

/// Records an ordinary write (create, update, patch) by `manager` in `new`'s managedFields.
pub fn record_update(
    rt: &ResourceType,
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    now: &str,
) {
    record_subresource_update(rt, "", old, new, manager, now);
}

/// Records a write through `subresource` (empty for the main resource) by `manager`.
pub fn record_subresource_update(
    rt: &ResourceType,
    subresource: &str,
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    now: &str,
) {
    let ty = Type::of(rt);
    let sent = managed::take(new);
    let stored = || {
        old.and_then(|o| o.pointer("/metadata/managedFields"))
            .and_then(|v| managed::decode(v).ok())
            .unwrap_or_default()
    };
    let mut entries = match &sent {
        _ if !subresource.is_empty() => stored(),
        Some(s) if managed::is_reset(s) => Vec::new(),
        Some(s) => match managed::decode(s) {
            Ok(e) if !e.is_empty() => e,
            _ => stored(),
        },
        None => stored(),
    };
    if entries.is_empty() && old.is_some() {
        return;
    }
    // Compare only the top-level fields this write may own (a status write: `status`; a
    // main-resource write of a kind with a status subresource: everything else).
    let split_status = rt.has_subresource(crate::Subresource::Status);
    let keep = |k: &str| match subresource {
        "status" => k == "status",
        "" if split_status => k != "status",
        _ => true,
    };
    let slim = |v: &Value| -> Value {
        let Value::Object(m) = v else {
            return v.clone();
        };
        let mut out: serde_json::Map<String, Value> = m
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
        Value::Object(out)
    };
    let old_value = old.map_or_else(|| Value::Object(serde_json::Map::new()), slim);
    let new_value = slim(new);
    let (before, after) = (
        with_skeleton(&ty, &old_value, &new_value),
        with_skeleton(&ty, &new_value, &old_value),
    );
    let cmp = tracked_comparison(rt, subresource, compare(&ty, Some(&before), Some(&after)));
    let changed = cmp.added.union(&cmp.modified);
    for e in &mut entries {
        e.fields = e.fields.difference(&changed).difference(&cmp.removed);
    }
    if !changed.is_empty() {
        let mine = update_entry(rt, subresource, manager, now, changed);
        match entries.iter_mut().find(|e| e.same_owner(&mine)) {
            Some(e) => {
                e.fields = e.fields.union(&mine.fields);
                e.time = mine.time;
            }
            None => entries.push(mine),
        }
    }
    managed::store(new, &entries);
}

/// An Update entry owning `fields` as of `now`.
pub(super) fn update_entry(
    rt: &ResourceType,
    sub: &str,
    manager: &str,
    now: &str,
    fields: FieldSet,
) -> ManagedEntry {
    ManagedEntry {
        manager: manager.to_string(),
        operation: Operation::Update,
        api_version: rt.api_version(),
        time: Some(now.to_string()),
        subresource: sub.to_string(),
        fields,
    }
}

#[cfg(test)]
mod tests;
