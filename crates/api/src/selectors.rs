//! Label and field selectors: parsing (upstream syntax) and matching.

mod field;
mod label;
mod parser;
mod requirement;
mod validation;

pub use field::{escape_value, unescape_value, FieldSelector};
pub use label::LabelSelector;
pub use requirement::{Operator, Requirement};
pub use validation::{is_dns1123_subdomain, is_label_value, is_qualified_name};
pub(crate) use validation::{length_and_format, max_len_error, regex_error};

/// A selector string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);
