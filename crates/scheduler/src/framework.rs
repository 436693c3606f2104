//! Plugin names, filter outcomes and score normalisation shared by all plugins.

use std::borrow::Cow;

/// The highest score a plugin gives a node.
pub const MAX_NODE_SCORE: i64 = 100;

/// The filter plugins, in the order upstream's default profile runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Plugin {
    /// `spec.unschedulable` (cordon).
    NodeUnschedulable,
    /// `spec.nodeName`.
    NodeName,
    /// NoSchedule and NoExecute taints.
    TaintToleration,
    /// Node selector and required node affinity.
    NodeAffinity,
    /// Host ports.
    NodePorts,
    /// Requests versus allocatable.
    NodeResourcesFit,
    /// PersistentVolumeClaims: bound volumes' node affinity, delayed binding.
    VolumeBinding,
    /// Topology spread constraints.
    PodTopologySpread,
    /// Pod affinity and anti-affinity.
    InterPodAffinity,
}

impl Plugin {
    /// The plugin as one bit of a set.
    pub const fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// A set of plugins as bits.
pub type PluginSet = u16;

/// How a node failed a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Might pass if pods were removed (preemption can help).
    Unschedulable,
    /// Cannot pass by removing pods.
    UnschedulableAndUnresolvable,
}

/// Why a node was filtered out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The filter that rejected the node.
    pub plugin: Plugin,
    /// Whether preemption could help.
    pub code: Code,
    /// The reasons shown to users, e.g. `Insufficient cpu`.
    pub reasons: Vec<Cow<'static, str>>,
}

impl Failure {
    /// A failure with one reason.
    pub fn new(plugin: Plugin, code: Code, reason: impl Into<Cow<'static, str>>) -> Self {
        Failure {
            plugin,
            code,
            reasons: vec![reason.into()],
        }
    }
}

/// The outcome of a filter.
pub type FilterResult = Result<(), Failure>;

/// Scales scores to 0..=100 by the maximum; `reverse` makes low raw scores good.
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores.iter_mut() {
        let v = MAX_NODE_SCORE * *s / max;
        *s = if reverse { MAX_NODE_SCORE - v } else { v };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_scales_by_the_maximum() {
        let mut s = [0, 5, 10];
        default_normalize(&mut s, false);
        assert_eq!(s, [0, 50, 100]);
        let mut s = [0, 5, 10];
        default_normalize(&mut s, true);
        assert_eq!(s, [100, 50, 0]);
        let mut s = [0, 0];
        default_normalize(&mut s, true);
        assert_eq!(s, [100, 100]);
    }

    #[test]
    fn plugin_bits_are_distinct() {
        assert_ne!(Plugin::NodeResourcesFit.bit(), Plugin::NodePorts.bit());
        assert_eq!(Plugin::NodeUnschedulable.bit(), 1);
    }
}
