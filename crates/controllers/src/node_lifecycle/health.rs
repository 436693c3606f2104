//! Node health: when a node last showed life (Lease renewal or status heartbeat, timed on the
//! controller's own clock), the conditions of a silent node, and the taints its Ready
//! condition calls for.

use k8s_openapi::api::core::v1::{NodeCondition, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use std::collections::HashMap;
use tokio::time::{Duration, Instant};

/// How long a node may be silent before its conditions become Unknown.
pub const GRACE: Duration = Duration::from_secs(40);
/// The taint of a node whose Ready condition is False.
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
/// The taint of a node whose Ready condition is Unknown.
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// The conditions a silent node's kubelet no longer vouches for.
const CONDITIONS: [&str; 4] = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

#[derive(Clone, Copy)]
struct Probe {
    at: Instant,
    heartbeat: Option<Timestamp>,
    renew: Option<Timestamp>,
}

/// When each node last showed life.
#[derive(Default)]
pub struct Tracker {
    probes: HashMap<String, Probe>,
}

impl Tracker {
    /// Records what the node shows now; returns how long it has been silent.
    pub fn observe(
        &mut self,
        node: &str,
        heartbeat: Option<Timestamp>,
        renew: Option<Timestamp>,
        now: Instant,
    ) -> Duration {
        let p = self.probes.entry(node.to_string()).or_insert(Probe {
            at: now,
            heartbeat,
            renew,
        });
        if p.heartbeat != heartbeat || p.renew != renew {
            *p = Probe {
                at: now,
                heartbeat,
                renew,
            };
        }
        now.saturating_duration_since(p.at)
    }

    /// Forgets nodes not in `alive`.
    pub fn retain(&mut self, alive: &std::collections::HashSet<String>) {
        self.probes.retain(|n, _| alive.contains(n));
    }
}

/// The conditions of a silent node: Ready and the pressure conditions become Unknown.
/// `None` when they already are.
pub fn mark_unknown(conditions: &[NodeCondition], now: Timestamp) -> Option<Vec<NodeCondition>> {
    let mut out = conditions.to_vec();
    let mut changed = false;
    for type_ in CONDITIONS {
        match out.iter_mut().find(|c| c.type_ == type_) {
            Some(c) if c.status == "Unknown" => {}
            Some(c) => {
                c.status = "Unknown".into();
                c.reason = Some("NodeStatusUnknown".into());
                c.message = Some("Kubelet stopped posting node status.".into());
                c.last_transition_time = Some(Time(now));
                changed = true;
            }
            None => {
                out.push(NodeCondition {
                    type_: type_.into(),
                    status: "Unknown".into(),
                    reason: Some("NodeStatusNeverUpdated".into()),
                    message: Some("Kubelet never posted node status.".into()),
                    last_transition_time: Some(Time(now)),
                    last_heartbeat_time: None,
                });
                changed = true;
            }
        }
    }
    changed.then_some(out)
}

fn ours(t: &Taint) -> bool {
    (t.key == NOT_READY || t.key == UNREACHABLE)
        && (t.effect == "NoExecute" || t.effect == "NoSchedule")
}

/// The node's taints for its Ready status (`None`: no Ready condition yet); `None` if unchanged.
pub fn taints_for(existing: &[Taint], ready: Option<&str>, now: Timestamp) -> Option<Vec<Taint>> {
    let key = match ready? {
        "True" => None,
        "False" => Some(NOT_READY),
        _ => Some(UNREACHABLE),
    };
    let mut out: Vec<Taint> = existing.iter().filter(|t| !ours(t)).cloned().collect();
    if let Some(key) = key {
        for effect in ["NoSchedule", "NoExecute"] {
            let kept = existing.iter().find(|t| t.key == key && t.effect == effect);
            out.push(kept.cloned().unwrap_or_else(|| Taint {
                key: key.into(),
                effect: effect.into(),
                time_added: (effect == "NoExecute").then_some(Time(now)),
                value: None,
            }));
        }
    }
    let same = out.len() == existing.len() && out.iter().all(|t| existing.contains(t));
    (!same).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn silence_is_timed_from_the_last_change_seen() {
        let mut t = Tracker::default();
        let renew = Some(Timestamp::UNIX_EPOCH);
        assert_eq!(t.observe("n", None, renew, Instant::now()), Duration::ZERO);
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(
            t.observe("n", None, renew, Instant::now()),
            Duration::from_secs(30)
        );
        let later = Some(Timestamp::from_second(10).unwrap());
        assert_eq!(t.observe("n", None, later, Instant::now()), Duration::ZERO);
        tokio::time::advance(GRACE).await;
        assert!(t.observe("n", None, later, Instant::now()) >= GRACE);
    }

    #[test]
    fn a_silent_node_gets_unknown_conditions_once() {
        let ready = NodeCondition {
            type_: "Ready".into(),
            status: "True".into(),
            ..Default::default()
        };
        let now = Timestamp::UNIX_EPOCH;
        let c = mark_unknown(&[ready], now).unwrap();
        let r = c.iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(r.status, "Unknown");
        assert_eq!(r.reason.as_deref(), Some("NodeStatusUnknown"));
        assert_eq!(
            r.message.as_deref(),
            Some("Kubelet stopped posting node status.")
        );
        assert_eq!(c.len(), 4);
        assert!(mark_unknown(&c, now).is_none());
    }

    #[test]
    fn taints_follow_the_ready_condition() {
        let now = Timestamp::UNIX_EPOCH;
        let t = taints_for(&[], Some("Unknown"), now).unwrap();
        assert!(t
            .iter()
            .any(|t| t.key == UNREACHABLE && t.effect == "NoExecute" && t.time_added.is_some()));
        assert!(t
            .iter()
            .any(|t| t.key == UNREACHABLE && t.effect == "NoSchedule"));
        assert!(taints_for(&t, Some("Unknown"), now).is_none());
        let f = taints_for(&t, Some("False"), now).unwrap();
        assert!(f.iter().all(|t| t.key == NOT_READY));
        assert!(taints_for(&f, Some("True"), now).unwrap().is_empty());
        assert!(taints_for(&[], None, now).is_none());
    }
}
