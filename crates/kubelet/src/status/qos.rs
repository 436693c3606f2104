//! The QoS class of a pod: Guaranteed, Burstable or BestEffort (upstream's rules).

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;

pub use skiff_client::quantity::parse_quantity;

fn value(m: Option<&BTreeMap<String, Quantity>>, name: &str) -> Option<f64> {
    m.and_then(|m| m.get(name))
        .and_then(|q| parse_quantity(&q.0))
}

/// The QoS class of a pod spec.
pub fn qos_class(spec: &PodSpec) -> &'static str {
    let mut any = false;
    let mut guaranteed = true;
    let all = spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers);
    for c in all {
        let r = c.resources.clone().unwrap_or_default();
        for name in ["cpu", "memory"] {
            let req = value(r.requests.as_ref(), name);
            let lim = value(r.limits.as_ref(), name);
            if req.is_some_and(|v| v != 0.0) || lim.is_some_and(|v| v != 0.0) {
                any = true;
            }
            match (req, lim) {
                (_, None) => guaranteed = false,
                (Some(q), Some(l)) if q != l => guaranteed = false,
                _ => {}
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, ResourceRequirements};

    fn pod(requests: &[(&str, &str)], limits: &[(&str, &str)]) -> PodSpec {
        let map = |v: &[(&str, &str)]| {
            (!v.is_empty()).then(|| {
                v.iter()
                    .map(|(k, q)| (k.to_string(), Quantity(q.to_string())))
                    .collect()
            })
        };
        PodSpec {
            containers: vec![Container {
                name: "c".into(),
                resources: Some(ResourceRequirements {
                    requests: map(requests),
                    limits: map(limits),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn classes_follow_requests_and_limits() {
        assert_eq!(qos_class(&pod(&[], &[])), "BestEffort");
        assert_eq!(qos_class(&pod(&[("cpu", "10m")], &[])), "Burstable");
        let lim = [("cpu", "100m"), ("memory", "64Mi")];
        assert_eq!(qos_class(&pod(&[], &lim)), "Guaranteed");
        assert_eq!(
            qos_class(&pod(&[("cpu", "0.1"), ("memory", "64Mi")], &lim)),
            "Guaranteed"
        );
        assert_eq!(qos_class(&pod(&[("cpu", "50m")], &lim)), "Burstable");
    }

    #[test]
    fn quantities_parse_with_suffixes() {
        assert_eq!(parse_quantity("100m"), Some(0.1));
        assert_eq!(parse_quantity("32Gi"), Some(32.0 * 1024f64.powi(3)));
        assert_eq!(parse_quantity("1e3"), Some(1000.0));
        assert_eq!(parse_quantity("lots"), None);
    }
}
