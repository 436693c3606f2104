//! NodePorts: a pod's host ports must be free on the node.

use crate::cycle_state::CycleState;
use crate::framework::{Code, Failure, FilterResult, Plugin};
use crate::node_info::NodeInfo;

/// The filter's reason.
pub const REASON: &str = "node(s) didn't have free ports for the requested pod ports";

/// Rejects nodes where a requested host port is taken.
pub fn filter(cycle: &CycleState, node: &NodeInfo) -> FilterResult {
    let taken = cycle
        .ports
        .iter()
        .any(|want| node.used_ports.iter().any(|used| used.conflicts(want)));
    if taken {
        return Err(Failure::new(Plugin::NodePorts, Code::Unschedulable, REASON));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::testing::{cached, node, pod};
    use std::sync::Arc;

    #[test]
    fn a_used_host_port_rejects_the_node() {
        let cache = Cache::new();
        let mut info = NodeInfo::new(Arc::new(node("n1", "4", "4Gi")));
        info.add_pod(cached(pod("old", "", "").host_port(8080).build()));
        let same = pod("a", "", "").host_port(8080).build();
        let other = pod("b", "", "").host_port(8081).build();
        let err = filter(&CycleState::new(&same, 0, None, &cache), &info).expect_err("conflict");
        assert_eq!(err.code, Code::Unschedulable);
        assert!(filter(&CycleState::new(&other, 0, None, &cache), &info).is_ok());
    }
}
