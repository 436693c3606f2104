//! InterPodAffinity: required pod affinity and anti-affinity by topology key (filter), and
//! preferred terms of the pod and of existing pods (score).

use crate::cache::Cache;
use crate::cycle_state::CycleState;
use crate::framework::{Code, Failure, FilterResult, Plugin, MAX_NODE_SCORE};
use crate::node_info::NodeInfo;
use std::collections::HashMap;

/// Reason: an existing pod's anti-affinity forbids the pod here.
pub const EXISTING_ANTI_AFFINITY: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
/// Reason: the pod's affinity is not satisfied here.
pub const AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// Reason: the pod's anti-affinity is violated here.
pub const ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";

/// Counts per topology key and value.
#[derive(Debug, Default)]
pub struct TopologyCounts(HashMap<String, HashMap<String, i64>>);

impl TopologyCounts {
    fn add(&mut self, key: &str, value: &str, n: i64) {
        let values = match self.0.get_mut(key) {
            Some(v) => v,
            None => self.0.entry(key.to_string()).or_default(),
        };
        match values.get_mut(value) {
            Some(c) => *c += n,
            None => {
                values.insert(value.to_string(), n);
            }
        }
    }

    fn get(&self, key: &str, value: &str) -> i64 {
        self.0
            .get(key)
            .and_then(|v| v.get(value))
            .copied()
            .unwrap_or(0)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What the filter needs, counted once over all nodes.
#[derive(Debug, Default)]
pub struct AffinityFilterState {
    existing_anti: TopologyCounts,
    affinity: TopologyCounts,
    anti: TopologyCounts,
    self_matches: bool,
}

/// Counts matching pods per topology domain; `None` when neither the pod nor any existing pod
/// has required terms.
pub fn pre_filter(cycle: &CycleState, cache: &Cache) -> Option<AffinityFilterState> {
    let terms = cycle.affinity.as_ref();
    let required =
        terms.is_some_and(|t| !t.required_affinity.is_empty() || !t.required_anti.is_empty());
    if !required && !cache.has_anti_affinity_pods() {
        return None;
    }
    let ns_labels = cache.namespace_labels(cycle.namespace);
    let mut s = AffinityFilterState::default();
    for node in cache.nodes() {
        let labels = node.labels();
        for ep in &node.affinity_pods {
            for t in ep.affinity.iter().flat_map(|a| &a.required_anti) {
                if let Some(v) = labels.get(&t.topology_key) {
                    if t.matches(cycle.namespace, cycle.labels, ns_labels) {
                        s.existing_anti.add(&t.topology_key, v, 1);
                    }
                }
            }
        }
        let Some(terms) = terms.filter(|_| required) else {
            continue;
        };
        for g in &node.groups {
            let g_ns = cache.namespace_labels(&g.namespace);
            let n = i64::from(g.total);
            let all = !terms.required_affinity.is_empty()
                && terms
                    .required_affinity
                    .iter()
                    .all(|t| t.matches(&g.namespace, &g.labels, g_ns));
            if all {
                for t in &terms.required_affinity {
                    if let Some(v) = labels.get(&t.topology_key) {
                        s.affinity.add(&t.topology_key, v, n);
                    }
                }
            }
            for t in &terms.required_anti {
                if let Some(v) = labels.get(&t.topology_key) {
                    if t.matches(&g.namespace, &g.labels, g_ns) {
                        s.anti.add(&t.topology_key, v, n);
                    }
                }
            }
        }
    }
    s.self_matches = terms.is_some_and(|t| {
        t.required_affinity
            .iter()
            .all(|t| t.matches(cycle.namespace, cycle.labels, ns_labels))
    });
    Some(s)
}

/// Rejects nodes that break existing anti-affinity, the pod's affinity or its anti-affinity.
pub fn filter(cycle: &CycleState, node: &NodeInfo) -> FilterResult {
    let Some(s) = cycle.affinity_filter.as_ref() else {
        return Ok(());
    };
    let labels = node.labels();
    if !s.existing_anti.is_empty() && labels.iter().any(|(k, v)| s.existing_anti.get(k, v) > 0) {
        return Err(Failure::new(
            Plugin::InterPodAffinity,
            Code::Unschedulable,
            EXISTING_ANTI_AFFINITY,
        ));
    }
    let Some(terms) = cycle.affinity.as_ref() else {
        return Ok(());
    };
    if !terms.required_affinity.is_empty() {
        let mut pods_exist = true;
        for t in &terms.required_affinity {
            match labels.get(&t.topology_key) {
                Some(v) if s.affinity.get(&t.topology_key, v) > 0 => {}
                Some(_) => pods_exist = false,
                None => {
                    return Err(Failure::new(
                        Plugin::InterPodAffinity,
                        Code::UnschedulableAndUnresolvable,
                        AFFINITY,
                    ))
                }
            }
        }
        // The first pod of a group with affinity to itself may go anywhere.
        if !(pods_exist || s.affinity.is_empty() && s.self_matches) {
            return Err(Failure::new(
                Plugin::InterPodAffinity,
                Code::UnschedulableAndUnresolvable,
                AFFINITY,
            ));
        }
    }
    for t in &terms.required_anti {
        if let Some(v) = labels.get(&t.topology_key) {
            if s.anti.get(&t.topology_key, v) > 0 {
                return Err(Failure::new(
                    Plugin::InterPodAffinity,
                    Code::Unschedulable,
                    ANTI_AFFINITY,
                ));
            }
        }
    }
    Ok(())
}

/// Scores preferred (anti-)affinity of the pod and of existing pods; false when none applies.
pub fn score(cycle: &CycleState, cache: &Cache, nodes: &[&NodeInfo], out: &mut [i64]) -> bool {
    let preferred = cycle
        .affinity
        .as_ref()
        .filter(|a| !a.preferred_affinity.is_empty() || !a.preferred_anti.is_empty());
    if preferred.is_none() && !cache.has_affinity_pods() {
        return false;
    }
    let ns_labels = cache.namespace_labels(cycle.namespace);
    let mut topo = TopologyCounts::default();
    for node in cache.nodes() {
        let labels = node.labels();
        if labels.is_empty() {
            continue;
        }
        if let Some(a) = preferred {
            for g in &node.groups {
                let g_ns = cache.namespace_labels(&g.namespace);
                let n = i64::from(g.total);
                for (sign, terms) in [(1, &a.preferred_affinity), (-1, &a.preferred_anti)] {
                    for (w, t) in terms {
                        if let Some(v) = labels.get(&t.topology_key) {
                            if t.matches(&g.namespace, &g.labels, g_ns) {
                                topo.add(&t.topology_key, v, sign * w * n);
                            }
                        }
                    }
                }
            }
        }
        for ep in &node.affinity_pods {
            let Some(a) = ep.affinity.as_ref() else {
                continue;
            };
            let hard = a.required_affinity.iter().map(|t| (1, t));
            let soft = a.preferred_affinity.iter().map(|(w, t)| (*w, t));
            let anti = a.preferred_anti.iter().map(|(w, t)| (-*w, t));
            for (w, t) in hard.chain(soft).chain(anti) {
                if let Some(v) = labels.get(&t.topology_key) {
                    if t.matches(cycle.namespace, cycle.labels, ns_labels) {
                        topo.add(&t.topology_key, v, w);
                    }
                }
            }
        }
    }
    if topo.is_empty() {
        return false;
    }
    for (i, node) in nodes.iter().enumerate() {
        let labels = node.labels();
        out[i] = topo
            .0
            .iter()
            .filter_map(|(k, values)| labels.get(k).and_then(|v| values.get(v)))
            .sum();
    }
    let min = out.iter().copied().min().unwrap_or(0);
    let max = out.iter().copied().max().unwrap_or(0);
    for s in out.iter_mut() {
        *s = if max > min {
            (MAX_NODE_SCORE as f64 * ((*s - min) as f64 / (max - min) as f64)) as i64
        } else {
            0
        };
    }
    true
}

#[cfg(test)]
mod tests;
