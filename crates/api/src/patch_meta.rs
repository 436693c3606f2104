//! Patch metadata of built-in kinds (`x-kubernetes-patch-merge-key`, `-patch-strategy`,
//! `-list-type`, `-list-map-keys`), as upstream's published OpenAPI states them.

mod core;
mod groups;

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// How the members of a list are identified (`x-kubernetes-list-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListType {
    /// The list is replaced as a whole.
    Atomic,
    /// Scalar members, each present once.
    Set,
    /// Object members identified by the list map keys.
    Map,
}

impl ListType {
    /// The extension value.
    pub const fn as_str(self) -> &'static str {
        match self {
            ListType::Atomic => "atomic",
            ListType::Set => "set",
            ListType::Map => "map",
        }
    }
}

/// Patch metadata of one property of one definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldMeta {
    /// `x-kubernetes-patch-strategy`: `merge`, `retainKeys`, `merge,retainKeys` or `replace`.
    pub patch_strategy: Option<&'static str>,
    /// `x-kubernetes-patch-merge-key`.
    pub merge_key: Option<&'static str>,
    /// `x-kubernetes-list-type`.
    pub list_type: Option<ListType>,
    /// `x-kubernetes-list-map-keys`.
    pub list_map_keys: &'static [&'static str],
}

impl FieldMeta {
    /// Whether the strategy includes `merge`.
    pub fn merges(&self) -> bool {
        self.patch_strategy
            .is_some_and(|s| s.split(',').any(|p| p == "merge"))
    }

    /// Whether the strategy includes `retainKeys`.
    pub fn retains_keys(&self) -> bool {
        self.patch_strategy
            .is_some_and(|s| s.split(',').any(|p| p == "retainKeys"))
    }

    /// Writes the `x-kubernetes-*` extensions onto a property schema.
    pub fn write_extensions(&self, schema: &mut Map<String, Value>) {
        if !self.list_map_keys.is_empty() {
            let keys = self.list_map_keys.iter().map(|k| Value::from(*k)).collect();
            schema.insert("x-kubernetes-list-map-keys".into(), Value::Array(keys));
        }
        if let Some(t) = self.list_type {
            schema.insert("x-kubernetes-list-type".into(), t.as_str().into());
        }
        if let Some(k) = self.merge_key {
            schema.insert("x-kubernetes-patch-merge-key".into(), k.into());
        }
        if let Some(s) = self.patch_strategy {
            schema.insert("x-kubernetes-patch-strategy".into(), s.into());
        }
    }
}

/// One row of the table: a definition's property and its metadata.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Definition name (`io.k8s.api.core.v1.PodSpec`).
    pub definition: &'static str,
    /// JSON property name.
    pub property: &'static str,
    /// The property's metadata.
    pub meta: FieldMeta,
}

/// A list merged by `key`, which is also its only list map key.
pub(crate) const fn merge_by(key: &'static [&'static str; 1]) -> FieldMeta {
    merge_by_keys(key[0], key)
}

/// A list merged by `key`, identified for apply by `keys`.
pub(crate) const fn merge_by_keys(key: &'static str, keys: &'static [&'static str]) -> FieldMeta {
    FieldMeta {
        patch_strategy: Some("merge"),
        merge_key: Some(key),
        list_type: Some(ListType::Map),
        list_map_keys: keys,
    }
}

/// A list merged by `key` for patches but atomic for apply.
pub(crate) const fn merge_by_atomic(key: &'static str) -> FieldMeta {
    FieldMeta {
        patch_strategy: Some("merge"),
        merge_key: Some(key),
        list_type: Some(ListType::Atomic),
        list_map_keys: &[],
    }
}

/// A list of scalars merged as a set.
pub(crate) const MERGE_SET: FieldMeta = FieldMeta {
    patch_strategy: Some("merge"),
    merge_key: None,
    list_type: Some(ListType::Set),
    list_map_keys: &[],
};

/// A list replaced as a whole.
pub(crate) const ATOMIC: FieldMeta = FieldMeta {
    patch_strategy: None,
    merge_key: None,
    list_type: Some(ListType::Atomic),
    list_map_keys: &[],
};

/// A set of scalars without a patch strategy.
pub(crate) const SET: FieldMeta = FieldMeta {
    patch_strategy: None,
    merge_key: None,
    list_type: Some(ListType::Set),
    list_map_keys: &[],
};

/// A list identified by `keys` for apply, replaced by patches.
pub(crate) const fn map_by(keys: &'static [&'static str]) -> FieldMeta {
    FieldMeta {
        patch_strategy: None,
        merge_key: None,
        list_type: Some(ListType::Map),
        list_map_keys: keys,
    }
}

/// A struct whose unset fields are cleared when another field is set.
pub(crate) const RETAIN_KEYS: FieldMeta = FieldMeta {
    patch_strategy: Some("retainKeys"),
    merge_key: None,
    list_type: None,
    list_map_keys: &[],
};

/// A struct replaced as a whole by patches.
pub(crate) const REPLACE: FieldMeta = FieldMeta {
    patch_strategy: Some("replace"),
    merge_key: None,
    list_type: None,
    list_map_keys: &[],
};

/// Every row of the table.
pub fn entries() -> impl Iterator<Item = &'static Entry> {
    core::ENTRIES.iter().chain(groups::ENTRIES)
}

/// Definitions upstream marks `x-kubernetes-map-type: atomic`.
pub fn atomic_structs() -> &'static [&'static str] {
    core::ATOMIC_STRUCTS
}

type Index = HashMap<&'static str, HashMap<&'static str, FieldMeta>>;

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = Index::new();
        for e in entries() {
            index
                .entry(e.definition)
                .or_default()
                .insert(e.property, e.meta);
        }
        index
    })
}

/// The metadata of a definition's property, if it has any.
pub fn lookup(definition: &str, property: &str) -> Option<&'static FieldMeta> {
    index().get(definition)?.get(property)
}

#[cfg(test)]
mod tests;
