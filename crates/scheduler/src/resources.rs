//! Resource quantities and the requests a pod makes, computed as upstream's resource helpers do.

use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;

/// CPU assumed for scoring when a container requests none (millicores).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory assumed for scoring when a container requests none (bytes).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Amounts of cpu (millicores), memory and ephemeral storage (bytes), pods and scalar resources.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// CPU in millicores.
    pub milli_cpu: i64,
    /// Memory in bytes.
    pub memory: i64,
    /// Ephemeral storage in bytes.
    pub ephemeral_storage: i64,
    /// Pod count (only meaningful for allocatable).
    pub pods: i64,
    /// Extended, hugepages and other scalar resources by name.
    pub scalar: Vec<(String, i64)>,
}

impl Resources {
    /// Resources from an API resource list (requests, limits, allocatable, overhead).
    pub fn from_list(list: &BTreeMap<String, Quantity>) -> Self {
        let mut r = Resources::default();
        for (name, q) in list {
            r.set(name, q);
        }
        r
    }

    fn set(&mut self, name: &str, q: &Quantity) {
        match name {
            "cpu" => self.milli_cpu = milli_value(q),
            "memory" => self.memory = value(q),
            "ephemeral-storage" => self.ephemeral_storage = value(q),
            "pods" => self.pods = value(q),
            n if is_scalar(n) => self.set_scalar(n, value(q)),
            _ => {}
        }
    }

    fn set_scalar(&mut self, name: &str, v: i64) {
        match self.scalar.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = v,
            None => self.scalar.push((name.to_string(), v)),
        }
    }

    /// The amount of scalar resource `name` (0 if absent).
    pub fn scalar(&self, name: &str) -> i64 {
        self.scalar
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, v)| *v)
    }

    /// Adds `other` to `self`.
    pub fn add(&mut self, other: &Resources) {
        self.milli_cpu += other.milli_cpu;
        self.memory += other.memory;
        self.ephemeral_storage += other.ephemeral_storage;
        self.pods += other.pods;
        for (n, v) in &other.scalar {
            let cur = self.scalar(n);
            self.set_scalar(n, cur + v);
        }
    }

    /// Subtracts `other` from `self`.
    pub fn sub(&mut self, other: &Resources) {
        self.milli_cpu -= other.milli_cpu;
        self.memory -= other.memory;
        self.ephemeral_storage -= other.ephemeral_storage;
        self.pods -= other.pods;
        for (n, v) in &other.scalar {
            let cur = self.scalar(n);
            self.set_scalar(n, cur - v);
        }
    }

    /// Raises every amount of `self` to at least that of `other`.
    pub fn max_with(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        self.pods = self.pods.max(other.pods);
        for (n, v) in &other.scalar {
            let cur = self.scalar(n);
            self.set_scalar(n, cur.max(*v));
        }
    }

    /// Whether nothing at all is requested.
    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.iter().all(|(_, v)| *v == 0)
    }
}

/// Whether a resource name is tracked as a scalar (extended, hugepages, attachable volumes).
pub fn is_scalar(name: &str) -> bool {
    name.starts_with("hugepages-")
        || name.starts_with("attachable-volumes-")
        || (name.contains('/')
            && !name.starts_with("kubernetes.io/")
            && !name.starts_with("requests."))
}

pub use skiff_client::quantity::parse_quantity;

/// A quantity in thousandths, rounded up (upstream `MilliValue`); 0 if unparsable.
pub fn milli_value(q: &Quantity) -> i64 {
    parse_quantity(&q.0).map_or(0, |v| (v * 1000.0 - 1e-6).ceil() as i64)
}

/// A quantity as an integer, rounded up (upstream `Value`); 0 if unparsable.
pub fn value(q: &Quantity) -> i64 {
    parse_quantity(&q.0).map_or(0, |v| (v - 1e-9).ceil() as i64)
}

/// What a pod asks for: exact requests, and cpu/memory with defaults for missing requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodRequests {
    /// Requests as the fit filter compares them with allocatable.
    pub requests: Resources,
    /// CPU for scoring, 100m for each container that requests none.
    pub non_zero_cpu: i64,
    /// Memory for scoring, 200Mi for each container that requests none.
    pub non_zero_memory: i64,
}

fn container_requests(c: &Container, non_zero: bool) -> Resources {
    let res = c.resources.as_ref();
    let requests = res.and_then(|r| r.requests.as_ref());
    let limits = res.and_then(|r| r.limits.as_ref());
    let mut r = requests.map(Resources::from_list).unwrap_or_default();
    // Requests default to limits (the API server's defaulting).
    if let Some(limits) = limits {
        for (name, q) in limits {
            if requests.is_none_or(|req| !req.contains_key(name)) {
                r.set(name, q);
            }
        }
    }
    if non_zero {
        let has = |n: &str| {
            requests.is_some_and(|m| m.contains_key(n)) || limits.is_some_and(|m| m.contains_key(n))
        };
        if !has("cpu") {
            r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
        }
        if !has("memory") {
            r.memory = DEFAULT_MEMORY_REQUEST;
        }
    }
    r
}

fn sum_requests(pod: &Pod, non_zero: bool) -> Resources {
    let Some(spec) = pod.spec.as_ref() else {
        return Resources::default();
    };
    let mut reqs = Resources::default();
    for c in &spec.containers {
        reqs.add(&container_requests(c, non_zero));
    }
    let mut restartable = Resources::default();
    let mut init_max = Resources::default();
    for c in spec.init_containers.iter().flatten() {
        let r = container_requests(c, non_zero);
        if c.restart_policy.as_deref() == Some("Always") {
            reqs.add(&r);
            restartable.add(&r);
            init_max.max_with(&restartable);
        } else {
            let mut tmp = r;
            tmp.add(&restartable);
            init_max.max_with(&tmp);
        }
    }
    reqs.max_with(&init_max);
    if let Some(overhead) = &spec.overhead {
        reqs.add(&Resources::from_list(overhead));
    }
    reqs.pods = 0;
    reqs
}

/// The requests of a pod: containers summed, init containers by the max rule, plus overhead.
pub fn pod_requests(pod: &Pod) -> PodRequests {
    let requests = sum_requests(pod, false);
    let non_zero = sum_requests(pod, true);
    PodRequests {
        requests,
        non_zero_cpu: non_zero.milli_cpu,
        non_zero_memory: non_zero.memory,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{container, pod_with};

    #[test]
    fn quantities_parse_like_the_api() {
        assert_eq!(milli_value(&Quantity("100m".into())), 100);
        assert_eq!(milli_value(&Quantity("1.5".into())), 1500);
        assert_eq!(milli_value(&Quantity("2".into())), 2000);
        assert_eq!(value(&Quantity("1Gi".into())), 1 << 30);
        assert_eq!(value(&Quantity("128974848".into())), 128_974_848);
        assert_eq!(value(&Quantity("129e6".into())), 129_000_000);
        assert_eq!(value(&Quantity("1k".into())), 1000);
        assert_eq!(value(&Quantity("junk".into())), 0);
    }

    #[test]
    fn init_containers_use_the_max_rule_and_overhead_adds() {
        let mut pod = pod_with(vec![container("1", "1Gi"), container("500m", "1Gi")]);
        let spec = pod.spec.as_mut().expect("spec");
        spec.init_containers = Some(vec![container("2", "1Gi")]);
        spec.overhead = Some([("cpu".to_string(), Quantity("100m".into()))].into());
        let r = pod_requests(&pod);
        assert_eq!(
            r.requests.milli_cpu, 2100,
            "init 2 cpu beats 1.5 summed, plus overhead"
        );
        assert_eq!(r.requests.memory, 2 << 30);
    }

    #[test]
    fn sidecars_add_to_containers_and_to_later_init_containers() {
        let mut pod = pod_with(vec![container("1", "0")]);
        let mut sidecar = container("500m", "0");
        sidecar.restart_policy = Some("Always".into());
        let spec = pod.spec.as_mut().expect("spec");
        spec.init_containers = Some(vec![sidecar, container("1200m", "0")]);
        let r = pod_requests(&pod);
        assert_eq!(
            r.requests.milli_cpu, 1700,
            "1200m init + 500m sidecar beats 1.5"
        );
    }

    #[test]
    fn missing_requests_count_as_defaults_only_for_scoring() {
        let pod = pod_with(vec![k8s_openapi::api::core::v1::Container::default()]);
        let r = pod_requests(&pod);
        assert!(r.requests.is_zero());
        assert_eq!(r.non_zero_cpu, DEFAULT_MILLI_CPU_REQUEST);
        assert_eq!(r.non_zero_memory, DEFAULT_MEMORY_REQUEST);
    }

    #[test]
    fn limits_stand_in_for_missing_requests() {
        let c = k8s_openapi::api::core::v1::Container {
            resources: Some(k8s_openapi::api::core::v1::ResourceRequirements {
                limits: Some([("cpu".to_string(), Quantity("250m".into()))].into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let r = pod_requests(&pod_with(vec![c]));
        assert_eq!(r.requests.milli_cpu, 250);
        assert_eq!(r.non_zero_cpu, 250);
    }
}
