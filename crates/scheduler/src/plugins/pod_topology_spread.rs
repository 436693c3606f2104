//! PodTopologySpread: DoNotSchedule constraints filter by skew; ScheduleAnyway constraints
//! (or the system defaults, spreading siblings over hostname and zone) score.

use crate::cache::Cache;
use crate::cycle_state::CycleState;
use crate::framework::{Code, Failure, FilterResult, Plugin, MAX_NODE_SCORE};
use crate::label_groups::GroupMemo;
use crate::node_info::NodeInfo;
use crate::plugins::taint_toleration::untolerated;
use crate::selector::{LabelSelector, NO_LABELS};
use k8s_openapi::api::core::v1::Pod;
use std::collections::HashMap;

/// Reason: placing the pod here would exceed `maxSkew`.
pub const REASON: &str = "node(s) didn't match pod topology spread constraints";
/// Reason: the node lacks a constraint's topology key.
pub const MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

const HOSTNAME: &str = "kubernetes.io/hostname";
const ZONE: &str = "topology.kubernetes.io/zone";

/// One compiled topology spread constraint.
#[derive(Clone, Debug)]
pub struct SpreadConstraint {
    /// The largest allowed difference between domains.
    pub max_skew: i64,
    /// The node label defining domains.
    pub topology_key: String,
    /// The pods that count.
    pub selector: LabelSelector,
    /// Below this many domains, the global minimum counts as 0.
    pub min_domains: i64,
    /// Whether nodes not matching the pod's node affinity are left out.
    pub honor_node_affinity: bool,
    /// Whether nodes with untolerated taints are left out.
    pub honor_taints: bool,
}

/// The pod's DoNotSchedule and ScheduleAnyway constraints, and whether the latter are the
/// system defaults (built from `default_selector` when the pod has no constraints).
pub fn constraints(
    pod: &Pod,
    default_selector: Option<LabelSelector>,
) -> (Vec<SpreadConstraint>, Vec<SpreadConstraint>, bool) {
    let labels = pod.metadata.labels.as_ref().unwrap_or(&NO_LABELS);
    let list = pod
        .spec
        .as_ref()
        .and_then(|s| s.topology_spread_constraints.as_deref())
        .unwrap_or_default();
    if list.is_empty() {
        let Some(sel) = default_selector.filter(|s| !s.is_empty()) else {
            return (Vec::new(), Vec::new(), false);
        };
        let default = |key: &str, skew| SpreadConstraint {
            max_skew: skew,
            topology_key: key.into(),
            selector: sel.clone(),
            min_domains: 1,
            honor_node_affinity: true,
            honor_taints: false,
        };
        return (
            Vec::new(),
            vec![default(HOSTNAME, 3), default(ZONE, 5)],
            true,
        );
    }
    let (mut hard, mut soft) = (Vec::new(), Vec::new());
    for c in list {
        let compiled = SpreadConstraint {
            max_skew: i64::from(c.max_skew),
            topology_key: c.topology_key.clone(),
            selector: LabelSelector::from_api(c.label_selector.as_ref())
                .with_label_keys(c.match_label_keys.as_deref().unwrap_or_default(), labels),
            min_domains: i64::from(c.min_domains.unwrap_or(1)),
            honor_node_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
            honor_taints: c.node_taints_policy.as_deref() == Some("Honor"),
        };
        if c.when_unsatisfiable == "ScheduleAnyway" {
            soft.push(compiled);
        } else {
            hard.push(compiled);
        }
    }
    (hard, soft, false)
}

fn included(c: &SpreadConstraint, cycle: &CycleState, node: &NodeInfo) -> bool {
    (!c.honor_node_affinity || cycle.node_affinity.matches(node.name(), node.labels()))
        && (!c.honor_taints || untolerated(node.taints(), cycle.tolerations).is_none())
}

/// Matching pods per domain of each DoNotSchedule constraint.
#[derive(Debug)]
pub struct SpreadFilterState {
    constraints: Vec<SpreadConstraint>,
    counts: Vec<HashMap<String, i64>>,
    min: Vec<i64>,
}

/// Counts matching pods per domain over all eligible nodes; `None` without constraints.
pub fn pre_filter(
    cycle: &CycleState,
    hard: Vec<SpreadConstraint>,
    cache: &Cache,
) -> Option<SpreadFilterState> {
    if hard.is_empty() {
        return None;
    }
    let mut counts: Vec<HashMap<String, i64>> = vec![HashMap::new(); hard.len()];
    let mut memos: Vec<GroupMemo> = hard.iter().map(|_| GroupMemo::default()).collect();
    for node in cache.nodes() {
        let labels = node.labels();
        if !hard.iter().all(|c| labels.contains_key(&c.topology_key)) {
            continue;
        }
        for (i, c) in hard.iter().enumerate() {
            if !included(c, cycle, node) {
                continue;
            }
            let value = &labels[&c.topology_key];
            let n = node.count_matching_memo(cycle.namespace, &c.selector, false, &mut memos[i]);
            match counts[i].get_mut(value) {
                Some(v) => *v += n,
                None => {
                    counts[i].insert(value.clone(), n);
                }
            }
        }
    }
    let min = counts
        .iter()
        .zip(&hard)
        .map(|(m, c)| {
            if (m.len() as i64) < c.min_domains {
                0
            } else {
                m.values().copied().min().unwrap_or(i64::MAX / 2)
            }
        })
        .collect();
    Some(SpreadFilterState {
        constraints: hard,
        counts,
        min,
    })
}

/// Rejects nodes lacking a topology key, or where the pod would push skew over `maxSkew`.
pub fn filter(cycle: &CycleState, node: &NodeInfo) -> FilterResult {
    let Some(s) = cycle.spread_filter.as_ref() else {
        return Ok(());
    };
    for (i, c) in s.constraints.iter().enumerate() {
        let Some(value) = node.labels().get(&c.topology_key) else {
            return Err(Failure::new(
                Plugin::PodTopologySpread,
                Code::UnschedulableAndUnresolvable,
                MISSING_LABEL,
            ));
        };
        let self_match = i64::from(c.selector.matches(cycle.labels));
        let matched = s.counts[i].get(value).copied().unwrap_or(0);
        if matched + self_match - s.min[i] > c.max_skew {
            return Err(Failure::new(
                Plugin::PodTopologySpread,
                Code::Unschedulable,
                REASON,
            ));
        }
    }
    Ok(())
}

/// Scores fewer matching pods in a node's domains higher; false without soft constraints.
pub fn score(cycle: &CycleState, cache: &Cache, nodes: &[&NodeInfo], out: &mut [i64]) -> bool {
    let cs = &cycle.spread_score;
    if cs.is_empty() {
        return false;
    }
    let require_all = !cycle.spread_defaulted;
    let has_all = |n: &NodeInfo| cs.iter().all(|c| n.labels().contains_key(&c.topology_key));
    let ignored: Vec<bool> = nodes.iter().map(|n| require_all && !has_all(n)).collect();
    let mut counts: Vec<HashMap<&str, i64>> = vec![HashMap::new(); cs.len()];
    let mut sizes = vec![0usize; cs.len()];
    let mut memos: Vec<GroupMemo> = cs.iter().map(|_| GroupMemo::default()).collect();
    for (j, n) in nodes.iter().enumerate() {
        if ignored[j] {
            continue;
        }
        for (i, c) in cs.iter().enumerate() {
            if c.topology_key == HOSTNAME {
                sizes[i] += 1;
            } else if let Some(v) = n.labels().get(&c.topology_key) {
                counts[i].entry(v.as_str()).or_insert(0);
            }
        }
    }
    if counts.iter().any(|m| !m.is_empty()) {
        for node in cache.nodes() {
            if require_all && !has_all(node) {
                continue;
            }
            for (i, c) in cs.iter().enumerate() {
                if c.topology_key == HOSTNAME || !included(c, cycle, node) {
                    continue;
                }
                let Some(v) = node.labels().get(&c.topology_key) else {
                    continue;
                };
                if let Some(count) = counts[i].get_mut(v.as_str()) {
                    *count += node.count_matching_memo(
                        cycle.namespace,
                        &c.selector,
                        false,
                        &mut memos[i],
                    );
                }
            }
        }
    }
    for (i, c) in cs.iter().enumerate() {
        if c.topology_key != HOSTNAME {
            sizes[i] = counts[i].len();
        }
    }
    let weights: Vec<f64> = sizes.iter().map(|s| ((s + 2) as f64).ln()).collect();
    for (j, n) in nodes.iter().enumerate() {
        if ignored[j] {
            continue;
        }
        let mut total = 0f64;
        for (i, c) in cs.iter().enumerate() {
            let Some(v) = n.labels().get(&c.topology_key) else {
                continue;
            };
            let cnt = if c.topology_key == HOSTNAME {
                n.count_matching_memo(cycle.namespace, &c.selector, false, &mut memos[i])
            } else {
                counts[i].get(v.as_str()).copied().unwrap_or(0)
            };
            total += cnt as f64 * weights[i] + (c.max_skew - 1) as f64;
        }
        out[j] = total.round() as i64;
    }
    let live = || {
        out.iter()
            .zip(&ignored)
            .filter(|(_, ig)| !**ig)
            .map(|(s, _)| *s)
    };
    let min = live().min().unwrap_or(0);
    let max = live().max().unwrap_or(0);
    for (s, ig) in out.iter_mut().zip(&ignored) {
        *s = if *ig {
            0
        } else if max == 0 {
            MAX_NODE_SCORE
        } else {
            MAX_NODE_SCORE * (max + min - *s) / max
        };
    }
    true
}

#[cfg(test)]
mod tests;
