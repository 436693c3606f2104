//! Sets of field paths and their FieldsV1 JSON form (upstream `fieldpath.Set`).

use super::path::{Path, PathElement};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Why a FieldsV1 document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FieldsError {
    /// A node of the document is not a JSON object.
    #[error("expected an object at {0:?}")]
    NotAnObject(String),
    /// A key is not `.`, `f:`, `k:`, `v:` or `i:` followed by a valid value.
    #[error("invalid path element {0:?}")]
    InvalidKey(String),
}

/// A set of field paths, stored as a tree of members and children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    members: BTreeSet<PathElement>,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    /// Whether the set holds no path.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds a path; the empty path (the whole object) is not tracked.
    pub fn insert(&mut self, path: &[PathElement]) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut node = self;
        for pe in parents {
            node = node.children.entry(pe.clone()).or_default();
        }
        node.members.insert(last.clone());
    }

    /// Whether the set holds exactly this path.
    pub fn has(&self, path: &[PathElement]) -> bool {
        let Some((last, parents)) = path.split_last() else {
            return false;
        };
        let mut node = self;
        for pe in parents {
            match node.children.get(pe) {
                Some(child) => node = child,
                None => return false,
            }
        }
        node.members.contains(last)
    }

    /// The elements at the top level (members and parents of deeper paths).
    pub fn top(&self) -> impl Iterator<Item = &PathElement> {
        self.members.iter().chain(self.children.keys())
    }

    /// Whether `pe` is a member at this level.
    pub fn has_member(&self, pe: &PathElement) -> bool {
        self.members.contains(pe)
    }

    /// The paths below `pe`, relative to it.
    pub fn child(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children.get(pe)
    }

    /// Keeps only the top-level elements `keep` accepts, in place.
    pub fn retain_top(&mut self, keep: impl Fn(&PathElement) -> bool) {
        self.members.retain(|pe| keep(pe));
        self.children.retain(|pe, _| keep(pe));
    }

    /// Adds every path of `other`, consuming it.
    pub fn absorb(&mut self, other: FieldSet) {
        self.members.extend(other.members);
        for (pe, child) in other.children {
            match self.children.get_mut(&pe) {
                Some(mine) => mine.absorb(child),
                None => {
                    self.children.insert(pe, child);
                }
            }
        }
    }

    /// Removes every path of `other`, in place (as [`difference`](Self::difference)).
    pub fn subtract(&mut self, other: &FieldSet) {
        if other.is_empty() {
            return;
        }
        if !other.members.is_empty() {
            self.members.retain(|pe| !other.members.contains(pe));
        }
        self.children
            .retain(|pe, child| match other.children.get(pe) {
                Some(theirs) => {
                    child.subtract(theirs);
                    !child.is_empty()
                }
                None => true,
            });
    }

    /// Paths in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, child) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    /// Paths in `self` but not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, child) in &self.children {
            let rest = match other.children.get(pe) {
                Some(theirs) => child.difference(theirs),
                None => child.clone(),
            };
            if !rest.is_empty() {
                children.insert(pe.clone(), rest);
            }
        }
        FieldSet { members, children }
    }

    /// Paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, child) in &self.children {
            if let Some(theirs) = other.children.get(pe) {
                let both = child.intersection(theirs);
                if !both.is_empty() {
                    children.insert(pe.clone(), both);
                }
            }
        }
        FieldSet { members, children }
    }

    /// Every path, members of a level before its children, in path order.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), false, &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Path, leaves_only: bool, out: &mut Vec<Path>) {
        for pe in &self.members {
            if leaves_only && self.children.contains_key(pe) {
                continue;
            }
            prefix.push(pe.clone());
            out.push(prefix.clone());
            prefix.pop();
        }
        for (pe, child) in &self.children {
            prefix.push(pe.clone());
            child.collect_paths(prefix, leaves_only, out);
            prefix.pop();
        }
    }

    /// Paths that are members with nothing recorded below them.
    pub fn leaves(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), true, &mut out);
        out
    }

    /// The same set with every node that has children also a member.
    pub fn with_parents(&self) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.clone();
        for (pe, child) in &self.children {
            out.members.insert(pe.clone());
            out.children.insert(pe.clone(), child.with_parents());
        }
        out
    }

    /// The FieldsV1 JSON form (`{"f:spec":{"f:replicas":{}}}`).
    pub fn to_fields_v1(&self) -> Value {
        let mut keys: BTreeSet<&PathElement> = self.members.iter().collect();
        keys.extend(self.children.keys());
        let mut out = Map::new();
        for pe in keys {
            let mut node = Map::new();
            if let Some(child) = self.children.get(pe) {
                if self.members.contains(pe) {
                    node.insert(".".into(), Value::Object(Map::new()));
                }
                if let Value::Object(inner) = child.to_fields_v1() {
                    node.extend(inner);
                }
            }
            out.insert(pe.to_fields_key(), Value::Object(node));
        }
        Value::Object(out)
    }

    /// Reads the FieldsV1 JSON form.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, FieldsError> {
        let Value::Object(map) = value else {
            return Err(FieldsError::NotAnObject(value.to_string()));
        };
        let mut out = FieldSet::new();
        for (key, node) in map {
            if key == "." {
                continue;
            }
            let pe = PathElement::from_fields_key(key)
                .ok_or_else(|| FieldsError::InvalidKey(key.clone()))?;
            let Value::Object(inner) = node else {
                return Err(FieldsError::NotAnObject(key.clone()));
            };
            let child = FieldSet::from_fields_v1(node)?;
            if inner.is_empty() || inner.contains_key(".") {
                out.members.insert(pe.clone());
            }
            if !child.is_empty() {
                out.children.insert(pe, child);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
