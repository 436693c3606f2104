//! Per-kind strategies: defaulting, create/update preparation and validation, like upstream's
//! registry strategies. OWNER: strategy helper. Interface below is fixed; fill the bodies.

use crate::{FieldError, ResourceType};
use serde_json::Value;

/// Fills defaults as upstream's defaulting functions do (pod spec, deployment strategy, …).
pub fn default(_rt: &ResourceType, _obj: &mut Value) {}

/// Prepares a new object before validation: drops or resets status where upstream does.
pub fn prepare_for_create(_rt: &ResourceType, _obj: &mut Value) {}

/// Prepares an update of the main resource: keeps the old status where the kind has a status
/// subresource, bumps `metadata.generation` when the spec changed.
pub fn prepare_for_update(_rt: &ResourceType, _new: &mut Value, _old: &Value) {}

/// Prepares an update through `/status`: keeps everything but status (and the metadata
/// upstream lets status writers change) from the old object.
pub fn prepare_for_status_update(_rt: &ResourceType, _new: &mut Value, _old: &Value) {}

/// Validates an object being created, including its metadata.
pub fn validate(_rt: &ResourceType, _obj: &Value) -> Vec<FieldError> {
    Vec::new()
}

/// Validates an update: everything `validate` checks plus immutable fields.
pub fn validate_update(rt: &ResourceType, new: &Value, _old: &Value) -> Vec<FieldError> {
    validate(rt, new)
}
