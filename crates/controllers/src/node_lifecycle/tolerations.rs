//! Taints and tolerations: which NoExecute taints a pod tolerates, and for how long.

use k8s_openapi::api::core::v1::{Taint, Toleration};
use std::time::Duration;

/// Whether `toleration` tolerates `taint` (upstream's `ToleratesTaint`).
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    if toleration
        .effect
        .as_deref()
        .is_some_and(|e| !e.is_empty() && e != taint.effect)
    {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or("");
    let operator = toleration.operator.as_deref().unwrap_or("Equal");
    if key.is_empty() {
        return operator == "Exists";
    }
    if key != taint.key {
        return false;
    }
    match operator {
        "Exists" => true,
        "Equal" | "" => {
            toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

/// How long a pod with `tolerations` may stay on a node with the NoExecute `taints`:
/// `None` to evict now, `Some(None)` to stay forever, `Some(Some(d))` to stay `d`.
pub fn toleration_time(taints: &[&Taint], tolerations: &[Toleration]) -> Option<Option<Duration>> {
    let mut min: Option<Duration> = None;
    for taint in taints {
        let t = tolerations.iter().find(|t| tolerates(t, taint))?;
        if let Some(secs) = t.toleration_seconds {
            let d = Duration::from_secs(secs.max(0) as u64);
            min = Some(min.map_or(d, |m| m.min(d)));
        }
    }
    Some(min)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(key: &str) -> Taint {
        Taint {
            key: key.into(),
            effect: "NoExecute".into(),
            ..Default::default()
        }
    }

    fn toleration(key: &str, secs: Option<i64>) -> Toleration {
        Toleration {
            key: Some(key.into()),
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            toleration_seconds: secs,
            ..Default::default()
        }
    }

    #[test]
    fn the_shortest_matching_toleration_wins_and_untolerated_taints_evict_now() {
        let unreachable = taint("node.kubernetes.io/unreachable");
        let other = taint("example.com/x");
        let tols = vec![
            toleration("node.kubernetes.io/unreachable", Some(300)),
            toleration("node.kubernetes.io/unreachable", Some(2)),
        ];
        assert_eq!(
            toleration_time(&[&unreachable], &tols),
            Some(Some(Duration::from_secs(300))),
            "the first matching toleration counts, as upstream"
        );
        assert_eq!(toleration_time(&[&unreachable, &other], &tols), None);
        let everything = Toleration {
            operator: Some("Exists".into()),
            ..Default::default()
        };
        assert_eq!(toleration_time(&[&other], &[everything]), Some(None));
    }

    #[test]
    fn equal_needs_the_same_value_and_effects_must_match() {
        let mut t = taint("k");
        t.value = Some("v".into());
        let mut tol = Toleration {
            key: Some("k".into()),
            value: Some("v".into()),
            ..Default::default()
        };
        assert!(tolerates(&tol, &t));
        tol.value = Some("w".into());
        assert!(!tolerates(&tol, &t));
        tol.value = Some("v".into());
        tol.effect = Some("NoSchedule".into());
        assert!(!tolerates(&tol, &t));
    }
}
