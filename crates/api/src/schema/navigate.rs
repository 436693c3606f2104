//! Walking the registry: from a definition to its fields, list items and map values.

use super::{ref_name, registry};
use serde_json::Value;

/// What kind of JSON value a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// An object with named properties.
    Object,
    /// An object with arbitrary keys (`additionalProperties`).
    Map,
    /// An array.
    List,
    /// A string, number, boolean or int-or-string.
    Scalar,
    /// Anything (`RawExtension`, `FieldsV1`, schema-less objects).
    Any,
}

/// A position in the registry: a property's own schema and what it resolves to.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    schema: &'static Value,
    resolved: &'static Value,
    definition: Option<&'static str>,
}

const MAX_REF_DEPTH: usize = 8;

impl Node {
    /// The node of a named definition.
    pub fn definition(name: &str) -> Option<Node> {
        let (key, schema) = registry().definitions().get_key_value(name)?;
        Some(Node {
            definition: Some(key.as_str()),
            ..Node::from_schema(schema)
        })
    }

    /// The node for a served kind's top-level schema.
    pub fn for_kind(rt: &crate::ResourceType) -> Option<Node> {
        Node::definition(&super::definition_name(rt))
    }

    /// A node for a schema, following `$ref` and single-element `allOf`.
    pub fn from_schema(schema: &'static Value) -> Node {
        let mut resolved = schema;
        let mut name = None;
        for _ in 0..MAX_REF_DEPTH {
            let target = resolved
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(ref_name)
                .and_then(|target| registry().definitions().get_key_value(target));
            if let Some((key, def)) = target {
                resolved = def;
                name = Some(key.as_str());
                continue;
            }
            match resolved.get("allOf").and_then(Value::as_array) {
                Some(all) if all.len() == 1 => resolved = &all[0],
                _ => break,
            }
        }
        Node {
            schema,
            resolved,
            definition: name,
        }
    }

    /// The property's own schema (with the `x-kubernetes-*` extensions).
    pub fn schema(&self) -> &'static Value {
        self.schema
    }

    /// The schema after following references.
    pub fn resolved(&self) -> &'static Value {
        self.resolved
    }

    /// The definition this node resolves to, if it is a reference.
    pub fn definition_name(&self) -> Option<&'static str> {
        self.definition
    }

    /// What kind of value the node describes.
    pub fn shape(&self) -> Shape {
        let r = self.resolved;
        if r.get("properties").is_some_and(Value::is_object) {
            return Shape::Object;
        }
        if r.get("additionalProperties").is_some_and(Value::is_object) {
            return Shape::Map;
        }
        match r.get("type").and_then(Value::as_str) {
            Some("array") => Shape::List,
            Some("object") | None if r.get("oneOf").is_none() => Shape::Any,
            _ => Shape::Scalar,
        }
    }

    /// The schema of a named property.
    pub fn field(&self, name: &str) -> Option<Node> {
        let property = self.resolved.get("properties")?.get(name)?;
        Some(Node::from_schema(property))
    }

    /// The schema of list items.
    pub fn items(&self) -> Option<Node> {
        Some(Node::from_schema(self.resolved.get("items")?))
    }

    /// The schema of map values.
    pub fn values(&self) -> Option<Node> {
        let values = self.resolved.get("additionalProperties")?;
        values.is_object().then(|| Node::from_schema(values))
    }

    fn extension(&self, name: &str) -> Option<&'static str> {
        self.schema.get(name).and_then(Value::as_str)
    }

    /// `x-kubernetes-patch-strategy` of this property.
    pub fn patch_strategy(&self) -> Option<&'static str> {
        self.extension("x-kubernetes-patch-strategy")
    }

    /// `x-kubernetes-patch-merge-key` of this property.
    pub fn patch_merge_key(&self) -> Option<&'static str> {
        self.extension("x-kubernetes-patch-merge-key")
    }

    /// `x-kubernetes-list-type` of this property.
    pub fn list_type(&self) -> Option<&'static str> {
        self.extension("x-kubernetes-list-type")
    }

    /// `x-kubernetes-list-map-keys` of this property.
    pub fn list_map_keys(&self) -> Vec<&'static str> {
        self.schema
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .map(|keys| keys.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// The description shown by `kubectl explain`.
    pub fn description(&self) -> Option<&'static str> {
        self.schema
            .get("description")
            .or_else(|| self.resolved.get("description"))
            .and_then(Value::as_str)
    }
}
