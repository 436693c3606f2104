//! Label and field selectors: parsing (upstream syntax) and matching.
//! OWNER: printers helper. Interface below is fixed; fill the bodies.

use serde_json::Value;

/// A selector string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

/// A parsed label selector (`a=b,c!=d,e in (f,g),!h`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {}

impl LabelSelector {
    /// Parses the `labelSelector` query syntax.
    pub fn parse(_s: &str) -> Result<Self, SelectorError> {
        Ok(LabelSelector {})
    }

    /// Whether an object's `metadata.labels` (a JSON object, or null) match.
    pub fn matches(&self, _labels: Option<&Value>) -> bool {
        true
    }
}

/// A parsed field selector (`metadata.name=x,status.phase!=Running`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    /// (field, operator-is-equality, value)
    pub requirements: Vec<(String, bool, String)>,
}

impl FieldSelector {
    /// Parses the `fieldSelector` query syntax.
    pub fn parse(_s: &str) -> Result<Self, SelectorError> {
        Ok(FieldSelector::default())
    }
}
