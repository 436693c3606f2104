//! TaintToleration: NoSchedule/NoExecute taints must be tolerated; PreferNoSchedule scores.

use crate::cycle_state::CycleState;
use crate::framework::{default_normalize, Code, Failure, FilterResult, Plugin};
use crate::node_info::NodeInfo;
use k8s_openapi::api::core::v1::{Taint, Toleration};

/// Whether a toleration tolerates a taint (upstream `ToleratesTaint`).
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = t.effect.as_deref().filter(|e| !e.is_empty()) {
        if effect != taint.effect {
            return false;
        }
    }
    if let Some(key) = t.key.as_deref().filter(|k| !k.is_empty()) {
        if key != taint.key {
            return false;
        }
    }
    match t.operator.as_deref().unwrap_or("") {
        "Exists" => true,
        "" | "Equal" => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        _ => false,
    }
}

/// The first NoSchedule or NoExecute taint none of `tolerations` tolerates.
pub fn untolerated<'a>(taints: &'a [Taint], tolerations: &[Toleration]) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .find(|taint| !tolerations.iter().any(|t| tolerates(t, taint)))
}

/// Rejects nodes with a NoSchedule or NoExecute taint the pod does not tolerate.
pub fn filter(cycle: &CycleState, node: &NodeInfo) -> FilterResult {
    match untolerated(node.taints(), cycle.tolerations) {
        None => Ok(()),
        Some(t) => Err(Failure::new(
            Plugin::TaintToleration,
            Code::UnschedulableAndUnresolvable,
            format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t.key,
                t.value.as_deref().unwrap_or("")
            ),
        )),
    }
}

/// Scores nodes by how few PreferNoSchedule taints the pod does not tolerate.
pub fn score(cycle: &CycleState, nodes: &[&NodeInfo], out: &mut [i64]) {
    let prefer: Vec<&Toleration> = cycle
        .tolerations
        .iter()
        .filter(|t| {
            matches!(
                t.effect.as_deref(),
                None | Some("") | Some("PreferNoSchedule")
            )
        })
        .collect();
    for (i, node) in nodes.iter().enumerate() {
        out[i] = node
            .taints()
            .iter()
            .filter(|t| t.effect == "PreferNoSchedule")
            .filter(|taint| !prefer.iter().any(|t| tolerates(t, taint)))
            .count() as i64;
    }
    default_normalize(out, true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::testing::{node, pod, taint};
    use std::sync::Arc;

    #[test]
    fn untolerated_taints_are_named_in_the_reason() {
        let cache = Cache::new();
        let n = taint(
            node("n1", "1", "1Gi"),
            "node.kubernetes.io/not-ready",
            "",
            "NoExecute",
        );
        let info = NodeInfo::new(Arc::new(n));
        let p = pod("a", "", "").build();
        let err = filter(&CycleState::new(&p, 0, None, &cache), &info).expect_err("tainted");
        assert_eq!(
            err.reasons,
            vec!["node(s) had untolerated taint {node.kubernetes.io/not-ready: }"]
        );
        assert_eq!(err.code, Code::UnschedulableAndUnresolvable);
        let ok = pod("b", "", "")
            .toleration("node.kubernetes.io/not-ready", "Exists", "", "NoExecute")
            .build();
        assert!(filter(&CycleState::new(&ok, 0, None, &cache), &info).is_ok());
    }

    #[test]
    fn toleration_matching_rules() {
        let t = |key: &str, op: &str, value: &str, effect: &str| Toleration {
            key: (!key.is_empty()).then(|| key.into()),
            operator: (!op.is_empty()).then(|| op.into()),
            value: (!value.is_empty()).then(|| value.into()),
            effect: (!effect.is_empty()).then(|| effect.into()),
            toleration_seconds: None,
        };
        let taint = Taint {
            key: "dedicated".into(),
            value: Some("gpu".into()),
            effect: "NoSchedule".into(),
            time_added: None,
        };
        assert!(tolerates(
            &t("dedicated", "Equal", "gpu", "NoSchedule"),
            &taint
        ));
        assert!(tolerates(&t("dedicated", "", "gpu", ""), &taint));
        assert!(!tolerates(
            &t("dedicated", "Equal", "cpu", "NoSchedule"),
            &taint
        ));
        assert!(!tolerates(
            &t("dedicated", "Exists", "", "NoExecute"),
            &taint
        ));
        assert!(
            tolerates(&t("", "Exists", "", ""), &taint),
            "empty key with Exists tolerates all"
        );
    }

    #[test]
    fn prefer_no_schedule_taints_lower_the_score() {
        let cache = Cache::new();
        let clean = NodeInfo::new(Arc::new(node("a", "1", "1Gi")));
        let tainted = NodeInfo::new(Arc::new(taint(
            node("b", "1", "1Gi"),
            "k",
            "v",
            "PreferNoSchedule",
        )));
        let p = pod("p", "", "").build();
        let mut out = [0; 2];
        score(
            &CycleState::new(&p, 0, None, &cache),
            &[&clean, &tainted],
            &mut out,
        );
        assert_eq!(out, [100, 0]);
        let tolerant = pod("q", "", "")
            .toleration("k", "Exists", "", "PreferNoSchedule")
            .build();
        score(
            &CycleState::new(&tolerant, 0, None, &cache),
            &[&clean, &tainted],
            &mut out,
        );
        assert_eq!(out, [100, 100]);
    }
}
