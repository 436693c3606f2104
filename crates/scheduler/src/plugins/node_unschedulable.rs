//! NodeUnschedulable: cordoned nodes take only pods that tolerate the unschedulable taint.

use crate::cycle_state::CycleState;
use crate::framework::{Code, Failure, FilterResult, Plugin};
use crate::node_info::NodeInfo;
use crate::plugins::taint_toleration::tolerates;
use k8s_openapi::api::core::v1::Taint;

/// The filter's reason.
pub const REASON: &str = "node(s) were unschedulable";

/// Rejects a node with `spec.unschedulable` unless the pod tolerates it.
pub fn filter(cycle: &CycleState, node: &NodeInfo) -> FilterResult {
    let cordoned = node
        .node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false);
    if !cordoned {
        return Ok(());
    }
    let taint = Taint {
        key: "node.kubernetes.io/unschedulable".into(),
        effect: "NoSchedule".into(),
        value: None,
        time_added: None,
    };
    if cycle.tolerations.iter().any(|t| tolerates(t, &taint)) {
        return Ok(());
    }
    Err(Failure::new(
        Plugin::NodeUnschedulable,
        Code::UnschedulableAndUnresolvable,
        REASON,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::testing::{node, pod};
    use std::sync::Arc;

    #[test]
    fn cordoned_nodes_reject_pods_without_the_toleration() {
        let mut n = node("n1", "1", "1Gi");
        n.spec.get_or_insert_with(Default::default).unschedulable = Some(true);
        let info = NodeInfo::new(Arc::new(n));
        let cache = Cache::new();
        let plain = pod("a", "", "").build();
        let err = filter(&CycleState::new(&plain, 0, None, &cache), &info).expect_err("cordoned");
        assert_eq!(err.reasons, vec![REASON]);
        let tolerant = pod("b", "", "")
            .toleration(
                "node.kubernetes.io/unschedulable",
                "Exists",
                "",
                "NoSchedule",
            )
            .build();
        assert!(filter(&CycleState::new(&tolerant, 0, None, &cache), &info).is_ok());
    }
}
