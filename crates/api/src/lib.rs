//! Resource catalogue, per-kind strategies, selectors, patch engines and OpenAPI. No I/O.
#![allow(clippy::module_name_repetitions)]

pub mod apply;
pub mod catalogue;
pub mod convert;
pub mod field_error;
pub mod fields;
pub mod openapi;
pub mod patch_meta;
pub mod printers;
pub mod protobuf;
pub mod schema;
pub mod selectors;
pub mod strategic;
pub mod strategy;

pub use catalogue::{ResourceType, Subresource};
pub use field_error::{ErrorType, FieldError};
