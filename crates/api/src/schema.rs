//! JSON schemas of every built-in kind from k8s-openapi, with our patch metadata added.

mod build;
pub mod kinds;
mod navigate;
mod unknown;

pub use navigate::{Node, Shape};
pub use unknown::{prune_unknown_fields, unknown_fields};

use crate::ResourceType;
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// The prefix of every `$ref` in the registry (OpenAPI v3 form).
pub const REF_PREFIX: &str = "#/components/schemas/";

/// Every definition, keyed by name (`io.k8s.api.apps.v1.Deployment`), in OpenAPI v3 form.
#[derive(Debug)]
pub struct Registry {
    definitions: Map<String, Value>,
}

impl Registry {
    /// All definitions, sorted by name.
    pub fn definitions(&self) -> &Map<String, Value> {
        &self.definitions
    }

    /// One definition by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.definitions.get(name)
    }
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// The registry, built on first use.
pub fn registry() -> &'static Registry {
    REGISTRY.get_or_init(|| Registry {
        definitions: build::definitions(),
    })
}

/// Builds the registry now (call at start-up); returns how long it took.
pub fn warm() -> std::time::Duration {
    let start = std::time::Instant::now();
    registry();
    start.elapsed()
}

/// Builds the registry on a background thread so the first request finds it ready.
pub fn warm_in_background() {
    if REGISTRY.get().is_none() {
        std::thread::spawn(registry);
    }
}

/// One definition by name.
pub fn definition(name: &str) -> Option<&'static Value> {
    registry().get(name)
}

/// The definition name of a served kind (`io.k8s.api.apps.v1.Deployment`).
pub fn definition_name(rt: &ResourceType) -> String {
    match kinds::find(rt.group, rt.version, rt.kind) {
        Some(k) => k.definition.to_string(),
        None => guessed_definition_name(rt.group, rt.version, rt.kind),
    }
}

/// The definition name of a served kind's list (`io.k8s.api.apps.v1.DeploymentList`).
pub fn list_definition_name(rt: &ResourceType) -> String {
    format!("{}List", definition_name(rt))
}

/// Upstream's naming rule: `io.k8s.api.<first group label or core>.<version>.<Kind>`.
fn guessed_definition_name(group: &str, version: &str, kind: &str) -> String {
    let package = match group.split('.').next() {
        None | Some("") => "core",
        Some(p) => p,
    };
    format!("io.k8s.api.{package}.{version}.{kind}")
}

/// The definition name a `$ref` points at.
pub fn ref_name(reference: &str) -> Option<&str> {
    reference
        .strip_prefix(REF_PREFIX)
        .or_else(|| reference.strip_prefix("#/definitions/"))
}

#[cfg(test)]
mod tests;
