//! NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory use stay balanced.

use crate::cycle_state::CycleState;
use crate::framework::MAX_NODE_SCORE;
use crate::node_info::NodeInfo;

/// Scores `(1 - |cpu fraction - memory fraction| / 2) * 100` after placing the pod.
pub fn score(cycle: &CycleState, nodes: &[&NodeInfo], out: &mut [i64]) {
    let req = &cycle.requests.requests;
    for (i, node) in nodes.iter().enumerate() {
        let mut fractions = [0f64; 2];
        let mut n = 0;
        let pairs = [
            (
                node.requested.milli_cpu + req.milli_cpu,
                node.allocatable.milli_cpu,
            ),
            (node.requested.memory + req.memory, node.allocatable.memory),
        ];
        for (used, alloc) in pairs {
            if alloc == 0 {
                continue;
            }
            fractions[n] = (used as f64 / alloc as f64).min(1.0);
            n += 1;
        }
        let std = if n == 2 {
            ((fractions[0] - fractions[1]) / 2.0).abs()
        } else {
            0.0
        };
        out[i] = ((1.0 - std) * MAX_NODE_SCORE as f64) as i64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::testing::{cached, node, pod};
    use std::sync::Arc;

    #[test]
    fn balanced_use_scores_higher() {
        let cache = Cache::new();
        let mut cpu_heavy = NodeInfo::new(Arc::new(node("a", "4", "4Gi")));
        cpu_heavy.add_pod(cached(pod("old", "3", "0").build()));
        let mut even = NodeInfo::new(Arc::new(node("b", "4", "4Gi")));
        even.add_pod(cached(pod("old2", "1", "1Gi").build()));
        let p = pod("p", "1", "1Gi").build();
        let mut out = [0; 2];
        score(
            &CycleState::new(&p, 0, None, &cache),
            &[&cpu_heavy, &even],
            &mut out,
        );
        assert_eq!(out, [62, 100], "cpu 1.0 vs memory 0.25 gives std 0.375");
    }
}
