//! Everything about the pod being scheduled, computed once per scheduling cycle.

use crate::cache::Cache;
use crate::plugins::inter_pod_affinity::{self, AffinityFilterState};
use crate::plugins::node_affinity::NodeAffinityState;
use crate::plugins::pod_topology_spread::{self, SpreadConstraint, SpreadFilterState};
use crate::plugins::volume_binding::VolumeState;
use crate::pod_info::{host_ports, HostPort, PodAffinityTerms};
use crate::resources::{pod_requests, PodRequests};
use crate::selector::{LabelSelector, Labels, NO_LABELS};
use k8s_openapi::api::core::v1::{Pod, Toleration};

/// The pod being scheduled and what the pre-filters computed for it.
pub struct CycleState<'a> {
    /// The pod.
    pub pod: &'a Pod,
    /// Its uid.
    pub uid: &'a str,
    /// Its namespace.
    pub namespace: &'a str,
    /// Its labels.
    pub labels: &'a Labels,
    /// Its resolved priority.
    pub priority: i32,
    /// Its requests.
    pub requests: PodRequests,
    /// Its host ports.
    pub ports: Vec<HostPort>,
    /// Its tolerations.
    pub tolerations: &'a [Toleration],
    /// `spec.nodeName`, if set.
    pub node_name: Option<&'a str>,
    /// Node selector and node affinity.
    pub node_affinity: NodeAffinityState<'a>,
    /// Its pod affinity terms.
    pub affinity: Option<PodAffinityTerms>,
    /// Pre-computed counts for the InterPodAffinity filter (`None`: nothing to check).
    pub affinity_filter: Option<AffinityFilterState>,
    /// Pre-computed counts for DoNotSchedule spread constraints (`None`: none).
    pub spread_filter: Option<SpreadFilterState>,
    /// ScheduleAnyway constraints (explicit, or the system defaults).
    pub spread_score: Vec<SpreadConstraint>,
    /// Whether `spread_score` holds the system defaults.
    pub spread_defaulted: bool,
    /// The pod's PersistentVolumeClaims (filled in by the VolumeBinding pre-filter).
    pub volumes: VolumeState,
}

impl<'a> CycleState<'a> {
    /// Pre-computes the cycle for `pod`; `default_selector` selects its siblings (services,
    /// replica sets, ...), for default spreading.
    pub fn new(
        pod: &'a Pod,
        priority: i32,
        default_selector: Option<LabelSelector>,
        cache: &Cache,
    ) -> Self {
        let spec = pod.spec.as_ref();
        let labels = pod.metadata.labels.as_ref().unwrap_or(&NO_LABELS);
        let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
        let affinity = PodAffinityTerms::of(pod);
        let mut state = CycleState {
            pod,
            uid: pod.metadata.uid.as_deref().unwrap_or_default(),
            namespace,
            labels,
            priority,
            requests: pod_requests(pod),
            ports: host_ports(pod),
            tolerations: spec
                .and_then(|s| s.tolerations.as_deref())
                .unwrap_or_default(),
            node_name: spec
                .and_then(|s| s.node_name.as_deref())
                .filter(|n| !n.is_empty()),
            node_affinity: NodeAffinityState::of(pod),
            affinity,
            affinity_filter: None,
            spread_filter: None,
            spread_score: Vec::new(),
            spread_defaulted: false,
            volumes: VolumeState::default(),
        };
        state.affinity_filter = inter_pod_affinity::pre_filter(&state, cache);
        let (filter, score, defaulted) = pod_topology_spread::constraints(pod, default_selector);
        state.spread_filter = pod_topology_spread::pre_filter(&state, filter, cache);
        state.spread_score = score;
        state.spread_defaulted = defaulted;
        state
    }
}
