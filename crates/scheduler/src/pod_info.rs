//! What the scheduler keeps about a pod: requests, host ports, priority and compiled affinity.

use crate::resources::{pod_requests, PodRequests};
use crate::selector::{LabelSelector, Labels, NO_LABELS};
use k8s_openapi::api::core::v1::{Pod, PodAffinityTerm};
use std::sync::Arc;

/// A host port a pod uses: IP (`0.0.0.0` for any), protocol and port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPort {
    /// The host IP, `0.0.0.0` when unset.
    pub ip: String,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// The port number.
    pub port: i32,
}

impl HostPort {
    /// Whether two host ports cannot both be used on one node.
    pub fn conflicts(&self, other: &HostPort) -> bool {
        self.port == other.port
            && self.protocol == other.protocol
            && (self.ip == other.ip || self.ip == "0.0.0.0" || other.ip == "0.0.0.0")
    }
}

/// The host ports of all containers of a pod.
pub fn host_ports(pod: &Pod) -> Vec<HostPort> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    containers
        .flat_map(|c| c.ports.iter().flatten())
        .filter(|p| p.host_port.unwrap_or(0) > 0)
        .map(|p| HostPort {
            ip: p
                .host_ip
                .clone()
                .filter(|i| !i.is_empty())
                .unwrap_or_else(|| "0.0.0.0".into()),
            protocol: p
                .protocol
                .clone()
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "TCP".into()),
            port: p.host_port.unwrap_or(0),
        })
        .collect()
}

/// A pod (anti-)affinity term: which pods, in which namespaces, over which topology key.
#[derive(Clone, Debug)]
pub struct AffinityTerm {
    /// Selects the pods.
    pub selector: LabelSelector,
    /// Namespaces listed (or the owning pod's own, when neither list nor selector is set).
    pub namespaces: Vec<String>,
    /// Selects namespaces by their labels, if set.
    pub namespace_selector: Option<LabelSelector>,
    /// The node label that defines the topology domain.
    pub topology_key: String,
}

impl AffinityTerm {
    /// Compiles a term of a pod in namespace `ns` with labels `labels`.
    pub fn new(t: &PodAffinityTerm, ns: &str, labels: &Labels) -> Self {
        let selector = LabelSelector::from_api(t.label_selector.as_ref())
            .with_label_keys(t.match_label_keys.as_deref().unwrap_or_default(), labels);
        let namespace_selector = t
            .namespace_selector
            .as_ref()
            .map(|s| LabelSelector::from_api(Some(s)));
        let mut namespaces = t.namespaces.clone().unwrap_or_default();
        if namespaces.is_empty() && namespace_selector.is_none() {
            namespaces.push(ns.to_string());
        }
        AffinityTerm {
            selector,
            namespaces,
            namespace_selector,
            topology_key: t.topology_key.clone(),
        }
    }

    /// Whether the term selects a pod in `ns` (with namespace labels `ns_labels`) with `labels`.
    pub fn matches(&self, ns: &str, labels: &Labels, ns_labels: &Labels) -> bool {
        let ns_ok = self.namespaces.iter().any(|n| n == ns)
            || self
                .namespace_selector
                .as_ref()
                .is_some_and(|s| s.matches(ns_labels));
        ns_ok && self.selector.matches(labels)
    }
}

/// The compiled pod affinity and anti-affinity of one pod.
#[derive(Clone, Debug, Default)]
pub struct PodAffinityTerms {
    /// Required affinity terms.
    pub required_affinity: Vec<AffinityTerm>,
    /// Required anti-affinity terms.
    pub required_anti: Vec<AffinityTerm>,
    /// Preferred affinity terms with weights.
    pub preferred_affinity: Vec<(i64, AffinityTerm)>,
    /// Preferred anti-affinity terms with weights.
    pub preferred_anti: Vec<(i64, AffinityTerm)>,
}

impl PodAffinityTerms {
    /// The affinity of `pod`, or `None` when it has no pod (anti-)affinity terms.
    pub fn of(pod: &Pod) -> Option<Self> {
        let affinity = pod.spec.as_ref()?.affinity.as_ref()?;
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let labels = pod.metadata.labels.as_ref().unwrap_or(&NO_LABELS);
        let compile = |terms: Option<&Vec<PodAffinityTerm>>| -> Vec<AffinityTerm> {
            terms
                .into_iter()
                .flatten()
                .map(|t| AffinityTerm::new(t, ns, labels))
                .collect()
        };
        let aff = affinity.pod_affinity.as_ref();
        let anti = affinity.pod_anti_affinity.as_ref();
        let weighted =
            |terms: Option<&Vec<k8s_openapi::api::core::v1::WeightedPodAffinityTerm>>| {
                terms
                    .into_iter()
                    .flatten()
                    .filter(|w| w.weight != 0)
                    .map(|w| {
                        (
                            i64::from(w.weight),
                            AffinityTerm::new(&w.pod_affinity_term, ns, labels),
                        )
                    })
                    .collect::<Vec<_>>()
            };
        let terms = PodAffinityTerms {
            required_affinity: compile(aff.and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })),
            required_anti: compile(anti.and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })),
            preferred_affinity: weighted(aff.and_then(|a| {
                a.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            })),
            preferred_anti: weighted(anti.and_then(|a| {
                a.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            })),
        };
        let empty = terms.required_affinity.is_empty()
            && terms.required_anti.is_empty()
            && terms.preferred_affinity.is_empty()
            && terms.preferred_anti.is_empty();
        (!empty).then_some(terms)
    }
}

/// A pod the cache holds on a node, with everything filters and scores read from it.
#[derive(Debug)]
pub struct CachedPod {
    /// The pod as last seen.
    pub pod: Arc<Pod>,
    /// Its uid.
    pub uid: String,
    /// Its requests.
    pub requests: PodRequests,
    /// Its host ports.
    pub ports: Vec<HostPort>,
    /// Its resolved priority.
    pub priority: i32,
    /// Its compiled pod affinity, if any.
    pub affinity: Option<PodAffinityTerms>,
}

impl CachedPod {
    /// Compiles a pod with its resolved priority.
    pub fn new(pod: Arc<Pod>, priority: i32) -> Self {
        CachedPod {
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            requests: pod_requests(&pod),
            ports: host_ports(&pod),
            affinity: PodAffinityTerms::of(&pod),
            priority,
            pod,
        }
    }

    /// The pod's namespace.
    pub fn namespace(&self) -> &str {
        self.pod.metadata.namespace.as_deref().unwrap_or_default()
    }

    /// The pod's name.
    pub fn name(&self) -> &str {
        self.pod.metadata.name.as_deref().unwrap_or_default()
    }

    /// The pod's labels.
    pub fn labels(&self) -> &Labels {
        self.pod.metadata.labels.as_ref().unwrap_or(&NO_LABELS)
    }

    /// Whether the pod is being deleted.
    pub fn terminating(&self) -> bool {
        self.pod.metadata.deletion_timestamp.is_some()
    }

    /// Whether the pod has required anti-affinity terms.
    pub fn has_required_anti_affinity(&self) -> bool {
        self.affinity
            .as_ref()
            .is_some_and(|a| !a.required_anti.is_empty())
    }

    /// When the pod started (or was created), in seconds, for preemption ordering.
    pub fn start_second(&self) -> i64 {
        let status = self.pod.status.as_ref().and_then(|s| s.start_time.as_ref());
        status
            .or(self.pod.metadata.creation_timestamp.as_ref())
            .map_or(0, |t| t.0.as_second())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(ip: &str, proto: &str, port: i32) -> HostPort {
        HostPort {
            ip: ip.into(),
            protocol: proto.into(),
            port,
        }
    }

    #[test]
    fn host_ports_conflict_on_same_port_protocol_and_overlapping_ip() {
        assert!(port("0.0.0.0", "TCP", 80).conflicts(&port("10.0.0.1", "TCP", 80)));
        assert!(port("10.0.0.1", "TCP", 80).conflicts(&port("10.0.0.1", "TCP", 80)));
        assert!(!port("10.0.0.1", "TCP", 80).conflicts(&port("10.0.0.2", "TCP", 80)));
        assert!(!port("0.0.0.0", "TCP", 80).conflicts(&port("0.0.0.0", "UDP", 80)));
        assert!(!port("0.0.0.0", "TCP", 80).conflicts(&port("0.0.0.0", "TCP", 81)));
    }

    #[test]
    fn affinity_term_defaults_to_the_pods_namespace() {
        let t = PodAffinityTerm {
            label_selector: Some(Default::default()),
            topology_key: "zone".into(),
            ..Default::default()
        };
        let term = AffinityTerm::new(&t, "ns1", &Labels::new());
        assert!(term.matches("ns1", &Labels::new(), &Labels::new()));
        assert!(!term.matches("ns2", &Labels::new(), &Labels::new()));
        let all = PodAffinityTerm {
            namespace_selector: Some(Default::default()),
            ..t
        };
        let term = AffinityTerm::new(&all, "ns1", &Labels::new());
        assert!(
            term.matches("ns2", &Labels::new(), &Labels::new()),
            "{{}} selects every namespace"
        );
    }
}
