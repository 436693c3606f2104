//! Element order of merged lists: patch order, server order and `$setElementOrder`.

use super::map::fresh_value;
use super::message::{self, values_equal};
use super::{child, list, strategy, PatchError, Result, DIRECTIVE, SET_ELEMENT_ORDER};
use crate::schema::Node;
use serde_json::{Map, Value};

/// The identity of an element: its merge key value, or the element itself.
fn identity<'a>(element: &'a Value, key: Option<&str>) -> Result<&'a Value> {
    let Some(key) = key else {
        return Ok(element);
    };
    match element {
        Value::Object(fields) => fields
            .get(key)
            .ok_or_else(|| message::no_merge_key(fields, key)),
        other => Err(message::bad_arg_type("map[string]interface {}", other)),
    }
}

fn index_of(list: &[Value], id: &Value, key: Option<&str>) -> Option<usize> {
    list.iter()
        .position(|v| identity(v, key).is_ok_and(|other| values_equal(other, id)))
}

/// Orders merged elements: those in the patch by `patch_order`, the rest by `server_order`,
/// interleaved by their server positions (new patch elements come first).
pub(super) fn normalize(
    merged: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>> {
    for v in patch_order {
        identity(v, key)?;
    }
    let mut from_patch = Vec::new();
    let mut server_only = Vec::new();
    for v in merged {
        let id = identity(&v, key)?;
        match index_of(patch_order, id, key) {
            Some(i) => from_patch.push((i, v)),
            None => {
                let i = index_of(server_order, id, key).unwrap_or(usize::MAX);
                server_only.push((i, v));
            }
        }
    }
    from_patch.sort_by_key(|(i, _)| *i);
    server_only.sort_by_key(|(i, _)| *i);

    let server_index = |v: &Value| {
        identity(v, key)
            .ok()
            .and_then(|id| index_of(server_order, id, key))
    };
    let mut out = Vec::with_capacity(from_patch.len() + server_only.len());
    let mut left = server_only.into_iter().map(|(_, v)| v).peekable();
    let mut right = from_patch.into_iter().map(|(_, v)| v).peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => match (server_index(l), server_index(r)) {
                (Some(li), Some(ri)) => li < ri,
                _ => false,
            },
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    Ok(out)
}

/// Processes every `$setElementOrder/<field>` of a patch map, merging and ordering that field.
pub(super) fn apply_set_element_orders(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    node: Option<Node>,
    depth: usize,
) -> Result<()> {
    let directives: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for directive in directives {
        let Some(order) = patch.shift_remove(&directive) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(message::bad_arg_type("[]interface {}", &order));
        };
        let name = &directive[SET_ELEMENT_ORDER.len()..];
        let field = child(node, name);
        let key = field.and_then(|f| f.patch_merge_key());
        let current = take_list(original, name)?;
        let patched = take_list(patch, name)?;
        if let Some(p) = &patched {
            validate(p, &order, key)?;
        }
        let server_order = current.clone().unwrap_or_default();
        let merged = match (current, patched) {
            (None, None) => continue,
            (Some(c), None) => c,
            (Some(c), Some(p)) if strategy(field) == Some("merge") => {
                list::merge_list(c, p, field, depth + 1)?
            }
            (_, Some(p)) => match fresh_value(Value::Array(p), field, depth + 1)? {
                Value::Array(items) => items,
                _ => Vec::new(),
            },
        };
        let key = key.filter(|_| merged.iter().all(Value::is_object));
        let ordered = normalize(merged, &order, &server_order, key)?;
        original.insert(name.to_string(), Value::Array(ordered));
    }
    Ok(())
}

/// Removes and returns a list-valued field.
fn take_list(map: &mut Map<String, Value>, name: &str) -> Result<Option<Vec<Value>>> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::Array(_)) => match map.shift_remove(name) {
            Some(Value::Array(items)) => Ok(Some(items)),
            _ => Ok(None),
        },
        Some(other) => Err(message::bad_arg_type("[]interface {}", other)),
    }
}

/// Checks that the patch list's elements appear in the same relative order as in `order`.
fn validate(patch: &[Value], order: &[Value], key: Option<&str>) -> Result<()> {
    if patch.is_empty() || order.is_empty() {
        return Ok(());
    }
    let is_delete = |v: &Value| v.get(DIRECTIVE).and_then(Value::as_str) == Some("delete");
    let kept: Vec<&Value> = match key {
        Some(_) => patch.iter().filter(|v| !is_delete(v)).collect(),
        None => patch.iter().collect(),
    };
    let (mut p, mut o) = (0, 0);
    while p < kept.len() && o < order.len() {
        if kept[p].get(DIRECTIVE).is_some() {
            p += 1;
            continue;
        }
        if values_equal(identity(kept[p], key)?, identity(&order[o], key)?) {
            p += 1;
        }
        o += 1;
    }
    if p < kept.len() {
        return Err(PatchError(format!(
            "The order in patch list:\n{}\n doesn't match $setElementOrder list:\n{}\n",
            message::go_list(patch),
            message::go_list(order)
        )));
    }
    Ok(())
}
