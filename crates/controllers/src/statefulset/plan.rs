//! Pure decisions of the StatefulSet controller: which pod to create, delete or relabel next
//! (OrderedReady one at a time, Parallel all at once), the rolling update with partition,
//! and status counters.

use super::identity::{identity_matches, revision_of, start_ordinal};
use crate::pods::{is_available, is_ready};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::Pod;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// One step of a sync.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create pod `ordinal` (and its claims) from the current (`false`) or update (`true`)
    /// revision.
    Create { ordinal: i32, update: bool },
    /// Delete a pod: failed, condemned by a scale-down (`scaled`), or outdated.
    Delete { pod: Arc<Pod>, scaled: bool },
    /// Add the missing identity labels to pod `ordinal`.
    Relabel { pod: Arc<Pod>, ordinal: i32 },
    /// Create missing claims for pending pod `ordinal`.
    Claims { ordinal: i32 },
}

/// The steps of one sync and when to look again.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Steps in order.
    pub actions: Vec<Action>,
    /// Wait for minReadySeconds to pass.
    pub requeue: Option<Duration>,
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

fn running_ready(pod: &Pod) -> bool {
    phase(pod) == "Running" && is_ready(pod)
}

fn healthy(pod: &Pod) -> bool {
    running_ready(pod) && !terminating(pod)
}

fn min_ready(set: &StatefulSet) -> i32 {
    set.spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0)
}

/// Whether pods are handled one at a time in ordinal order (OrderedReady).
pub fn monotonic(set: &StatefulSet) -> bool {
    set.spec
        .as_ref()
        .and_then(|s| s.pod_management_policy.as_deref())
        != Some("Parallel")
}

/// (replicas, partition, on_delete) from the spec.
fn shape(set: &StatefulSet) -> (i32, i32, bool) {
    let spec = set.spec.clone().unwrap_or_default();
    let strategy = spec.update_strategy.unwrap_or_default();
    let partition = strategy
        .rolling_update
        .and_then(|r| r.partition)
        .unwrap_or(0);
    (
        spec.replicas.unwrap_or(1).max(0),
        partition,
        strategy.type_.as_deref() == Some("OnDelete"),
    )
}

/// The next steps for `pods` (by ordinal), given the current and update revision names.
pub fn plan(
    set: &StatefulSet,
    pods: &BTreeMap<i32, Arc<Pod>>,
    current: &str,
    update: &str,
    now: Timestamp,
) -> Plan {
    let (replicas, partition, on_delete) = shape(set);
    let start = start_ordinal(set);
    let end = start.saturating_add(replicas);
    let mono = monotonic(set);
    let mut out = Plan::default();
    let first_unhealthy = pods.values().find(|p| !healthy(p)).cloned();
    for ordinal in start..end {
        let Some(pod) = pods.get(&ordinal) else {
            let rolling_current = !on_delete && ordinal - start < partition && current != update;
            out.actions.push(Action::Create {
                ordinal,
                update: !rolling_current,
            });
            if mono {
                return out;
            }
            continue;
        };
        if matches!(phase(pod), "Failed" | "Succeeded") {
            if !terminating(pod) {
                out.actions.push(Action::Delete {
                    pod: pod.clone(),
                    scaled: false,
                });
            }
            if mono {
                return out;
            }
            continue;
        }
        if phase(pod) == "Pending" || phase(pod).is_empty() {
            out.actions.push(Action::Claims { ordinal });
        }
        if mono && (terminating(pod) || !running_ready(pod)) {
            return out;
        }
        if mono && !is_available(pod, min_ready(set), now) {
            out.requeue = Some(Duration::from_secs(min_ready(set).max(1) as u64));
            return out;
        }
        if !identity_matches(set, pod, ordinal) {
            out.actions.push(Action::Relabel {
                pod: pod.clone(),
                ordinal,
            });
        }
    }
    let condemned: Vec<&Arc<Pod>> = pods
        .iter()
        .filter(|(o, _)| **o < start || **o >= end)
        .map(|(_, p)| p)
        .collect();
    for pod in condemned.into_iter().rev() {
        if terminating(pod) {
            if mono {
                return out;
            }
            continue;
        }
        if mono
            && !running_ready(pod)
            && first_unhealthy.as_ref().map(|f| &f.metadata.name) != Some(&pod.metadata.name)
        {
            return out;
        }
        out.actions.push(Action::Delete {
            pod: pod.clone(),
            scaled: true,
        });
        if mono {
            return out;
        }
    }
    if on_delete
        || !out
            .actions
            .iter()
            .all(|a| matches!(a, Action::Claims { .. } | Action::Relabel { .. }))
    {
        return out;
    }
    for ordinal in (start..end).rev() {
        if ordinal - start < partition {
            break;
        }
        let Some(pod) = pods.get(&ordinal) else { break };
        if revision_of(pod) != Some(update) && !terminating(pod) {
            out.actions.push(Action::Delete {
                pod: pod.clone(),
                scaled: false,
            });
            return out;
        }
        if !healthy(pod) {
            return out;
        }
    }
    out
}

/// Status counters and revisions for `pods`.
pub fn status(
    set: &StatefulSet,
    pods: &BTreeMap<i32, Arc<Pod>>,
    current: &str,
    update: &str,
    now: Timestamp,
) -> StatefulSetStatus {
    let (mut replicas, mut ready, mut available, mut current_n, mut updated) = (0, 0, 0, 0, 0);
    for pod in pods.values() {
        replicas += 1;
        if running_ready(pod) {
            ready += 1;
            available += i32::from(is_available(pod, min_ready(set), now));
        }
        if !terminating(pod) {
            current_n += i32::from(revision_of(pod) == Some(current));
            updated += i32::from(revision_of(pod) == Some(update));
        }
    }
    let mut s = StatefulSetStatus {
        observed_generation: set.metadata.generation,
        replicas,
        ready_replicas: Some(ready),
        available_replicas: Some(available),
        current_replicas: Some(current_n),
        updated_replicas: Some(updated),
        current_revision: Some(current.to_string()),
        update_revision: Some(update.to_string()),
        collision_count: set.status.as_ref().and_then(|s| s.collision_count),
        conditions: set.status.as_ref().and_then(|s| s.conditions.clone()),
    };
    let (_, _, on_delete) = shape(set);
    if !on_delete && updated == replicas && ready == replicas {
        s.current_replicas = Some(updated);
        s.current_revision = Some(update.to_string());
    }
    s
}

#[cfg(test)]
mod tests;
