//! NodeResourcesFit: requests must fit allocatable; LeastAllocated scoring.

use crate::cycle_state::CycleState;
use crate::framework::{Code, Failure, FilterResult, Plugin, MAX_NODE_SCORE};
use crate::node_info::NodeInfo;
use crate::resources::PodRequests;
use std::borrow::Cow;

/// The reasons a pod's requests do not fit a node (empty when they fit).
pub fn insufficient(req: &PodRequests, node: &NodeInfo) -> Vec<Cow<'static, str>> {
    let mut reasons = Vec::new();
    let alloc = &node.allocatable;
    let used = &node.requested;
    if node.pods.len() as i64 + 1 > alloc.pods {
        reasons.push(Cow::Borrowed("Too many pods"));
    }
    let r = &req.requests;
    if r.is_zero() {
        return reasons;
    }
    if r.milli_cpu > 0 && r.milli_cpu > alloc.milli_cpu - used.milli_cpu {
        reasons.push(Cow::Borrowed("Insufficient cpu"));
    }
    if r.memory > 0 && r.memory > alloc.memory - used.memory {
        reasons.push(Cow::Borrowed("Insufficient memory"));
    }
    if r.ephemeral_storage > 0
        && r.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage
    {
        reasons.push(Cow::Borrowed("Insufficient ephemeral-storage"));
    }
    for (name, want) in &r.scalar {
        if *want > 0 && *want > alloc.scalar(name) - used.scalar(name) {
            reasons.push(Cow::Owned(format!("Insufficient {name}")));
        }
    }
    reasons
}

/// Rejects nodes without room for the pod's requests or for one more pod.
pub fn filter(cycle: &CycleState, node: &NodeInfo) -> FilterResult {
    let reasons = insufficient(&cycle.requests, node);
    if reasons.is_empty() {
        return Ok(());
    }
    Err(Failure {
        plugin: Plugin::NodeResourcesFit,
        code: Code::Unschedulable,
        reasons,
    })
}

fn least_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

/// LeastAllocated: cpu and memory (weight 1 each) left free after placing the pod.
pub fn score(cycle: &CycleState, nodes: &[&NodeInfo], out: &mut [i64]) {
    for (i, node) in nodes.iter().enumerate() {
        let cpu = least_requested(
            node.non_zero_cpu + cycle.requests.non_zero_cpu,
            node.allocatable.milli_cpu,
        );
        let mem = least_requested(
            node.non_zero_memory + cycle.requests.non_zero_memory,
            node.allocatable.memory,
        );
        out[i] = (cpu + mem) / 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::testing::{cached, node, pod};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use std::sync::Arc;

    #[test]
    fn every_insufficient_resource_is_reported() {
        let cache = Cache::new();
        let mut info = NodeInfo::new(Arc::new(node("n1", "2", "2Gi")));
        info.add_pod(cached(pod("old", "1500m", "1Gi").build()));
        let p = pod("p", "1", "2Gi").build();
        let err = filter(&CycleState::new(&p, 0, None, &cache), &info).expect_err("full");
        assert_eq!(err.reasons, vec!["Insufficient cpu", "Insufficient memory"]);
        let small = pod("q", "500m", "1Gi").build();
        assert!(filter(&CycleState::new(&small, 0, None, &cache), &info).is_ok());
    }

    #[test]
    fn pod_count_and_extended_resources() {
        let cache = Cache::new();
        let mut n = node("n1", "2", "2Gi");
        let alloc = n
            .status
            .as_mut()
            .and_then(|s| s.allocatable.as_mut())
            .expect("alloc");
        alloc.insert("pods".into(), Quantity("1".into()));
        alloc.insert("example.com/gpu".into(), Quantity("1".into()));
        let mut info = NodeInfo::new(Arc::new(n));
        info.add_pod(cached(pod("old", "", "").build()));
        let mut p = pod("p", "", "").build();
        let c = &mut p.spec.as_mut().expect("spec").containers[0];
        let reqs = c
            .resources
            .as_mut()
            .and_then(|r| r.requests.as_mut())
            .expect("requests");
        reqs.insert("example.com/gpu".into(), Quantity("2".into()));
        let err = filter(&CycleState::new(&p, 0, None, &cache), &info).expect_err("full");
        assert_eq!(
            err.reasons,
            vec!["Too many pods", "Insufficient example.com/gpu"]
        );
    }

    #[test]
    fn least_allocated_prefers_emptier_nodes() {
        let cache = Cache::new();
        let empty = NodeInfo::new(Arc::new(node("a", "4", "4Gi")));
        let mut busy = NodeInfo::new(Arc::new(node("b", "4", "4Gi")));
        busy.add_pod(cached(pod("old", "2", "2Gi").build()));
        let p = pod("p", "1", "1Gi").build();
        let mut out = [0; 2];
        score(
            &CycleState::new(&p, 0, None, &cache),
            &[&empty, &busy],
            &mut out,
        );
        assert_eq!(out, [75, 25]);
    }
}
