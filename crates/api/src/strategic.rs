//! Strategic merge patch for built-in kinds (merge keys, `$patch`, `$setElementOrder`,
//! `$retainKeys`, `$deleteFromPrimitiveList`), following k8s.io/apimachinery's strategicpatch.

mod list;
mod map;
mod message;
mod order;

use crate::schema::{Node, Shape};
use crate::ResourceType;
use serde_json::{Map, Value};

/// A patch that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(pub String);

type Result<T, E = PatchError> = std::result::Result<T, E>;

/// The key of the `$patch` directive (`replace`, `delete`, `merge`).
pub const DIRECTIVE: &str = "$patch";
/// The key listing the fields a `retainKeys` struct keeps.
pub const RETAIN_KEYS: &str = "$retainKeys";
/// The prefix of keys giving the order of a merged list.
pub const SET_ELEMENT_ORDER: &str = "$setElementOrder/";
/// The prefix of keys listing scalars to remove from a merged list.
pub const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";

/// Deepest nesting a patch may have.
const MAX_DEPTH: usize = 200;

/// Applies a strategic merge patch to an object of the given type.
pub fn apply(rt: &ResourceType, original: &Value, patch: &Value) -> Result<Value, PatchError> {
    apply_with_schema(Node::for_kind(rt), original, patch)
}

/// Applies a strategic merge patch using a schema node (`None`: no merge keys, lists replace).
pub fn apply_with_schema(
    node: Option<Node>,
    original: &Value,
    patch: &Value,
) -> Result<Value, PatchError> {
    let Value::Object(patch) = patch else {
        return Err(message::bad_json_doc());
    };
    let original = match original {
        Value::Object(fields) => fields.clone(),
        Value::Null => Map::new(),
        _ => return Err(message::bad_json_doc()),
    };
    map::merge_map(original, patch.clone(), node, 0).map(Value::Object)
}

/// The schema of a map's entry: a named property or the map's value schema.
fn child(node: Option<Node>, key: &str) -> Option<Node> {
    let node = node?;
    match node.shape() {
        Shape::Object => node.field(key),
        Shape::Map => node.values(),
        _ => None,
    }
}

/// The patch strategy of a field with `retainKeys` removed (`merge`, `replace` or none).
fn strategy(field: Option<Node>) -> Option<&'static str> {
    field?
        .patch_strategy()?
        .split(',')
        .find(|s| *s != "retainKeys")
}

fn check_depth(depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(PatchError(format!(
            "patch is nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
