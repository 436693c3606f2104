//! The default profile's filter and score plugins, run in upstream's order with its weights.

pub mod balanced_allocation;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod taint_toleration;
pub mod volume_binding;

use crate::cache::Cache;
use crate::cycle_state::CycleState;
use crate::framework::FilterResult;
use crate::node_info::NodeInfo;

/// Runs every filter on a node, stopping at the first failure.
pub fn run_filters(cycle: &CycleState, node: &NodeInfo) -> FilterResult {
    node_unschedulable::filter(cycle, node)?;
    node_name::filter(cycle, node)?;
    taint_toleration::filter(cycle, node)?;
    node_affinity::filter(cycle, node)?;
    node_ports::filter(cycle, node)?;
    node_resources_fit::filter(cycle, node)?;
    volume_binding::filter(cycle, node)?;
    pod_topology_spread::filter(cycle, node)?;
    inter_pod_affinity::filter(cycle, node)
}

/// Upstream's score weights.
const TAINT_TOLERATION: i64 = 3;
const NODE_AFFINITY: i64 = 2;
const NODE_RESOURCES_FIT: i64 = 1;
const POD_TOPOLOGY_SPREAD: i64 = 2;
const INTER_POD_AFFINITY: i64 = 2;
const BALANCED_ALLOCATION: i64 = 1;

/// The weighted sum of every score plugin for each of `nodes`.
pub fn run_scores(cycle: &CycleState, cache: &Cache, nodes: &[&NodeInfo]) -> Vec<i64> {
    let mut total = vec![0i64; nodes.len()];
    let mut scratch = vec![0i64; nodes.len()];
    let mut add = |scratch: &mut Vec<i64>, weight: i64| {
        for (t, s) in total.iter_mut().zip(scratch.iter_mut()) {
            *t += *s * weight;
            *s = 0;
        }
    };
    taint_toleration::score(cycle, nodes, &mut scratch);
    add(&mut scratch, TAINT_TOLERATION);
    if node_affinity::score(cycle, nodes, &mut scratch) {
        add(&mut scratch, NODE_AFFINITY);
    }
    node_resources_fit::score(cycle, nodes, &mut scratch);
    add(&mut scratch, NODE_RESOURCES_FIT);
    if pod_topology_spread::score(cycle, cache, nodes, &mut scratch) {
        add(&mut scratch, POD_TOPOLOGY_SPREAD);
    }
    if inter_pod_affinity::score(cycle, cache, nodes, &mut scratch) {
        add(&mut scratch, INTER_POD_AFFINITY);
    }
    balanced_allocation::score(cycle, nodes, &mut scratch);
    add(&mut scratch, BALANCED_ALLOCATION);
    total
}
