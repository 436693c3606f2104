//! How the schema shapes ownership: granular structs and maps, set and map lists, atomics.

use super::path::{path_string, Path, PathElement};
use super::set::FieldSet;
use crate::schema::{Node, Shape};
use crate::ResourceType;
use serde_json::Value;
use std::collections::BTreeSet;

/// The schema of a value, or `None` where the type is deduced from the value itself.
#[derive(Debug, Clone, Copy)]
pub struct Type(Option<Node>);

/// How a value takes part in merging and ownership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Owned and replaced as a whole: scalars, atomic lists and maps, mismatched values.
    Leaf,
    /// An object whose fields are owned one by one.
    Fields,
    /// A list of scalars owned item by item (`v:`).
    SetList,
    /// A list of objects owned item by item, identified by key fields (`k:`).
    MapList(Vec<&'static str>),
}

impl Type {
    /// The type of a served kind's objects; custom kinds are deduced.
    pub fn of(rt: &ResourceType) -> Type {
        Type(Node::for_kind(rt))
    }

    /// A type deduced from values: objects are granular, lists atomic.
    pub fn deduced() -> Type {
        Type(None)
    }

    fn atomic_map(node: &Node) -> bool {
        let marker =
            |v: &Value| v.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic");
        marker(node.schema()) || marker(node.resolved())
    }

    /// How `value` of this type is merged and owned.
    pub fn kind(&self, value: &Value) -> Kind {
        let granular = match self.0 {
            None => value.is_object(),
            Some(node) => match node.shape() {
                Shape::Object | Shape::Map => !Type::atomic_map(&node),
                Shape::Any => true,
                Shape::Scalar => false,
                Shape::List => {
                    if !value.is_array() {
                        return Kind::Leaf;
                    }
                    let keys = node.list_map_keys();
                    return match node.list_type() {
                        Some("map") if !keys.is_empty() => Kind::MapList(keys),
                        Some("map" | "set") => Kind::SetList,
                        _ => Kind::Leaf,
                    };
                }
            },
        };
        if granular && value.is_object() {
            Kind::Fields
        } else {
            Kind::Leaf
        }
    }

    /// The type of a struct field or map value; unknown fields are deduced.
    pub fn field(&self, name: &str) -> Type {
        Type(self.0.and_then(|n| match n.shape() {
            Shape::Object => n.field(name),
            Shape::Map => n.values(),
            _ => None,
        }))
    }

    /// Whether `name` is a declared struct field (map keys and unknown fields are not).
    pub fn is_struct_field(&self, name: &str) -> bool {
        self.0
            .is_some_and(|n| n.shape() == Shape::Object && n.field(name).is_some())
    }

    /// Whether the type is a struct with declared fields.
    pub fn is_struct(&self) -> bool {
        self.0.is_some_and(|n| n.shape() == Shape::Object)
    }

    /// The type of list items.
    pub fn item(&self) -> Type {
        Type(self.0.and_then(|n| n.items()))
    }

    /// The default of an item's key field, where upstream's schema declares one.
    fn key_default(&self, key: &str) -> Option<Value> {
        let declared = self.item().0?.field(key)?.schema().get("default").cloned();
        declared.or_else(|| (key == "protocol").then(|| Value::from("TCP")))
    }
}

/// The path element of a list item, or why the item cannot be identified.
pub fn item_element(ty: &Type, kind: &Kind, item: &Value) -> Result<PathElement, String> {
    match kind {
        Kind::MapList(keys) => {
            let Value::Object(obj) = item else {
                return Err("associative list with keys may not have non-map elements".into());
            };
            let mut fields = Vec::with_capacity(keys.len());
            for key in keys {
                match obj.get(*key).cloned().or_else(|| ty.key_default(key)) {
                    Some(v) => fields.push((key.to_string(), v)),
                    None => return Err(format!(
                        "associative list with keys has an element that omits key field {key:?} (and doesn't have default value)"
                    )),
                }
            }
            Ok(PathElement::key(fields))
        }
        _ => Ok(PathElement::Value(item.clone())),
    }
}

/// The fields a value specifies (upstream `ToFieldSet`).
pub fn field_set(ty: &Type, value: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    walk(ty, value, &mut Vec::new(), &mut set);
    set
}

fn walk(ty: &Type, value: &Value, path: &mut Path, set: &mut FieldSet) {
    let kind = ty.kind(value);
    match (&kind, value) {
        (Kind::Fields, Value::Object(obj)) => {
            for (name, child) in obj {
                path.push(PathElement::Field(name.clone()));
                let child_ty = ty.field(name);
                walk(&child_ty, child, path, set);
                let empty = child.is_null() || child.as_object().is_some_and(|m| m.is_empty());
                if empty || !ty.is_struct_field(name) {
                    set.insert(path);
                }
                path.pop();
            }
        }
        (Kind::SetList | Kind::MapList(_), Value::Array(items)) => {
            let item_ty = ty.item();
            for item in items {
                let Ok(pe) = item_element(ty, &kind, item) else {
                    continue;
                };
                path.push(pe);
                if matches!(kind, Kind::MapList(_)) {
                    walk(&item_ty, item, path, set);
                }
                set.insert(path);
                path.pop();
            }
        }
        _ => set.insert(path),
    }
}

/// Checks that every list item of an applied configuration has a unique identity.
pub fn validate(ty: &Type, value: &Value, path: &mut Path) -> Result<(), String> {
    let kind = ty.kind(value);
    match (&kind, value) {
        (Kind::Fields, Value::Object(obj)) => {
            for (name, child) in obj {
                path.push(PathElement::Field(name.clone()));
                validate(&ty.field(name), child, path)?;
                path.pop();
            }
        }
        (Kind::SetList | Kind::MapList(_), Value::Array(items)) => {
            let mut seen = BTreeSet::new();
            let item_ty = ty.item();
            for (i, item) in items.iter().enumerate() {
                let at = path_string(path);
                let pe =
                    item_element(ty, &kind, item).map_err(|e| format!("{at}: element {i}: {e}"))?;
                if !seen.insert(pe.clone()) {
                    return Err(format!("{at}: duplicate entries for key {pe}"));
                }
                path.push(pe);
                validate(&item_ty, item, path)?;
                path.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
