//! Structured merge, comparison and removal of values, guided by their types.

use super::path::{Path, PathElement};
use super::set::FieldSet;
use super::typed::{field_set, item_element, Kind, Type};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, VecDeque};

/// Merges an applied configuration into a live value; the configuration wins on leaves.
pub fn merge(ty: &Type, lhs: Option<&Value>, rhs: Option<&Value>) -> Value {
    let (l, r) = match (lhs, rhs) {
        (Some(l), Some(r)) => (l, r),
        (Some(v), None) => return v.clone(),
        (None, Some(v)) => return without_nulls(v),
        (None, None) => return Value::Null,
    };
    let kind = ty.kind(r);
    if r.is_null() && ty.kind(l) != Kind::Leaf {
        return l.clone();
    }
    if kind != ty.kind(l) {
        return r.clone();
    }
    match (&kind, l, r) {
        (Kind::Fields, Value::Object(lo), Value::Object(ro)) => {
            let mut out = Map::new();
            for (k, lv) in lo {
                let merged = merge(&ty.field(k), Some(lv), ro.get(k));
                if !merged.is_null() || lv.is_null() {
                    out.insert(k.clone(), merged);
                }
            }
            for (k, rv) in ro {
                if !lo.contains_key(k) && !rv.is_null() {
                    out.insert(k.clone(), without_nulls(rv));
                }
            }
            Value::Object(out)
        }
        (Kind::SetList | Kind::MapList(_), Value::Array(la), Value::Array(ra)) => {
            Value::Array(merge_list(ty, &kind, la, ra))
        }
        _ => r.clone(),
    }
}

/// A configured value with `null` object members dropped, as decoding into types does.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Index of the first item with each identity.
fn first_index(keys: &[Option<PathElement>]) -> BTreeMap<&PathElement, usize> {
    let mut index = BTreeMap::new();
    for (i, pe) in keys.iter().enumerate() {
        if let Some(pe) = pe {
            index.entry(pe).or_insert(i);
        }
    }
    index
}

/// Merges list items by identity, keeping the configuration's order for shared items.
fn merge_list(ty: &Type, kind: &Kind, l: &[Value], r: &[Value]) -> Vec<Value> {
    let l_keys: Vec<_> = l.iter().map(|v| item_element(ty, kind, v).ok()).collect();
    let r_keys: Vec<_> = r.iter().map(|v| item_element(ty, kind, v).ok()).collect();
    let (l_index, r_index) = (first_index(&l_keys), first_index(&r_keys));
    let in_r = |k: &Option<PathElement>| k.as_ref().is_some_and(|k| r_index.contains_key(k));
    let mut shared: VecDeque<&PathElement> = r_index
        .iter()
        .filter(|(pe, _)| l_index.contains_key(*pe))
        .map(|(pe, _)| *pe)
        .collect();
    shared.make_contiguous().sort_by_key(|pe| r_index[pe]);
    let mut next = shared.pop_front();
    let item_ty = ty.item();
    let merge_item = |lv: Option<&Value>, rv: &Value| match kind {
        Kind::MapList(_) => merge(&item_ty, lv, Some(rv)),
        _ => rv.clone(),
    };
    let mut out = Vec::with_capacity(l.len().max(r.len()));
    let (mut li, mut ri) = (0, 0);
    while li < l.len() || ri < r.len() {
        if li < l.len() && ri < r.len() {
            if l_keys[li].is_some() && l_keys[li] == r_keys[ri] {
                out.push(merge_item(Some(&l[li]), &r[ri]));
                (li, ri) = (li + 1, ri + 1);
                next = shared.pop_front();
                continue;
            }
            if in_r(&l_keys[li]) && next.is_some_and(|n| Some(n) != l_keys[li].as_ref()) {
                li += 1;
                continue;
            }
        }
        if li < l.len() && !in_r(&l_keys[li]) {
            out.push(l[li].clone());
            li += 1;
            continue;
        }
        if ri < r.len() {
            let key = r_keys[ri].as_ref();
            let lv = key.and_then(|k| l_index.get(k)).map(|&i| &l[i]);
            out.push(merge_item(lv, &r[ri]));
            if key.is_some() && next == key {
                next = shared.pop_front();
            }
            ri += 1;
            continue;
        }
        li += 1;
    }
    out
}

/// Fields added, removed and modified between two values (upstream `Comparison`).
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// Fields present only in the new value.
    pub added: FieldSet,
    /// Fields present only in the old value.
    pub removed: FieldSet,
    /// Leaves present in both with different values.
    pub modified: FieldSet,
}

impl Comparison {
    /// Whether the two values were the same.
    pub fn is_same(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.modified.is_empty()
    }
}

/// Compares an old value with a new one.
pub fn compare(ty: &Type, old: Option<&Value>, new: Option<&Value>) -> Comparison {
    let mut c = Comparison::default();
    compare_at(ty, old, new, &mut Vec::new(), &mut c, Walk::Plain);
    c
}

/// Compares an object before and after an ordinary write, as the field manager does: only
/// the top-level fields `keep` accepts, `metadata.managedFields` left out, and a nested
/// struct missing on one side counted as empty (upstream's typed objects always carry them).
pub fn compare_for_update(
    ty: &Type,
    old: Option<&Value>,
    new: &Value,
    keep: &dyn Fn(&str) -> bool,
) -> Comparison {
    let empty = Value::Object(Map::new());
    let mut c = Comparison::default();
    let old = old.unwrap_or(&empty);
    compare_at(
        ty,
        Some(old),
        Some(new),
        &mut Vec::new(),
        &mut c,
        Walk::Root(keep),
    );
    c
}

/// How a comparison walks the level below.
#[derive(Clone, Copy)]
enum Walk<'a> {
    /// Values as they are.
    Plain,
    /// Struct fields missing on one side count as empty structs.
    Skeleton,
    /// The object root: as `Skeleton`, comparing only the names `keep` accepts.
    Root(&'a dyn Fn(&str) -> bool),
    /// `metadata` under the root: as `Skeleton`, without `managedFields`.
    Metadata,
}

static EMPTY_OBJECT: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| Value::Object(Map::new()));

fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    }
}

/// The two sides of a struct field and how to walk below it, with a missing struct filled
/// in as empty when `walk` asks for that.
fn field_sides<'v>(
    ty: &Type,
    name: &str,
    child: &Type,
    lv: Option<&'v Value>,
    rv: Option<&'v Value>,
    walk: Walk<'_>,
) -> (Option<&'v Value>, Option<&'v Value>, Walk<'static>) {
    if matches!(walk, Walk::Plain) || !(ty.is_struct_field(name) && child.is_struct()) {
        return (lv, rv, Walk::Plain);
    }
    let is_struct = |v: &Value| v.is_object() && child.kind(v) == Kind::Fields;
    let empty: &'v Value = &EMPTY_OBJECT;
    let (lv, rv) = match (lv, rv) {
        (None, Some(r)) if is_struct(r) => (Some(empty), Some(r)),
        (Some(l), None) if is_struct(l) => (Some(l), Some(empty)),
        other => other,
    };
    let below = match (lv, rv) {
        (Some(l), Some(r)) if l.is_object() && is_struct(r) || r.is_object() && is_struct(l) => {
            if matches!(walk, Walk::Root(_)) && name == "metadata" {
                Walk::Metadata
            } else {
                Walk::Skeleton
            }
        }
        _ => Walk::Plain,
    };
    (lv, rv, below)
}

fn compare_at(
    ty: &Type,
    l: Option<&Value>,
    r: Option<&Value>,
    path: &mut Path,
    c: &mut Comparison,
    walk: Walk<'_>,
) {
    let (lk, rk) = (l.map(|v| ty.kind(v)), r.map(|v| ty.kind(v)));
    let Some(kind) = rk.clone().or(lk.clone()) else {
        return;
    };
    let mismatch = lk.is_some() && rk.is_some() && lk != rk;
    if kind == Kind::Leaf || mismatch || (is_empty(l) && is_empty(r)) {
        match (l, r) {
            (None, Some(_)) => c.added.insert(path),
            (Some(_), None) => c.removed.insert(path),
            (Some(a), Some(b)) if a != b => c.modified.insert(path),
            _ => {}
        }
        return;
    }
    match kind {
        Kind::Fields => {
            let (lo, ro) = (l.and_then(Value::as_object), r.and_then(Value::as_object));
            let only_new = ro
                .into_iter()
                .flat_map(|m| m.keys())
                .filter(|k| lo.is_none_or(|lo| !lo.contains_key(*k)));
            let names = lo.into_iter().flat_map(|m| m.keys()).chain(only_new);
            for name in names {
                let skip = match walk {
                    Walk::Root(keep) => !keep(name),
                    Walk::Metadata => name == "managedFields",
                    _ => false,
                };
                if skip {
                    continue;
                }
                let child = ty.field(name);
                let (lv, rv) = (lo.and_then(|m| m.get(name)), ro.and_then(|m| m.get(name)));
                let (lv, rv, below) = field_sides(ty, name, &child, lv, rv, walk);
                path.push(PathElement::Field(name.clone()));
                compare_at(&child, lv, rv, path, c, below);
                path.pop();
            }
        }
        Kind::SetList | Kind::MapList(_) => {
            fn items<'v>(
                ty: &Type,
                kind: &Kind,
                v: Option<&'v Value>,
            ) -> BTreeMap<PathElement, &'v Value> {
                let list = v
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let mut out = BTreeMap::new();
                for item in list {
                    if let Ok(pe) = item_element(ty, kind, item) {
                        out.entry(pe).or_insert(item);
                    }
                }
                out
            }
            let (li, ri) = (items(ty, &kind, l), items(ty, &kind, r));
            let item_ty = ty.item();
            for pe in li.keys().chain(ri.keys().filter(|k| !li.contains_key(*k))) {
                path.push(pe.clone());
                let (lv, rv) = (li.get(pe).copied(), ri.get(pe).copied());
                compare_at(&item_ty, lv, rv, path, c, Walk::Plain);
                path.pop();
            }
        }
        Kind::Leaf => {}
    }
    if l.is_none() {
        c.added.insert(path);
    } else if r.is_none() {
        c.removed.insert(path);
    }
}

/// Removes every field, map entry and list item named by `set` (upstream `RemoveItems`).
pub fn remove_items(ty: &Type, value: &Value, set: &FieldSet) -> Value {
    let kind = ty.kind(value);
    match (&kind, value) {
        (Kind::Fields, Value::Object(obj)) => {
            let mut out = Map::new();
            for (name, v) in obj {
                let pe = PathElement::Field(name.clone());
                if set.has_member(&pe) {
                    continue;
                }
                let kept = match set.child(&pe) {
                    Some(sub) => remove_items(&ty.field(name), v, sub),
                    None => v.clone(),
                };
                if !is_empty(Some(&kept)) || is_empty(Some(v)) {
                    out.insert(name.clone(), kept);
                }
            }
            Value::Object(out)
        }
        (Kind::SetList | Kind::MapList(_), Value::Array(items)) => {
            let item_ty = ty.item();
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let Ok(pe) = item_element(ty, &kind, item) else {
                    out.push(item.clone());
                    continue;
                };
                if set.has_member(&pe) {
                    continue;
                }
                out.push(match set.child(&pe) {
                    Some(sub) => remove_items(&item_ty, item, sub),
                    None => item.clone(),
                });
            }
            Value::Array(out)
        }
        _ => value.clone(),
    }
}

/// Removes fields the applier owned last time that nobody owns now (upstream `prune`).
pub fn prune(ty: &Type, merged: &Value, last: &FieldSet, owned: &FieldSet) -> Value {
    if last.is_empty() {
        return merged.clone();
    }
    let present = field_set(ty, merged).with_parents();
    let remove = present
        .intersection(&last.with_parents())
        .difference(&owned.with_parents());
    remove_items(ty, merged, &remove)
}

#[cfg(test)]
mod tests;
