//! Preemption (upstream DefaultPreemption): find a node where deleting lower-priority pods
//! lets the pod fit, preferring fewer PodDisruptionBudget violations and less important victims.

use crate::cache::Cache;
use crate::cycle_state::CycleState;
use crate::diagnosis::{fit_message, Diagnosis};
use crate::node_info::NodeInfo;
use crate::pod_info::CachedPod;
use crate::schedule::filter_node;
use crate::selector::LabelSelector;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use std::borrow::Cow;
use std::cmp::Reverse;
use std::sync::Arc;

/// Reason: the node has no pods of lower priority.
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";
/// Reason: the node failed for reasons deleting pods cannot fix.
pub const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
/// Message for pods with `preemptionPolicy: Never`.
pub const POLICY_NEVER: &str = "not eligible due to preemptionPolicy=Never.";
/// Message when a victim on the nominated node is still terminating.
pub const TERMINATING_VICTIM: &str = "not eligible due to a terminating pod on the nominated node.";

/// A node and the pods to delete there.
#[derive(Debug)]
pub struct Candidate {
    /// The node.
    pub node: String,
    /// The pods to delete, most important first.
    pub victims: Vec<Arc<CachedPod>>,
    /// How many victims their budgets do not allow to disrupt.
    pub pdb_violations: usize,
}

fn more_important(a: &CachedPod, b: &CachedPod) -> std::cmp::Ordering {
    b.priority
        .cmp(&a.priority)
        .then_with(|| a.start_second().cmp(&b.start_second()))
}

/// Splits pods into those whose eviction would exceed a budget and the rest.
fn split_by_budget(
    pods: Vec<Arc<CachedPod>>,
    pdbs: &[Arc<PodDisruptionBudget>],
) -> (Vec<Arc<CachedPod>>, Vec<Arc<CachedPod>>) {
    let mut allowed: Vec<i32> = pdbs
        .iter()
        .map(|p| p.status.as_ref().map_or(0, |s| s.disruptions_allowed))
        .collect();
    let selectors: Vec<LabelSelector> = pdbs
        .iter()
        .map(|p| LabelSelector::from_api(p.spec.as_ref().and_then(|s| s.selector.as_ref())))
        .collect();
    let (mut violating, mut fine) = (Vec::new(), Vec::new());
    for pod in pods {
        let mut violated = false;
        if !pod.labels().is_empty() {
            for (i, pdb) in pdbs.iter().enumerate() {
                if pdb.metadata.namespace.as_deref() != Some(pod.namespace())
                    || selectors[i].is_empty()
                    || !selectors[i].matches(pod.labels())
                {
                    continue;
                }
                let disrupted = pdb.status.as_ref().and_then(|s| s.disrupted_pods.as_ref());
                if disrupted.is_some_and(|d| d.contains_key(pod.name())) {
                    continue;
                }
                allowed[i] -= 1;
                violated |= allowed[i] < 0;
            }
        }
        if violated {
            violating.push(pod);
        } else {
            fine.push(pod);
        }
    }
    (violating, fine)
}

/// The fewest victims on `node` that make room, or the reasons the pod still does not fit.
pub fn select_victims(
    cycle: &CycleState,
    cache: &Cache,
    node: &NodeInfo,
    pdbs: &[Arc<PodDisruptionBudget>],
) -> Result<Candidate, Vec<Cow<'static, str>>> {
    let mut potential: Vec<Arc<CachedPod>> = node
        .pods
        .iter()
        .filter(|p| p.priority < cycle.priority)
        .cloned()
        .collect();
    if potential.is_empty() {
        return Err(vec![Cow::Borrowed(NO_VICTIMS)]);
    }
    let mut info = node.clone();
    for p in &potential {
        info.remove_pod(&p.uid);
    }
    if let Err(f) = filter_node(cycle, cache, &info) {
        return Err(f.reasons);
    }
    potential.sort_by(|a, b| more_important(a, b));
    let (violating, fine) = split_by_budget(potential, pdbs);
    let mut victims = Vec::new();
    let mut pdb_violations = 0;
    let tagged = violating
        .into_iter()
        .map(|p| (p, true))
        .chain(fine.into_iter().map(|p| (p, false)));
    for (pod, violates) in tagged {
        info.add_pod(pod.clone());
        if filter_node(cycle, cache, &info).is_err() {
            info.remove_pod(&pod.uid);
            pdb_violations += usize::from(violates);
            victims.push(pod);
        }
    }
    victims.sort_by(|a, b| more_important(a, b));
    Ok(Candidate {
        node: node.name().to_string(),
        victims,
        pdb_violations,
    })
}

/// Picks the candidate as upstream does: fewest budget violations, lowest top victim priority,
/// lowest priority sum, fewest victims, latest-started top victims.
pub fn pick(mut candidates: Vec<Candidate>) -> Option<Candidate> {
    candidates.sort_by_key(|c| {
        let top = c.victims.first().map_or(i32::MIN, |v| v.priority);
        let sum: i64 = c
            .victims
            .iter()
            .map(|v| i64::from(v.priority) + i64::from(i32::MAX) + 1)
            .sum();
        let earliest = c
            .victims
            .iter()
            .filter(|v| v.priority == top)
            .map(|v| v.start_second())
            .min()
            .unwrap_or(i64::MAX);
        (
            c.pdb_violations,
            top,
            sum,
            c.victims.len(),
            Reverse(earliest),
        )
    });
    candidates.into_iter().next()
}

/// Finds where to preempt; `Err` carries the message upstream reports after `preemption: `.
pub fn preempt(
    cycle: &CycleState,
    cache: &Cache,
    diagnosis: &Diagnosis,
    may_preempt: bool,
    pdbs: &[Arc<PodDisruptionBudget>],
) -> Result<Candidate, String> {
    if !may_preempt {
        return Err(POLICY_NEVER.into());
    }
    let nominated = cycle
        .pod
        .status
        .as_ref()
        .and_then(|s| s.nominated_node_name.as_deref());
    if let Some(node) = nominated.and_then(|n| cache.node(n)) {
        if node
            .pods
            .iter()
            .any(|p| p.terminating() && p.priority < cycle.priority)
        {
            return Err(TERMINATING_VICTIM.into());
        }
    }
    let nodes = cache.nodes();
    let wanted = (nodes.len() / 10).max(100).min(nodes.len());
    let mut candidates = Vec::new();
    let mut reasons: Vec<Cow<'static, str>> = Vec::new();
    for node in nodes {
        if !diagnosis.resolvable(node.name()) {
            reasons.push(Cow::Borrowed(NOT_HELPFUL));
            continue;
        }
        match select_victims(cycle, cache, node, pdbs) {
            Ok(c) => {
                candidates.push(c);
                if candidates.len() >= wanted {
                    break;
                }
            }
            Err(r) => reasons.extend(r),
        }
    }
    pick(candidates).ok_or_else(|| fit_message(nodes.len(), reasons.iter().map(|r| r.as_ref())))
}

#[cfg(test)]
mod tests;
