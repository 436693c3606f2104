//! Apply conflicts and their upstream wording (`Apply failed with 1 conflict: ...`).

use serde_json::{json, Value};
use std::fmt;

/// A field the applier would change that another manager owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The owning manager's name.
    pub manager: String,
    /// How the owner is printed (`"kubectl-scale" using apps/v1`).
    pub owner: String,
    /// The field path (`.spec.replicas`).
    pub field: String,
}

/// Every conflict of one apply, grouped by owner in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflicts(pub Vec<Conflict>);

impl Conflicts {
    /// The Status message upstream returns.
    pub fn message(&self) -> String {
        match self.0.as_slice() {
            [one] => format!(
                "Apply failed with 1 conflict: conflict with {}: {}",
                one.owner, one.field
            ),
            all => {
                let mut owners: Vec<&str> = all.iter().map(|c| c.owner.as_str()).collect();
                owners.sort_unstable();
                owners.dedup();
                let mut lines = Vec::new();
                for owner in owners {
                    lines.push(format!("conflicts with {owner}:"));
                    for c in all.iter().filter(|c| c.owner == owner) {
                        lines.push(format!("- {}", c.field));
                    }
                }
                format!(
                    "Apply failed with {} conflicts: {}",
                    all.len(),
                    lines.join("\n")
                )
            }
        }
    }

    /// The Status `details.causes` (reason `FieldManagerConflict`).
    pub fn causes(&self) -> Vec<Value> {
        self.0
            .iter()
            .map(|c| {
                json!({
                    "reason": "FieldManagerConflict",
                    "message": format!("conflict with {}", c.owner),
                    "field": c.field,
                })
            })
            .collect()
    }
}

impl fmt::Display for Conflicts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Conflicts {}
