//! Why a pod fits nowhere, in upstream's message shape.

use crate::framework::{Code, Failure, PluginSet};
use std::collections::HashMap;

/// The message when the cluster has no nodes.
pub const NO_NODES: &str = "no nodes available to schedule pods";

/// The per-node failures of one scheduling attempt.
#[derive(Debug, Default)]
pub struct Diagnosis {
    /// How many nodes were considered.
    pub num_all_nodes: usize,
    /// Node name and why it was rejected.
    pub failures: Vec<(String, Failure)>,
    /// Why a pre-filter rejected the pod on every node, if one did.
    pub pre_filter: Option<String>,
}

impl Diagnosis {
    /// The filter plugins that rejected at least one node.
    pub fn plugins(&self) -> PluginSet {
        self.failures
            .iter()
            .fold(0, |set, (_, f)| set | f.plugin.bit())
    }

    /// The failure recorded for `node`.
    pub fn failure(&self, node: &str) -> Option<&Failure> {
        self.failures
            .iter()
            .find(|(n, _)| n == node)
            .map(|(_, f)| f)
    }

    /// Whether preemption could help on `node` (it failed only with resolvable reasons).
    pub fn resolvable(&self, node: &str) -> bool {
        self.failure(node)
            .is_some_and(|f| f.code == Code::Unschedulable)
    }

    /// `0/N nodes are available: <count reason, ...>.` with reasons sorted as strings.
    pub fn message(&self) -> String {
        if self.num_all_nodes == 0 {
            return NO_NODES.to_string();
        }
        if let Some(m) = &self.pre_filter {
            return format!("0/{} nodes are available: {m}.", self.num_all_nodes);
        }
        let reasons = self
            .failures
            .iter()
            .flat_map(|(_, f)| f.reasons.iter().map(|r| r.as_ref()));
        fit_message(self.num_all_nodes, reasons)
    }
}

/// Formats a histogram of reasons the way upstream's `FitError` does.
pub fn fit_message<'a>(num_all_nodes: usize, reasons: impl Iterator<Item = &'a str>) -> String {
    let mut histogram: HashMap<&str, usize> = HashMap::new();
    for r in reasons {
        *histogram.entry(r).or_default() += 1;
    }
    let mut lines: Vec<String> = histogram
        .into_iter()
        .map(|(r, n)| format!("{n} {r}"))
        .collect();
    lines.sort();
    format!(
        "0/{num_all_nodes} nodes are available: {}.",
        lines.join(", ")
    )
}

/// The full message: the filter message, then the preemption message as upstream appends it.
pub fn with_post_filter(message: &str, post_filter: Option<&str>) -> String {
    match post_filter {
        Some(p) if !p.is_empty() => format!("{message} {p}."),
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Plugin;

    fn fail(plugin: Plugin, reasons: &[&'static str]) -> Failure {
        Failure {
            plugin,
            code: Code::Unschedulable,
            reasons: reasons.iter().map(|r| (*r).into()).collect(),
        }
    }

    #[test]
    fn reasons_are_counted_and_sorted_as_strings() {
        let d = Diagnosis {
            num_all_nodes: 3,
            failures: vec![
                (
                    "a".into(),
                    fail(Plugin::NodeResourcesFit, &["Insufficient memory"]),
                ),
                (
                    "b".into(),
                    fail(Plugin::NodeResourcesFit, &["Insufficient memory"]),
                ),
                (
                    "c".into(),
                    fail(
                        Plugin::TaintToleration,
                        &["node(s) had untolerated taint {node.kubernetes.io/not-ready: }"],
                    ),
                ),
            ],
            pre_filter: None,
        };
        assert_eq!(
            d.message(),
            "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 Insufficient memory."
        );
        assert_eq!(
            d.plugins(),
            Plugin::NodeResourcesFit.bit() | Plugin::TaintToleration.bit()
        );
    }

    #[test]
    fn one_node_may_give_several_reasons() {
        let d = Diagnosis {
            num_all_nodes: 1,
            failures: vec![(
                "a".into(),
                fail(
                    Plugin::NodeResourcesFit,
                    &["Insufficient cpu", "Insufficient memory"],
                ),
            )],
            pre_filter: None,
        };
        assert_eq!(
            d.message(),
            "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory."
        );
    }

    #[test]
    fn preemption_message_is_appended_like_upstream() {
        let m = with_post_filter(
            "0/1 nodes are available: 1 Insufficient cpu.",
            Some("preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."),
        );
        assert_eq!(
            m,
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.."
        );
        assert_eq!(Diagnosis::default().message(), NO_NODES);
    }
}
