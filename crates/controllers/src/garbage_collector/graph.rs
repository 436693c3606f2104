//! The ownership graph: every watched object by uid, with the reverse index from owner uid to
//! dependents (owners not seen yet included), and which uids a change makes worth re-checking.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use std::collections::{HashMap, HashSet};

/// The finalizer an owner carries while its dependents are deleted first.
pub const FOREGROUND: &str = "foregroundDeletion";
/// The finalizer an owner carries while its dependents are orphaned.
pub const ORPHAN: &str = "orphan";

/// What the graph knows about one object.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Index of the object's kind in `resources::WATCHED`.
    pub resource: usize,
    /// Namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Uid.
    pub uid: String,
    /// Owner references.
    pub owners: Vec<OwnerReference>,
    /// Whether deletionTimestamp is set.
    pub deleting: bool,
    /// metadata.finalizers.
    pub finalizers: Vec<String>,
}

impl Node {
    /// The node for an object's metadata; `None` without a uid.
    pub fn from_meta(resource: usize, meta: &ObjectMeta) -> Option<Node> {
        Some(Node {
            resource,
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone()?,
            uid: meta.uid.clone().filter(|u| !u.is_empty())?,
            owners: meta.owner_references.clone().unwrap_or_default(),
            deleting: meta.deletion_timestamp.is_some(),
            finalizers: meta.finalizers.clone().unwrap_or_default(),
        })
    }

    /// Whether it carries `finalizer`.
    pub fn has_finalizer(&self, finalizer: &str) -> bool {
        self.finalizers.iter().any(|f| f == finalizer)
    }

    /// Whether it is being deleted and waits for its dependents (foreground deletion).
    pub fn deleting_dependents(&self) -> bool {
        self.deleting && self.has_finalizer(FOREGROUND)
    }

    /// Whether it waits for the collector: deleting with a foreground or orphan finalizer.
    fn needs_collector(&self) -> bool {
        self.deleting && (self.has_finalizer(FOREGROUND) || self.has_finalizer(ORPHAN))
    }
}

/// Objects by uid and dependents by owner uid.
#[derive(Default)]
pub struct Graph {
    nodes: HashMap<String, Node>,
    dependents: HashMap<String, HashSet<String>>,
}

impl Graph {
    /// The node with `uid`.
    pub fn get(&self, uid: &str) -> Option<&Node> {
        self.nodes.get(uid)
    }

    /// The objects naming `uid` as an owner.
    pub fn dependents(&self, uid: &str) -> Vec<Node> {
        self.dependents
            .get(uid)
            .into_iter()
            .flatten()
            .filter_map(|d| self.nodes.get(d).cloned())
            .collect()
    }

    /// Uids of the objects of one kind.
    pub fn uids_of(&self, resource: usize) -> Vec<String> {
        self.nodes
            .values()
            .filter(|n| n.resource == resource)
            .map(|n| n.uid.clone())
            .collect()
    }

    /// Records an added or updated object; returns the uids to re-check.
    pub fn apply(&mut self, node: Node) -> Vec<String> {
        let uid = node.uid.clone();
        let old = self.nodes.insert(uid.clone(), node.clone());
        let mut check = Vec::new();
        if old.as_ref() == Some(&node) {
            return check;
        }
        let old_owners: HashSet<&str> = old
            .iter()
            .flat_map(|o| o.owners.iter().map(|r| r.uid.as_str()))
            .collect();
        let new_owners: HashSet<&str> = node.owners.iter().map(|r| r.uid.as_str()).collect();
        for gone in old_owners.difference(&new_owners) {
            self.unlink(gone, &uid);
            check.push(gone.to_string());
        }
        for added in new_owners.difference(&old_owners) {
            self.dependents
                .entry(added.to_string())
                .or_default()
                .insert(uid.clone());
        }
        let owners_changed = old.as_ref().is_none_or(|o| o.owners != node.owners);
        if !node.owners.is_empty() && (owners_changed || node.deleting) {
            check.push(uid.clone());
        }
        if node.needs_collector() {
            check.push(uid.clone());
            check.extend(self.dependents.get(&uid).into_iter().flatten().cloned());
        }
        // owners waiting on their dependents hear about every change of one
        check.extend(self.deleting_owners(&node));
        check
    }

    /// Forgets a deleted object; returns the uids to re-check.
    pub fn delete(&mut self, uid: &str) -> Vec<String> {
        let Some(node) = self.nodes.remove(uid) else {
            return Vec::new();
        };
        for owner in &node.owners {
            self.unlink(&owner.uid, uid);
        }
        let mut check: Vec<String> = self
            .dependents
            .get(uid)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        check.extend(self.deleting_owners(&node));
        check
    }

    fn deleting_owners(&self, node: &Node) -> Vec<String> {
        node.owners
            .iter()
            .filter(|r| self.nodes.get(&r.uid).is_some_and(Node::needs_collector))
            .map(|r| r.uid.clone())
            .collect()
    }

    fn unlink(&mut self, owner: &str, dependent: &str) {
        if let Some(set) = self.dependents.get_mut(owner) {
            set.remove(dependent);
            if set.is_empty() {
                self.dependents.remove(owner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(uid: &str, owners: &[&str]) -> Node {
        Node {
            resource: 0,
            namespace: "ns".into(),
            name: uid.into(),
            uid: uid.into(),
            owners: owners
                .iter()
                .map(|o| OwnerReference {
                    api_version: "v1".into(),
                    kind: "Pod".into(),
                    name: o.to_string(),
                    uid: o.to_string(),
                    ..Default::default()
                })
                .collect(),
            deleting: false,
            finalizers: vec![],
        }
    }

    #[test]
    fn deleting_an_owner_rechecks_its_dependents() {
        let mut g = Graph::default();
        g.apply(node("rs", &[]));
        assert_eq!(g.apply(node("pod", &["rs"])), vec!["pod"]);
        assert_eq!(g.dependents("rs").len(), 1);
        assert_eq!(g.delete("rs"), vec!["pod"]);
        assert_eq!(g.delete("pod"), Vec::<String>::new());
        assert!(g.dependents("rs").is_empty());
    }

    #[test]
    fn a_foreground_owner_is_rechecked_when_a_dependent_goes() {
        let mut g = Graph::default();
        g.apply(node("pod", &["rs"]));
        let mut rs = node("rs", &[]);
        rs.deleting = true;
        rs.finalizers = vec![FOREGROUND.into()];
        let check = g.apply(rs);
        assert!(check.contains(&"rs".to_string()) && check.contains(&"pod".to_string()));
        assert_eq!(g.delete("pod"), vec!["rs"]);
    }

    #[test]
    fn an_unchanged_object_needs_no_check() {
        let mut g = Graph::default();
        g.apply(node("pod", &["rs"]));
        assert!(g.apply(node("pod", &["rs"])).is_empty());
    }
}
