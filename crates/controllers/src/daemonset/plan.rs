//! Pure decisions of the DaemonSet controller: pods to create and delete per node (manage),
//! rolling-update steps under maxUnavailable / maxSurge, and status counters.

use super::eligibility::should_run;
use crate::history::REVISION_HASH_LABEL;
use crate::pods::{is_available, is_ready};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{Node, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Label on daemon pods holding the template generation they were made from.
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";
/// Annotation on a DaemonSet holding its template generation (set by older API servers).
pub const TEMPLATE_GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";

/// Daemon pods by node name.
pub type PodsByNode = BTreeMap<String, Vec<Arc<Pod>>>;

/// Nodes to create a pod on and pods to delete.
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    /// Node names needing a pod.
    pub create_on: Vec<String>,
    /// Pods to delete.
    pub delete: Vec<Arc<Pod>>,
    /// Failed pods found (reported as events).
    pub failed: Vec<Arc<Pod>>,
}

fn template_spec(ds: &DaemonSet) -> PodSpec {
    ds.spec
        .as_ref()
        .and_then(|s| s.template.spec.clone())
        .unwrap_or_default()
}

fn min_ready(ds: &DaemonSet) -> i32 {
    ds.spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0)
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn by_age(pods: &mut [Arc<Pod>]) {
    pods.sort_by_key(|p| {
        (
            p.metadata.creation_timestamp.as_ref().map(|t| t.0),
            p.metadata.name.clone(),
        )
    });
}

/// The template generation of the DaemonSet, if its annotation carries one.
pub fn template_generation(ds: &DaemonSet) -> Option<String> {
    ds.metadata
        .annotations
        .as_ref()?
        .get(TEMPLATE_GENERATION_ANNOTATION)
        .cloned()
}

/// Whether the pod was made from the current template (revision hash or generation).
pub fn is_updated(pod: &Pod, hash: &str, generation: Option<&str>) -> bool {
    let labels = pod.metadata.labels.as_ref();
    let label = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
    (!hash.is_empty() && label(REVISION_HASH_LABEL) == Some(hash))
        || generation.is_some_and(|g| label(TEMPLATE_GENERATION_LABEL) == Some(g))
}

/// Whether the update strategy allows surging (RollingUpdate with a non-zero maxSurge).
pub fn allows_surge(ds: &DaemonSet) -> bool {
    let (_, surge) = limits(ds, 1);
    surge > 0
}

fn scaled(v: Option<&IntOrString>, total: usize) -> usize {
    match v {
        Some(IntOrString::Int(i)) => (*i).max(0) as usize,
        Some(IntOrString::String(s)) => {
            let pct: usize = s.trim_end_matches('%').parse().unwrap_or(0);
            (pct * total).div_ceil(100)
        }
        None => 0,
    }
}

/// maxUnavailable and maxSurge resolved against `desired` nodes (at least one unavailable if
/// both are zero).
pub fn limits(ds: &DaemonSet, desired: usize) -> (usize, usize) {
    let strategy = ds.spec.as_ref().and_then(|s| s.update_strategy.as_ref());
    if strategy.and_then(|s| s.type_.as_deref()) == Some("OnDelete") {
        return (0, 0);
    }
    let ru = strategy.and_then(|s| s.rolling_update.as_ref());
    let unavailable = scaled(ru.and_then(|r| r.max_unavailable.as_ref()), desired);
    let surge = scaled(ru.and_then(|r| r.max_surge.as_ref()), desired);
    if unavailable == 0 && surge == 0 {
        (1, 0)
    } else {
        (unavailable, surge)
    }
}

/// Per node: create where a pod should run and none exists, delete failed and surplus pods
/// and pods on nodes that no longer fit. `in_backoff(node)` holds back failed-pod deletions.
pub fn manage(
    ds: &DaemonSet,
    nodes: &[Arc<Node>],
    pods: &PodsByNode,
    hash: &str,
    now: Timestamp,
    in_backoff: impl Fn(&str) -> bool,
) -> Changes {
    let spec = template_spec(ds);
    let surge = allows_surge(ds);
    let mut out = Changes::default();
    for node in nodes {
        let name = node.metadata.name.clone().unwrap_or_default();
        let (run, keep) = should_run(&spec, node);
        let here = pods.get(&name).cloned().unwrap_or_default();
        if run && here.is_empty() {
            out.create_on.push(name);
            continue;
        }
        if !keep {
            out.delete.extend(
                here.into_iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_none()),
            );
            continue;
        }
        let mut running = Vec::new();
        for pod in here
            .into_iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
        {
            match phase(&pod) {
                "Failed" => {
                    out.failed.push(pod.clone());
                    if !in_backoff(&name) {
                        out.delete.push(pod);
                    }
                }
                "Succeeded" => out.delete.push(pod),
                _ => running.push(pod),
            }
        }
        by_age(&mut running);
        if !surge {
            out.delete.extend(running.into_iter().skip(1));
            continue;
        }
        if running.is_empty() && run {
            out.create_on.push(name);
            continue;
        }
        let (mut newest, mut oldest) = (None, None);
        for pod in running {
            let slot = if is_updated(&pod, hash, template_generation(ds).as_deref()) {
                &mut newest
            } else {
                &mut oldest
            };
            if slot.is_none() {
                *slot = Some(pod);
            } else {
                out.delete.push(pod);
            }
        }
        if let (Some(new), Some(old)) = (newest, oldest) {
            if !is_ready(&old) || is_available(&new, min_ready(ds), now) {
                out.delete.push(old);
            }
        }
    }
    out
}

/// The updated and the old live pod on a node, each if present.
type NewAndOld = (Option<Arc<Pod>>, Option<Arc<Pod>>);

/// The one updated and one old live pod on a node; `None` if there are duplicates.
fn updated_and_old(pods: &[Arc<Pod>], hash: &str, generation: Option<&str>) -> Option<NewAndOld> {
    let (mut new, mut old) = (None, None);
    for pod in pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
    {
        let slot = if is_updated(pod, hash, generation) {
            &mut new
        } else {
            &mut old
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(pod.clone());
    }
    Some((new, old))
}

/// One rolling-update step: old pods to delete (maxUnavailable) or nodes to surge onto.
pub fn rolling_update(
    ds: &DaemonSet,
    nodes: &[Arc<Node>],
    pods: &PodsByNode,
    hash: &str,
    now: Timestamp,
) -> Changes {
    let spec = template_spec(ds);
    let desired = nodes.iter().filter(|n| should_run(&spec, n).0).count();
    let (max_unavailable, max_surge) = limits(ds, desired);
    let generation = template_generation(ds);
    let available = |p: &Pod| is_available(p, min_ready(ds), now);
    let mut out = Changes::default();
    if max_surge == 0 {
        let (mut unavailable, mut replace, mut candidates) = (0, Vec::new(), Vec::new());
        for here in pods.values() {
            match updated_and_old(here, hash, generation.as_deref()) {
                None | Some((None, None)) | Some((Some(_), Some(_))) => unavailable += 1,
                Some((Some(new), None)) => unavailable += usize::from(!available(&new)),
                Some((None, Some(old))) if !available(&old) => replace.push(old),
                Some((None, Some(_))) if unavailable >= max_unavailable => {}
                Some((None, Some(old))) => candidates.push(old),
            }
        }
        let room = max_unavailable
            .saturating_sub(unavailable)
            .min(candidates.len());
        out.delete = replace;
        out.delete.extend(candidates.into_iter().take(room));
        return out;
    }
    let mut surged = 0;
    for (node, here) in pods {
        match updated_and_old(here, hash, generation.as_deref()) {
            None => surged += 1,
            Some((_, None)) => {}
            Some((None, Some(old))) if !available(&old) => out.create_on.push(node.clone()),
            Some((None, Some(_))) if surged >= max_surge => {}
            Some((None, Some(_))) => {
                surged += 1;
                out.create_on.push(node.clone());
            }
            Some((Some(new), Some(_))) if !available(&new) => surged += 1,
            Some((Some(_), Some(old))) => out.delete.push(old),
        }
    }
    out
}

/// Status counters for the DaemonSet at `now`.
pub fn status(
    ds: &DaemonSet,
    nodes: &[Arc<Node>],
    pods: &PodsByNode,
    hash: &str,
    now: Timestamp,
) -> DaemonSetStatus {
    let spec = template_spec(ds);
    let generation = template_generation(ds);
    let mut s = DaemonSetStatus {
        observed_generation: ds.metadata.generation,
        collision_count: ds.status.as_ref().and_then(|s| s.collision_count),
        conditions: ds.status.as_ref().and_then(|s| s.conditions.clone()),
        ..Default::default()
    };
    let (mut desired, mut current, mut misscheduled, mut ready, mut available, mut updated) =
        (0, 0, 0, 0, 0, 0);
    for node in nodes {
        let name = node.metadata.name.clone().unwrap_or_default();
        let mut here: Vec<Arc<Pod>> = pods
            .get(&name)
            .into_iter()
            .flatten()
            .filter(|p| {
                !(matches!(phase(p), "Succeeded" | "Failed")
                    && p.metadata.deletion_timestamp.is_some())
            })
            .cloned()
            .collect();
        let (run, _) = should_run(&spec, node);
        if !run {
            misscheduled += i32::from(!here.is_empty());
            continue;
        }
        desired += 1;
        by_age(&mut here);
        let Some(pod) = here.first() else { continue };
        current += 1;
        if is_ready(pod) {
            ready += 1;
            available += i32::from(is_available(pod, min_ready(ds), now));
        }
        updated += i32::from(is_updated(pod, hash, generation.as_deref()));
    }
    s.desired_number_scheduled = desired;
    s.current_number_scheduled = current;
    s.number_misscheduled = misscheduled;
    s.number_ready = ready;
    s.number_available = Some(available);
    s.updated_number_scheduled = Some(updated);
    s.number_unavailable = Some(desired - available);
    s
}

#[cfg(test)]
mod tests;
