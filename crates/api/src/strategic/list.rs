//! Merging lists: by merge key for objects, as sets for scalars, with `$patch` elements.

use super::map::{fresh_value, merge_map};
use super::message::{self, values_equal};
use super::{check_depth, order, PatchError, Result, DIRECTIVE};
use crate::schema::Node;
use serde_json::{Map, Value};

/// Merges a patch list into the original list of a field whose strategy is `merge`.
pub(super) fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    field: Option<Node>,
    depth: usize,
) -> Result<Vec<Value>> {
    check_depth(depth)?;
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let objects = elements_are_objects(&original, &patch)?;
    let merge_key = field.and_then(|f| f.patch_merge_key());
    match (objects, merge_key) {
        (false, None) => merge_scalars(original, patch),
        (false, Some(_)) => {
            let first = original.iter().chain(&patch).next().unwrap_or(&Value::Null);
            Err(message::bad_arg_type("map[string]interface {}", first))
        }
        (true, None) => Err(PatchError(
            "cannot merge lists without merge key for type struct".into(),
        )),
        (true, Some(key)) => {
            let items = field.and_then(|f| f.items());
            merge_objects(original, patch, key, items, depth)
        }
    }
}

/// Removes every element equal to one in `remove` (`$deleteFromPrimitiveList`).
pub(super) fn delete_from(current: Vec<Value>, remove: &[Value]) -> Vec<Value> {
    current
        .into_iter()
        .filter(|v| !remove.iter().any(|r| values_equal(v, r)))
        .collect()
}

/// Whether all elements are objects; errors on lists of lists and mixed element types.
fn elements_are_objects(original: &[Value], patch: &[Value]) -> Result<bool> {
    let mut all = original.iter().chain(patch);
    let Some(first) = all.next() else {
        return Ok(false);
    };
    if first.is_array() {
        return Err(PatchError("lists of lists are not supported".into()));
    }
    let kind = message::go_type(first);
    if all.any(|v| message::go_type(v) != kind) {
        return Err(PatchError(format!(
            "list element types are not identical: [{} {}]",
            message::go_list(original),
            message::go_list(patch)
        )));
    }
    Ok(first.is_object())
}

fn merge_scalars(original: Vec<Value>, patch: Vec<Value>) -> Result<Vec<Value>> {
    let server_order = original.clone();
    let mut merged = original;
    for p in &patch {
        if !merged.iter().any(|m| values_equal(m, p)) {
            merged.push(p.clone());
        }
    }
    order::normalize(merged, &patch, &server_order, None)
}

fn merge_objects(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
    items: Option<Node>,
    depth: usize,
) -> Result<Vec<Value>> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for element in patch {
        let Value::Object(fields) = element else {
            continue;
        };
        let Some(directive) = fields.get(DIRECTIVE) else {
            plain.push(fields);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let Some(wanted) = fields.get(key) else {
                    return Err(message::no_merge_key(&fields, key));
                };
                original.retain(|o| !has_key_value(o, key, wanted));
            }
            Some("replace") => replace = true,
            Some("merge") => {
                return Err(PatchError(
                    "merging lists cannot yet be specified in the patch".into(),
                ))
            }
            _ => return Err(message::unknown_patch_type(directive, &fields)),
        }
    }
    if replace {
        return plain
            .into_iter()
            .map(|p| fresh_value(Value::Object(p), items, depth + 1))
            .collect();
    }
    let server_order = original.clone();
    let patch_order: Vec<Value> = plain.iter().cloned().map(Value::Object).collect();
    for fields in plain {
        let Some(wanted) = fields.get(key) else {
            return Err(message::no_merge_key(&fields, key));
        };
        match original.iter().position(|o| has_key_value(o, key, wanted)) {
            Some(i) => {
                let current = into_object(original[i].take());
                original[i] = Value::Object(merge_map(current, fields, items, depth + 1)?);
            }
            None => original.push(fresh_value(Value::Object(fields), items, depth + 1)?),
        }
    }
    order::normalize(original, &patch_order, &server_order, Some(key))
}

/// Whether an element's merge key equals `wanted`.
pub(super) fn has_key_value(element: &Value, key: &str, wanted: &Value) -> bool {
    element.get(key).is_some_and(|v| values_equal(v, wanted))
}

fn into_object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(fields) => fields,
        _ => Map::new(),
    }
}
