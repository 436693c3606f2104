//! Strategic merge patch for built-in kinds (merge keys, `$patch`, `$setElementOrder`,
//! `$retainKeys`, `$deleteFromPrimitiveList`). OWNER: schema/patch helper.

use crate::ResourceType;
use serde_json::Value;

/// A patch that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(pub String);

/// Applies a strategic merge patch to an object of the given type.
pub fn apply(_rt: &ResourceType, _original: &Value, _patch: &Value) -> Result<Value, PatchError> {
    Err(PatchError("strategic merge patch is not implemented".into()))
}
