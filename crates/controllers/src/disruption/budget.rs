//! The arithmetic of a PodDisruptionBudget: desired healthy pods from minAvailable /
//! maxUnavailable, healthy pods (ready, not deleting, not recently evicted), the pruned
//! disruptedPods map, and the resulting status.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How long an evicted pod counts as disrupted before it is assumed to survive.
pub const DELETION_TIMEOUT_SECONDS: i64 = 120;

/// An int, or a percentage of `total` rounded up; `None` when malformed.
pub fn scaled(value: &IntOrString, total: i32) -> Option<i32> {
    match value {
        IntOrString::Int(i) => Some(*i),
        IntOrString::String(s) => {
            let pct: i64 = s.strip_suffix('%')?.parse().ok()?;
            Some(((pct * i64::from(total) + 99) / 100) as i32)
        }
    }
}

/// Whether the budget needs the pods' controllers' scale to compute its numbers.
pub fn needs_scale(pdb: &PodDisruptionBudget) -> bool {
    let spec = pdb.spec.as_ref();
    spec.and_then(|s| s.max_unavailable.as_ref()).is_some()
        || matches!(
            spec.and_then(|s| s.min_available.as_ref()),
            Some(IntOrString::String(_))
        )
}

/// Desired healthy pods given the expected count (the scale sum, or the pod count).
pub fn desired_healthy(pdb: &PodDisruptionBudget, expected: i32) -> Option<i32> {
    let spec = pdb.spec.as_ref();
    if let Some(max) = spec.and_then(|s| s.max_unavailable.as_ref()) {
        return Some((expected - scaled(max, expected)?).max(0));
    }
    match spec.and_then(|s| s.min_available.as_ref()) {
        Some(min) => scaled(min, expected),
        None => Some(0),
    }
}

/// disruptedPods without pods that are gone or deleting, and without expired entries;
/// also when the earliest remaining entry expires.
pub fn prune_disrupted(
    disrupted: &BTreeMap<String, Time>,
    pods: &[Arc<Pod>],
    now: Timestamp,
) -> (BTreeMap<String, Time>, Option<i64>) {
    let mut kept = BTreeMap::new();
    let mut next: Option<i64> = None;
    for (name, at) in disrupted {
        let pod = pods
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some(name));
        if pod.is_none_or(|p| p.metadata.deletion_timestamp.is_some()) {
            continue;
        }
        let expires = at.0.as_second() + DELETION_TIMEOUT_SECONDS;
        if expires <= now.as_second() {
            continue;
        }
        next = Some(next.map_or(expires, |n| n.min(expires)));
        kept.insert(name.clone(), at.clone());
    }
    (kept, next)
}

/// Pods that count as healthy: ready, not deleting, not recently evicted.
pub fn current_healthy(pods: &[Arc<Pod>], disrupted: &BTreeMap<String, Time>) -> i32 {
    pods.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| !disrupted.contains_key(p.metadata.name.as_deref().unwrap_or_default()))
        .filter(|p| crate::pods::is_ready(p))
        .count() as i32
}

/// The status for the computed numbers (`None` numbers: the sync failed).
pub fn status(
    pdb: &PodDisruptionBudget,
    numbers: Option<(i32, i32, i32)>,
    disrupted: BTreeMap<String, Time>,
    now: Timestamp,
) -> PodDisruptionBudgetStatus {
    let old = pdb.status.clone().unwrap_or_default();
    let (expected, healthy, desired) =
        numbers.unwrap_or((old.expected_pods, old.current_healthy, old.desired_healthy));
    let allowed = if numbers.is_some() {
        (healthy - desired).max(0)
    } else {
        0
    };
    let (status, reason) = match (numbers, allowed) {
        (None, _) => ("False", "SyncFailed"),
        (_, 0) => ("False", "InsufficientPods"),
        _ => ("True", "SufficientPods"),
    };
    let mut conditions = old.conditions.clone().unwrap_or_default();
    let prior = conditions.iter().find(|c| c.type_ == "DisruptionAllowed");
    let transition = match prior {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => Time(now),
    };
    conditions.retain(|c| c.type_ != "DisruptionAllowed");
    conditions.push(Condition {
        type_: "DisruptionAllowed".into(),
        status: status.into(),
        reason: reason.into(),
        message: String::new(),
        last_transition_time: transition,
        observed_generation: pdb.metadata.generation,
    });
    PodDisruptionBudgetStatus {
        current_healthy: healthy,
        desired_healthy: desired,
        expected_pods: expected,
        disruptions_allowed: allowed,
        disrupted_pods: (!disrupted.is_empty()).then_some(disrupted),
        observed_generation: pdb.metadata.generation,
        conditions: Some(conditions),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec;

    fn pdb(min: Option<IntOrString>, max: Option<IntOrString>) -> PodDisruptionBudget {
        PodDisruptionBudget {
            spec: Some(PodDisruptionBudgetSpec {
                min_available: min,
                max_unavailable: max,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn percentages_round_up_like_upstream() {
        assert_eq!(scaled(&IntOrString::String("50%".into()), 5), Some(3));
        assert_eq!(scaled(&IntOrString::String("x".into()), 5), None);
        let p = pdb(None, Some(IntOrString::String("30%".into())));
        assert!(needs_scale(&p));
        assert_eq!(desired_healthy(&p, 10), Some(7));
        let p = pdb(Some(IntOrString::Int(2)), None);
        assert!(!needs_scale(&p));
        assert_eq!(desired_healthy(&p, 10), Some(2));
        let p = pdb(Some(IntOrString::String("100%".into())), None);
        assert_eq!(desired_healthy(&p, 3), Some(3));
    }

    #[test]
    fn disruptions_allowed_is_the_healthy_surplus() {
        let p = pdb(Some(IntOrString::Int(2)), None);
        let s = status(&p, Some((3, 3, 2)), BTreeMap::new(), Timestamp::UNIX_EPOCH);
        assert_eq!(s.disruptions_allowed, 1);
        let c = &s.conditions.unwrap()[0];
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("True", "SufficientPods")
        );
        let s = status(&p, Some((3, 1, 2)), BTreeMap::new(), Timestamp::UNIX_EPOCH);
        assert_eq!(s.disruptions_allowed, 0);
        assert_eq!(s.conditions.unwrap()[0].reason, "InsufficientPods");
    }
}
