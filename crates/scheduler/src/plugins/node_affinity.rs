//! NodeAffinity: `spec.nodeSelector` and required node affinity filter; preferred terms score.

use crate::cycle_state::CycleState;
use crate::framework::{default_normalize, Code, Failure, FilterResult, Plugin};
use crate::node_info::NodeInfo;
use crate::selector::{Labels, NodeSelector, NodeSelectorTerm};
use k8s_openapi::api::core::v1::Pod;

/// The filter's reason.
pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";

/// A pod's node selector and node affinity, compiled.
#[derive(Clone, Debug, Default)]
pub struct NodeAffinityState<'a> {
    node_selector: Option<&'a Labels>,
    required: Option<NodeSelector>,
    preferred: Vec<(i64, NodeSelectorTerm)>,
}

impl<'a> NodeAffinityState<'a> {
    /// Compiles the node selector and node affinity of `pod`.
    pub fn of(pod: &'a Pod) -> Self {
        let spec = pod.spec.as_ref();
        let affinity = spec
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref());
        NodeAffinityState {
            node_selector: spec
                .and_then(|s| s.node_selector.as_ref())
                .filter(|m| !m.is_empty()),
            required: affinity
                .and_then(|a| {
                    a.required_during_scheduling_ignored_during_execution
                        .as_ref()
                })
                .map(NodeSelector::from_api),
            preferred: affinity
                .and_then(|a| {
                    a.preferred_during_scheduling_ignored_during_execution
                        .as_ref()
                })
                .into_iter()
                .flatten()
                .filter(|t| t.weight != 0)
                .map(|t| {
                    (
                        i64::from(t.weight),
                        NodeSelectorTerm::from_api(&t.preference),
                    )
                })
                .collect(),
        }
    }

    /// Whether a node satisfies the node selector and the required node affinity.
    pub fn matches(&self, node_name: &str, labels: &Labels) -> bool {
        if let Some(sel) = self.node_selector {
            if !sel.iter().all(|(k, v)| labels.get(k) == Some(v)) {
                return false;
            }
        }
        self.required
            .as_ref()
            .is_none_or(|r| r.matches(node_name, labels))
    }

    /// Whether the pod has preferred node affinity terms.
    pub fn has_preferred(&self) -> bool {
        !self.preferred.is_empty()
    }
}

/// Rejects nodes that do not match the node selector or required node affinity.
pub fn filter(cycle: &CycleState, node: &NodeInfo) -> FilterResult {
    if cycle.node_affinity.matches(node.name(), node.labels()) {
        return Ok(());
    }
    Err(Failure::new(
        Plugin::NodeAffinity,
        Code::UnschedulableAndUnresolvable,
        REASON,
    ))
}

/// Scores nodes by the summed weights of the preferred terms they match; false if none.
pub fn score(cycle: &CycleState, nodes: &[&NodeInfo], out: &mut [i64]) -> bool {
    if !cycle.node_affinity.has_preferred() {
        return false;
    }
    for (i, node) in nodes.iter().enumerate() {
        out[i] = cycle
            .node_affinity
            .preferred
            .iter()
            .filter(|(_, t)| t.matches(node.name(), node.labels()))
            .map(|(w, _)| w)
            .sum();
    }
    default_normalize(out, false);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::testing::{node_with, pod};
    use k8s_openapi::api::core::v1::{
        Affinity, NodeAffinity, NodeSelector as ApiSelector, NodeSelectorRequirement,
        NodeSelectorTerm as ApiTerm, PreferredSchedulingTerm,
    };
    use std::sync::Arc;

    fn term(key: &str, op: &str, values: &[&str]) -> ApiTerm {
        ApiTerm {
            match_expressions: Some(vec![NodeSelectorRequirement {
                key: key.into(),
                operator: op.into(),
                values: Some(values.iter().map(|v| v.to_string()).collect()),
            }]),
            match_fields: None,
        }
    }

    #[test]
    fn node_selector_and_required_affinity_both_apply() {
        let cache = Cache::new();
        let ssd_a = NodeInfo::new(Arc::new(node_with(
            "a",
            "1",
            "1Gi",
            &[("disk", "ssd"), ("zone", "z1")],
        )));
        let ssd_b = NodeInfo::new(Arc::new(node_with(
            "b",
            "1",
            "1Gi",
            &[("disk", "ssd"), ("zone", "z2")],
        )));
        let hdd = NodeInfo::new(Arc::new(node_with(
            "c",
            "1",
            "1Gi",
            &[("disk", "hdd"), ("zone", "z1")],
        )));
        let p = pod("p", "", "")
            .node_selector(&[("disk", "ssd")])
            .affinity(Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(ApiSelector {
                        node_selector_terms: vec![term("zone", "NotIn", &["z2"])],
                    }),
                    preferred_during_scheduling_ignored_during_execution: None,
                }),
                ..Default::default()
            })
            .build();
        let cycle = CycleState::new(&p, 0, None, &cache);
        assert!(filter(&cycle, &ssd_a).is_ok());
        assert_eq!(
            filter(&cycle, &ssd_b).expect_err("zone").reasons,
            vec![REASON]
        );
        assert!(filter(&cycle, &hdd).is_err());
    }

    #[test]
    fn preferred_terms_add_their_weights() {
        let cache = Cache::new();
        let a = NodeInfo::new(Arc::new(node_with("a", "1", "1Gi", &[("zone", "z1")])));
        let b = NodeInfo::new(Arc::new(node_with(
            "b",
            "1",
            "1Gi",
            &[("zone", "z2"), ("gpu", "1")],
        )));
        let c = NodeInfo::new(Arc::new(node_with("c", "1", "1Gi", &[])));
        let p = pod("p", "", "")
            .affinity(Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: None,
                    preferred_during_scheduling_ignored_during_execution: Some(vec![
                        PreferredSchedulingTerm {
                            weight: 20,
                            preference: term("zone", "In", &["z1"]),
                        },
                        PreferredSchedulingTerm {
                            weight: 80,
                            preference: term("gpu", "Exists", &[]),
                        },
                    ]),
                }),
                ..Default::default()
            })
            .build();
        let mut out = [0; 3];
        assert!(score(
            &CycleState::new(&p, 0, None, &cache),
            &[&a, &b, &c],
            &mut out
        ));
        assert_eq!(out, [25, 100, 0]);
    }
}
