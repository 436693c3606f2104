//! One scheduling decision: filter enough feasible nodes from a rotating start, score, pick.

use crate::cache::Cache;
use crate::cycle_state::CycleState;
use crate::diagnosis::Diagnosis;
use crate::framework::FilterResult;
use crate::node_info::NodeInfo;
use crate::plugins::{run_filters, run_scores};
use rand::Rng;

/// Below this many nodes, all are filtered.
const MIN_FEASIBLE_NODES: usize = 100;
/// The adaptive percentage never drops below this.
const MIN_FEASIBLE_PERCENTAGE: usize = 5;

/// How many feasible nodes to find before scoring (upstream `numFeasibleNodesToFind`).
pub fn num_feasible_nodes_to_find(percentage: Option<u32>, num_all: usize) -> usize {
    if num_all < MIN_FEASIBLE_NODES {
        return num_all;
    }
    let percentage = match percentage {
        Some(p) if p > 0 => (p as usize).min(100),
        _ => 50usize
            .saturating_sub(num_all / 125)
            .max(MIN_FEASIBLE_PERCENTAGE),
    };
    (num_all * percentage / 100).max(MIN_FEASIBLE_NODES)
}

/// Runs the filters on a node, counting pods nominated to it with at least the pod's priority.
pub fn filter_node(cycle: &CycleState, cache: &Cache, node: &NodeInfo) -> FilterResult {
    if cache.has_nominations() {
        let mut nominated = cache
            .nominated_on(node.name())
            .filter(|p| p.uid != cycle.uid && p.priority >= cycle.priority)
            .peekable();
        if nominated.peek().is_some() {
            let mut with = node.clone();
            for p in nominated {
                with.add_pod(p.clone());
            }
            return run_filters(cycle, &with);
        }
    }
    run_filters(cycle, node)
}

/// Chooses among feasible nodes: filters from `start`, scores, picks the best (ties at random).
pub struct Scheduler {
    /// Where the next search starts.
    pub next_start: usize,
    /// `percentageOfNodesToScore`, adaptive when `None`.
    pub percentage: Option<u32>,
}

impl Scheduler {
    /// Picks a node for the pod, or says why none fits.
    pub fn schedule(&mut self, cycle: &CycleState, cache: &Cache) -> Result<String, Diagnosis> {
        let nodes = cache.nodes();
        if nodes.is_empty() {
            return Err(Diagnosis::default());
        }
        if let Some(name) = self.nominated_node(cycle, cache) {
            if let Some(node) = cache.node(name) {
                if filter_node(cycle, cache, node).is_ok() {
                    return Ok(name.to_string());
                }
            }
        }
        let want = num_feasible_nodes_to_find(self.percentage, nodes.len());
        let mut feasible: Vec<&NodeInfo> = Vec::with_capacity(want);
        let mut failures = Vec::new();
        let start = self.next_start % nodes.len();
        let mut processed = 0;
        for k in 0..nodes.len() {
            let node = &nodes[(start + k) % nodes.len()];
            processed += 1;
            match filter_node(cycle, cache, node) {
                Ok(()) => {
                    feasible.push(node);
                    if feasible.len() >= want {
                        break;
                    }
                }
                Err(f) => failures.push((node.name().to_string(), f)),
            }
        }
        self.next_start = (start + processed) % nodes.len();
        match feasible.len() {
            0 => Err(Diagnosis {
                num_all_nodes: nodes.len(),
                failures,
                pre_filter: None,
            }),
            1 => Ok(feasible[0].name().to_string()),
            _ => {
                let scores = run_scores(cycle, cache, &feasible);
                Ok(feasible[select_host(&scores, &mut rand::rng())]
                    .name()
                    .to_string())
            }
        }
    }

    fn nominated_node<'c>(&self, cycle: &'c CycleState, cache: &'c Cache) -> Option<&'c str> {
        let from_status = cycle
            .pod
            .status
            .as_ref()
            .and_then(|s| s.nominated_node_name.as_deref())
            .filter(|n| !n.is_empty());
        from_status.or_else(|| cache.nomination(cycle.uid))
    }
}

/// The index of the highest score, ties broken uniformly at random.
pub fn select_host(scores: &[i64], rng: &mut impl Rng) -> usize {
    let mut best = 0;
    let mut ties = 0u32;
    for (i, &s) in scores.iter().enumerate() {
        if i == 0 || s > scores[best] {
            best = i;
            ties = 1;
        } else if s == scores[best] {
            ties += 1;
            if rng.random_range(0..ties) == 0 {
                best = i;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests;
