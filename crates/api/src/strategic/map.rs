//! Merging a patch map into an original map, field by field.

use super::{check_depth, child, list, message, order, strategy, Result};
use super::{PatchError, DELETE_FROM_PRIMITIVE_LIST, DIRECTIVE, RETAIN_KEYS, SET_ELEMENT_ORDER};
use crate::schema::Node;
use serde_json::{Map, Value};

/// Merges `patch` into `original`; `node` is the schema both maps follow.
pub(super) fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    node: Option<Node>,
    depth: usize,
) -> Result<Map<String, Value>> {
    check_depth(depth)?;
    if let Some(directive) = patch.get(DIRECTIVE) {
        match directive.as_str() {
            Some("replace") => {
                patch.shift_remove(DIRECTIVE);
                return merge_map(Map::new(), patch, node, depth + 1);
            }
            Some("delete") => return Ok(Map::new()),
            Some("merge") => {
                patch.shift_remove(DIRECTIVE);
            }
            _ => return Err(message::unknown_patch_type(directive, &patch)),
        }
    }
    if let Some(keys) = patch.shift_remove(RETAIN_KEYS) {
        retain_keys(&mut original, &patch, &keys)?;
    }
    order::apply_set_element_orders(&mut original, &mut patch, node, depth)?;

    for (key, value) in patch {
        let (key, delete_list) = match key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            Some(field) => (field.to_string(), true),
            None => (key, false),
        };
        if value.is_null() {
            original.shift_remove(&key);
            continue;
        }
        let field = child(node, &key);
        match original.get_mut(&key) {
            None if delete_list => {}
            None => {
                let fresh = fresh_value(value, field, depth + 1)?;
                original.insert(key, fresh);
            }
            Some(slot) => {
                let current = slot.take();
                *slot = merge_value(current, value, field, delete_list, depth + 1)?;
            }
        }
    }
    Ok(original)
}

/// Merges one field's patch value into its current value.
fn merge_value(
    current: Value,
    patch: Value,
    field: Option<Node>,
    delete_list: bool,
    depth: usize,
) -> Result<Value> {
    match (current, patch) {
        (Value::Array(current), Value::Array(patch)) if delete_list => {
            Ok(Value::Array(list::delete_from(current, &patch)))
        }
        (current, _) if delete_list => Ok(current),
        (Value::Object(current), Value::Object(patch)) => {
            if strategy(field) == Some("replace") {
                fresh_value(Value::Object(patch), field, depth)
            } else {
                merge_map(current, patch, field, depth).map(Value::Object)
            }
        }
        (Value::Array(current), Value::Array(patch)) if strategy(field) == Some("merge") => {
            list::merge_list(current, patch, field, depth).map(Value::Array)
        }
        (_, patch) => fresh_value(patch, field, depth),
    }
}

/// A patch value for a field the original lacks: directives applied, nulls dropped.
pub(super) fn fresh_value(value: Value, field: Option<Node>, depth: usize) -> Result<Value> {
    check_depth(depth)?;
    match value {
        Value::Object(patch) => merge_map(Map::new(), patch, field, depth + 1).map(Value::Object),
        Value::Array(items) if strategy(field) == Some("merge") => {
            list::merge_list(Vec::new(), items, field, depth + 1).map(Value::Array)
        }
        Value::Array(items) => {
            let item = field.and_then(|f| f.items());
            let items = items
                .into_iter()
                .map(|v| fresh_value(v, item, depth + 1))
                .collect::<Result<_>>()?;
            Ok(Value::Array(items))
        }
        scalar => Ok(scalar),
    }
}

/// Applies `$retainKeys`: drops original fields the list omits; the patch may only set listed ones.
fn retain_keys(
    original: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    keys: &Value,
) -> Result<()> {
    let Value::Array(keys) = keys else {
        return Err(PatchError("invalid patch format of retainKeys".into()));
    };
    let listed = |k: &str| keys.iter().any(|v| v.as_str() == Some(k));
    let unlisted = patch.iter().any(|(k, v)| {
        !v.is_null()
            && !k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            && !k.starts_with(SET_ELEMENT_ORDER)
            && !listed(k)
    });
    if unlisted {
        return Err(PatchError("invalid patch format of retainKeys".into()));
    }
    original.retain(|k, _| listed(k));
    Ok(())
}
