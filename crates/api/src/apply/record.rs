//! Ownership of ordinary writes (create, update, patch): upstream's `Update` operation.

use super::managed::{self, ManagedEntry, Operation};
use super::merge::compare_for_update;
use super::scope::tracked_comparison;
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
    let stored_list = || {
        old.and_then(|o| o.pointer("/metadata/managedFields"))
            .and_then(Value::as_array)
            .filter(|l| !l.is_empty())
    };
    // The entries to start from: those the client sent with a main-resource write, else the
    // stored ones (kept as they are unless this write touches their fields, see below).
    let sent_entries = match &sent {
        _ if !subresource.is_empty() => None,
        Some(s) if managed::is_reset(s) => Some(Vec::new()),
        Some(s) => managed::decode(s).ok().filter(|e| !e.is_empty()),
        None => None,
    };
    let nothing_owned = match &sent_entries {
        Some(entries) => entries.is_empty(),
        None => stored_list().is_none(),
    };
    if nothing_owned && old.is_some() {
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
    let cmp = compare_for_update(&ty, old, new, &keep);
    let cmp = tracked_comparison(rt, subresource, cmp);
    let mut changed = cmp.added;
    changed.absorb(cmp.modified);
    let mine = update_entry(rt, subresource, manager, now, FieldSet::new());
    let (mut entries, kept) = match sent_entries {
        Some(entries) => (entries, Vec::new()),
        None => split_stored(stored_list(), &changed, &cmp.removed, &mine),
    };
    for e in &mut entries {
        e.fields.subtract(&changed);
        e.fields.subtract(&cmp.removed);
    }
    if !changed.is_empty() {
        match entries.iter_mut().find(|e| e.same_owner(&mine)) {
            Some(e) => {
                e.fields.absorb(changed);
                e.time = mine.time;
            }
            None => entries.push(ManagedEntry {
                fields: changed,
                ..mine
            }),
        }
    }
    managed::store_with(new, &entries, kept);
}

/// Stored entries this write may change (it touches their top-level fields, or they belong
/// to `mine`'s owner), decoded; the rest kept in their stored form.
fn split_stored(
    list: Option<&Vec<Value>>,
    changed: &FieldSet,
    removed: &FieldSet,
    mine: &ManagedEntry,
) -> (Vec<ManagedEntry>, Vec<Value>) {
    let touched: Vec<String> = changed
        .top()
        .chain(removed.top())
        .map(|pe| pe.to_fields_key())
        .collect();
    let mut decoded: Vec<ManagedEntry> = Vec::new();
    let mut kept = Vec::new();
    for (i, item) in list.into_iter().flatten().enumerate() {
        let fields = item.get("fieldsV1").and_then(Value::as_object);
        let untouched = fields.is_some_and(|f| !touched.iter().any(|t| f.contains_key(t)));
        if untouched && !managed::is_owned_by(item, mine) {
            kept.push(item.clone());
            continue;
        }
        let Ok(entry) = ManagedEntry::from_json(i, item) else {
            continue;
        };
        match decoded.iter_mut().find(|e| e.same_owner(&entry)) {
            Some(e) => e.fields.absorb(entry.fields),
            None => decoded.push(entry),
        }
    }
    (decoded, kept)
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
