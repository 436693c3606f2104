//! One node as the scheduler sees it: allocatable, what its pods request, ports, label groups.

use crate::label_groups::{GroupMemo, NO_GROUP};
use crate::pod_info::{CachedPod, HostPort};
use crate::resources::Resources;
use crate::selector::{LabelSelector, Labels, NO_LABELS};
use k8s_openapi::api::core::v1::{Node, Taint};
use std::sync::Arc;

/// Pods on a node that share a namespace and an identical label set, counted.
#[derive(Clone, Debug)]
pub struct LabelGroup {
    /// The interned id of (namespace, labels), or [`NO_GROUP`].
    pub id: u32,
    /// The namespace.
    pub namespace: String,
    /// The shared labels.
    pub labels: Labels,
    /// All pods of the group.
    pub total: u32,
    /// Pods of the group that are not being deleted.
    pub active: u32,
}

/// A node with the pods assigned (or assumed) to it.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// The node object.
    pub node: Arc<Node>,
    /// What the node offers.
    pub allocatable: Resources,
    /// What its pods request.
    pub requested: Resources,
    /// CPU its pods request, counting defaults for missing requests.
    pub non_zero_cpu: i64,
    /// Memory its pods request, counting defaults for missing requests.
    pub non_zero_memory: i64,
    /// Its pods.
    pub pods: Vec<Arc<CachedPod>>,
    /// Its pods that have pod affinity or anti-affinity terms.
    pub affinity_pods: Vec<Arc<CachedPod>>,
    /// Host ports in use.
    pub used_ports: Vec<HostPort>,
    /// Its pods grouped by namespace and labels.
    pub groups: Vec<LabelGroup>,
}

impl NodeInfo {
    /// A node without pods.
    pub fn new(node: Arc<Node>) -> Self {
        let mut info = NodeInfo {
            node: node.clone(),
            allocatable: Resources::default(),
            requested: Resources::default(),
            non_zero_cpu: 0,
            non_zero_memory: 0,
            pods: Vec::new(),
            affinity_pods: Vec::new(),
            used_ports: Vec::new(),
            groups: Vec::new(),
        };
        info.set_node(node);
        info
    }

    /// Replaces the node object, keeping the pods.
    pub fn set_node(&mut self, node: Arc<Node>) {
        self.allocatable = node
            .status
            .as_ref()
            .and_then(|s| s.allocatable.as_ref())
            .map(Resources::from_list)
            .unwrap_or_default();
        self.node = node;
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        self.node.metadata.name.as_deref().unwrap_or_default()
    }

    /// The node's labels.
    pub fn labels(&self) -> &Labels {
        self.node.metadata.labels.as_ref().unwrap_or(&NO_LABELS)
    }

    /// The node's taints.
    pub fn taints(&self) -> &[Taint] {
        self.node
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_deref())
            .unwrap_or_default()
    }

    /// Accounts a pod to the node.
    pub fn add_pod(&mut self, pod: Arc<CachedPod>) {
        self.add_pod_in_group(pod, NO_GROUP)
    }

    /// Accounts a pod whose (namespace, labels) set has the interned id `group`.
    pub fn add_pod_in_group(&mut self, pod: Arc<CachedPod>, group: u32) {
        self.requested.add(&pod.requests.requests);
        self.non_zero_cpu += pod.requests.non_zero_cpu;
        self.non_zero_memory += pod.requests.non_zero_memory;
        self.used_ports.extend(pod.ports.iter().cloned());
        let active = u32::from(!pod.terminating());
        let ns = pod.namespace();
        let labels = pod.labels();
        match self
            .groups
            .iter_mut()
            .find(|g| g.namespace == ns && g.labels == *labels)
        {
            Some(g) => {
                g.total += 1;
                g.active += active;
            }
            None => self.groups.push(LabelGroup {
                id: group,
                namespace: ns.to_string(),
                labels: labels.clone(),
                total: 1,
                active,
            }),
        }
        if pod.affinity.is_some() {
            self.affinity_pods.push(pod.clone());
        }
        self.pods.push(pod);
    }

    /// Removes the pod with `uid`; returns it if it was there.
    pub fn remove_pod(&mut self, uid: &str) -> Option<Arc<CachedPod>> {
        let i = self.pods.iter().position(|p| p.uid == uid)?;
        let pod = self.pods.swap_remove(i);
        self.requested.sub(&pod.requests.requests);
        self.non_zero_cpu -= pod.requests.non_zero_cpu;
        self.non_zero_memory -= pod.requests.non_zero_memory;
        for port in &pod.ports {
            if let Some(j) = self.used_ports.iter().position(|p| p == port) {
                self.used_ports.swap_remove(j);
            }
        }
        let ns = pod.namespace();
        let labels = pod.labels();
        if let Some(j) = self
            .groups
            .iter()
            .position(|g| g.namespace == ns && g.labels == *labels)
        {
            let g = &mut self.groups[j];
            g.total -= 1;
            g.active = g.active.saturating_sub(u32::from(!pod.terminating()));
            if g.total == 0 {
                self.groups.swap_remove(j);
            }
        }
        if let Some(j) = self.affinity_pods.iter().position(|p| p.uid == uid) {
            self.affinity_pods.swap_remove(j);
        }
        Some(pod)
    }

    /// Like [`NodeInfo::count_matching`], matching each interned label set once per `memo`.
    pub fn count_matching_memo(
        &self,
        ns: &str,
        selector: &LabelSelector,
        include_terminating: bool,
        memo: &mut GroupMemo,
    ) -> i64 {
        self.groups
            .iter()
            .filter(|g| memo.matches(g.id, &g.namespace, &g.labels, ns, selector))
            .map(|g| {
                i64::from(if include_terminating {
                    g.total
                } else {
                    g.active
                })
            })
            .sum()
    }

    /// Pods in `ns` matching `selector`; terminating pods count only if `include_terminating`.
    pub fn count_matching(
        &self,
        ns: &str,
        selector: &LabelSelector,
        include_terminating: bool,
    ) -> i64 {
        self.groups
            .iter()
            .filter(|g| g.namespace == ns && selector.matches(&g.labels))
            .map(|g| {
                i64::from(if include_terminating {
                    g.total
                } else {
                    g.active
                })
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{cached, node, pod};

    #[test]
    fn adding_and_removing_pods_keeps_the_books() {
        let mut n = NodeInfo::new(Arc::new(node("n1", "4", "8Gi")));
        assert_eq!(n.allocatable.milli_cpu, 4000);
        assert_eq!(n.allocatable.pods, 110);
        let a = cached(
            pod("a", "1", "1Gi")
                .labels(&[("app", "web")])
                .host_port(80)
                .build(),
        );
        let b = cached(pod("b", "500m", "1Gi").labels(&[("app", "web")]).build());
        n.add_pod(a.clone());
        n.add_pod(b.clone());
        assert_eq!(n.requested.milli_cpu, 1500);
        assert_eq!(n.groups.len(), 1, "identical labels share a group");
        let web = LabelSelector::from_map(&[("app".to_string(), "web".to_string())].into());
        assert_eq!(n.count_matching("default", &web, false), 2);
        assert_eq!(n.count_matching("other", &web, false), 0);
        assert!(n.remove_pod(&a.uid).is_some());
        assert!(n.remove_pod(&a.uid).is_none());
        assert_eq!(n.requested.milli_cpu, 500);
        assert!(n.used_ports.is_empty());
        assert_eq!(n.count_matching("default", &web, false), 1);
    }

    #[test]
    fn terminating_pods_do_not_count_for_spreading() {
        let mut n = NodeInfo::new(Arc::new(node("n1", "4", "8Gi")));
        n.add_pod(cached(
            pod("a", "", "")
                .labels(&[("app", "web")])
                .terminating()
                .build(),
        ));
        n.add_pod(cached(
            pod("b", "", "")
                .labels(&[("app", "web")])
                .namespace("other")
                .build(),
        ));
        let web = LabelSelector::from_map(&[("app".to_string(), "web".to_string())].into());
        assert_eq!(n.count_matching("default", &web, false), 0);
        assert_eq!(n.count_matching("default", &web, true), 1);
        assert_eq!(n.count_matching("other", &web, false), 1);
    }
}
