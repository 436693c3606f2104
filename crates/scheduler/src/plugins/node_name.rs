//! NodeName: a pod naming a node fits only that node.

use crate::cycle_state::CycleState;
use crate::framework::{Code, Failure, FilterResult, Plugin};
use crate::node_info::NodeInfo;

/// The filter's reason.
pub const REASON: &str = "node(s) didn't match the requested node name";

/// Rejects nodes other than `spec.nodeName`, when it is set.
pub fn filter(cycle: &CycleState, node: &NodeInfo) -> FilterResult {
    match cycle.node_name {
        Some(n) if n != node.name() => Err(Failure::new(
            Plugin::NodeName,
            Code::UnschedulableAndUnresolvable,
            REASON,
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::testing::{node, pod};
    use std::sync::Arc;

    #[test]
    fn only_the_named_node_fits() {
        let cache = Cache::new();
        let p = pod("a", "", "").node_name("n2").build();
        let cycle = CycleState::new(&p, 0, None, &cache);
        assert!(filter(&cycle, &NodeInfo::new(Arc::new(node("n1", "1", "1Gi")))).is_err());
        assert!(filter(&cycle, &NodeInfo::new(Arc::new(node("n2", "1", "1Gi")))).is_ok());
    }
}
