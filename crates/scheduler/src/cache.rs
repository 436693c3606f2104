//! The scheduler's cache: nodes with the pods bound or assumed to them, namespace labels and
//! nominations from preemption.

use crate::label_groups::LabelInterner;
use crate::node_info::NodeInfo;
use crate::pod_info::CachedPod;
use crate::selector::{Labels, NO_LABELS};
use k8s_openapi::api::core::v1::Node;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug)]
struct PodState {
    node: String,
    assumed: bool,
    pod: Arc<CachedPod>,
}

/// Nodes and the pods assigned to them, as the scheduling cycle reads them.
#[derive(Debug, Default)]
pub struct Cache {
    nodes: Vec<NodeInfo>,
    index: HashMap<String, usize>,
    pods: HashMap<String, PodState>,
    pending: HashMap<String, Vec<Arc<CachedPod>>>,
    namespace_labels: HashMap<String, Labels>,
    affinity_pods: usize,
    anti_affinity_pods: usize,
    nominated: HashMap<String, (String, Arc<CachedPod>)>,
    groups: LabelInterner,
}

impl Cache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// All nodes, in a stable order.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.index.get(name).map(|&i| &self.nodes[i])
    }

    /// Adds or updates a node; returns the previous node object, if any.
    pub fn set_node(&mut self, node: Arc<Node>) -> Option<Arc<Node>> {
        let name = node.metadata.name.clone().unwrap_or_default();
        if let Some(&i) = self.index.get(&name) {
            let old = self.nodes[i].node.clone();
            self.nodes[i].set_node(node);
            return Some(old);
        }
        let mut info = NodeInfo::new(node);
        for pod in self.pending.remove(&name).unwrap_or_default() {
            let group = self.groups.acquire(pod.namespace(), pod.labels());
            info.add_pod_in_group(pod, group);
        }
        self.index.insert(name, self.nodes.len());
        self.nodes.push(info);
        None
    }

    /// Removes a node; its pods wait for the node to come back or for their own deletion.
    pub fn remove_node(&mut self, name: &str) {
        let Some(i) = self.index.remove(name) else {
            return;
        };
        let info = self.nodes.swap_remove(i);
        if let Some(moved) = self.nodes.get(i) {
            self.index.insert(moved.name().to_string(), i);
        }
        for pod in &info.pods {
            self.groups.release(pod.namespace(), pod.labels());
        }
        if !info.pods.is_empty() {
            self.pending.insert(name.to_string(), info.pods);
        }
    }

    fn place(&mut self, node: &str, pod: Arc<CachedPod>) {
        if pod.affinity.is_some() {
            self.affinity_pods += 1;
        }
        if pod.has_required_anti_affinity() {
            self.anti_affinity_pods += 1;
        }
        match self.index.get(node) {
            Some(&i) => {
                let group = self.groups.acquire(pod.namespace(), pod.labels());
                self.nodes[i].add_pod_in_group(pod, group);
            }
            None => self.pending.entry(node.to_string()).or_default().push(pod),
        }
    }

    fn unplace(&mut self, node: &str, uid: &str) {
        let removed = match self.index.get(node) {
            Some(&i) => {
                let pod = self.nodes[i].remove_pod(uid);
                if let Some(p) = &pod {
                    self.groups.release(p.namespace(), p.labels());
                }
                pod
            }
            None => self.pending.get_mut(node).and_then(|pods| {
                let j = pods.iter().position(|p| p.uid == uid)?;
                Some(pods.swap_remove(j))
            }),
        };
        if let Some(pod) = removed {
            if pod.affinity.is_some() {
                self.affinity_pods -= 1;
            }
            if pod.has_required_anti_affinity() {
                self.anti_affinity_pods -= 1;
            }
        }
    }

    /// Records a pod the API reports on `node` (confirming an assumption if there was one).
    pub fn add_pod(&mut self, pod: CachedPod, node: &str) {
        let uid = pod.uid.clone();
        if let Some(old) = self.pods.remove(&uid) {
            self.unplace(&old.node, &uid);
        }
        self.nominated.remove(&uid);
        let pod = Arc::new(pod);
        self.place(node, pod.clone());
        let state = PodState {
            node: node.to_string(),
            assumed: false,
            pod,
        };
        self.pods.insert(uid, state);
    }

    /// Places a pod on `node` before its binding is confirmed.
    pub fn assume(&mut self, pod: Arc<CachedPod>, node: &str) {
        let uid = pod.uid.clone();
        if let Some(old) = self.pods.remove(&uid) {
            self.unplace(&old.node, &uid);
        }
        self.nominated.remove(&uid);
        self.place(node, pod.clone());
        let state = PodState {
            node: node.to_string(),
            assumed: true,
            pod,
        };
        self.pods.insert(uid, state);
    }

    /// Drops an assumption that was not confirmed (the binding failed).
    pub fn forget(&mut self, uid: &str) {
        if self.pods.get(uid).is_some_and(|s| s.assumed) {
            self.remove_pod(uid);
        }
    }

    /// Removes a pod (deleted, or finished) wherever it is.
    pub fn remove_pod(&mut self, uid: &str) {
        self.nominated.remove(uid);
        if let Some(old) = self.pods.remove(uid) {
            self.unplace(&old.node, uid);
        }
    }

    /// The node a pod is bound or assumed to.
    pub fn pod_node(&self, uid: &str) -> Option<&str> {
        self.pods.get(uid).map(|s| s.node.as_str())
    }

    /// The cached pod with `uid`.
    pub fn pod(&self, uid: &str) -> Option<&Arc<CachedPod>> {
        self.pods.get(uid).map(|s| &s.pod)
    }

    /// Whether the pod is assumed and not yet confirmed.
    pub fn is_assumed(&self, uid: &str) -> bool {
        self.pods.get(uid).is_some_and(|s| s.assumed)
    }

    /// How many pods the cache holds.
    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    /// Sets the labels of a namespace.
    pub fn set_namespace(&mut self, name: &str, labels: Labels) {
        self.namespace_labels.insert(name.to_string(), labels);
    }

    /// Forgets a namespace.
    pub fn remove_namespace(&mut self, name: &str) {
        self.namespace_labels.remove(name);
    }

    /// The labels of a namespace (empty if unknown).
    pub fn namespace_labels(&self, name: &str) -> &Labels {
        self.namespace_labels.get(name).unwrap_or(&NO_LABELS)
    }

    /// The names of all known namespaces with their labels.
    pub fn namespaces(&self) -> impl Iterator<Item = (&String, &Labels)> {
        self.namespace_labels.iter()
    }

    /// Whether any cached pod has pod affinity or anti-affinity terms.
    pub fn has_affinity_pods(&self) -> bool {
        self.affinity_pods > 0
    }

    /// Whether any cached pod has required anti-affinity terms.
    pub fn has_anti_affinity_pods(&self) -> bool {
        self.anti_affinity_pods > 0
    }

    /// Records that a preemptor expects room on `node`.
    pub fn nominate(&mut self, pod: Arc<CachedPod>, node: &str) {
        self.nominated
            .insert(pod.uid.clone(), (node.to_string(), pod));
    }

    /// Drops the nomination of a pod.
    pub fn clear_nomination(&mut self, uid: &str) {
        self.nominated.remove(uid);
    }

    /// The node a pod is nominated to.
    pub fn nomination(&self, uid: &str) -> Option<&str> {
        self.nominated.get(uid).map(|(n, _)| n.as_str())
    }

    /// Pods nominated to `node`.
    pub fn nominated_on<'a>(
        &'a self,
        node: &'a str,
    ) -> impl Iterator<Item = &'a Arc<CachedPod>> + 'a {
        self.nominated
            .values()
            .filter(move |(n, _)| n == node)
            .map(|(_, p)| p)
    }

    /// Whether any pod is nominated anywhere.
    pub fn has_nominations(&self) -> bool {
        !self.nominated.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{cached, node, pod};

    #[test]
    fn an_assumed_pod_counts_until_forgotten() {
        let mut c = Cache::new();
        c.set_node(Arc::new(node("n1", "4", "8Gi")));
        let p = cached(pod("a", "1", "1Gi").build());
        c.assume(p.clone(), "n1");
        assert!(c.is_assumed(&p.uid));
        assert_eq!(c.node("n1").map(|n| n.requested.milli_cpu), Some(1000));
        c.forget(&p.uid);
        assert_eq!(c.node("n1").map(|n| n.requested.milli_cpu), Some(0));
        assert!(c.pod_node(&p.uid).is_none());
    }

    #[test]
    fn a_confirmed_pod_is_not_forgotten_and_moves_with_its_binding() {
        let mut c = Cache::new();
        c.set_node(Arc::new(node("n1", "4", "8Gi")));
        c.set_node(Arc::new(node("n2", "4", "8Gi")));
        let p = cached(pod("a", "1", "1Gi").build());
        c.assume(p.clone(), "n1");
        c.add_pod(CachedPod::new(p.pod.clone(), 0), "n2");
        c.forget(&p.uid);
        assert_eq!(c.pod_node(&p.uid), Some("n2"));
        assert_eq!(c.node("n1").map(|n| n.requested.milli_cpu), Some(0));
        assert_eq!(c.node("n2").map(|n| n.requested.milli_cpu), Some(1000));
    }

    #[test]
    fn pods_on_unknown_nodes_wait_for_the_node() {
        let mut c = Cache::new();
        let p = cached(pod("a", "1", "1Gi").build());
        c.add_pod(CachedPod::new(p.pod.clone(), 0), "late");
        c.set_node(Arc::new(node("late", "4", "8Gi")));
        assert_eq!(c.node("late").map(|n| n.pods.len()), Some(1));
        c.remove_node("late");
        assert!(c.nodes().is_empty());
        c.remove_pod(&p.uid);
        c.set_node(Arc::new(node("late", "4", "8Gi")));
        assert_eq!(c.node("late").map(|n| n.pods.len()), Some(0));
    }

    #[test]
    fn removing_a_node_keeps_the_index_consistent() {
        let mut c = Cache::new();
        for n in ["a", "b", "c"] {
            c.set_node(Arc::new(node(n, "1", "1Gi")));
        }
        c.remove_node("a");
        assert_eq!(c.node("c").map(|n| n.name().to_string()), Some("c".into()));
        assert_eq!(c.node("b").map(|n| n.name().to_string()), Some("b".into()));
        assert!(c.node("a").is_none());
    }
}
