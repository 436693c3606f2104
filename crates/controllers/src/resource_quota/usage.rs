//! What pods use against a quota: counts and compute requests/limits of non-terminal pods,
//! filtered by the quota's scopes.

use super::amount::{self, Nanos};
use k8s_openapi::api::core::v1::{Container, Pod, ResourceQuota};
use std::collections::BTreeMap;

const ONE: Nanos = 1_000_000_000;

fn container_amounts(c: &Container) -> BTreeMap<String, Nanos> {
    let mut out = BTreeMap::new();
    let Some(r) = &c.resources else {
        return out;
    };
    for (map, prefix) in [(&r.requests, "requests."), (&r.limits, "limits.")] {
        for (name, q) in map.iter().flatten() {
            let Some(v) = amount::parse(&q.0) else {
                continue;
            };
            out.insert(format!("{prefix}{name}"), v);
            if prefix == "requests."
                && matches!(name.as_str(), "cpu" | "memory" | "ephemeral-storage")
            {
                out.insert(name.clone(), v);
            }
        }
    }
    out
}

/// A pod's use: its count and the larger of its containers' sum and any init container.
pub fn pod_usage(pod: &Pod) -> BTreeMap<String, Nanos> {
    let mut sum: BTreeMap<String, Nanos> = BTreeMap::new();
    let Some(spec) = &pod.spec else {
        return sum;
    };
    for c in &spec.containers {
        for (k, v) in container_amounts(c) {
            *sum.entry(k).or_default() += v;
        }
    }
    for c in spec.init_containers.iter().flatten() {
        for (k, v) in container_amounts(c) {
            let e = sum.entry(k).or_default();
            *e = (*e).max(v);
        }
    }
    sum.insert("pods".into(), ONE);
    sum.insert("count/pods".into(), ONE);
    sum
}

/// Whether a pod still counts: not Succeeded or Failed, and not past its deletion grace.
pub fn counts(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    !matches!(phase, Some("Succeeded" | "Failed"))
}

fn best_effort(pod: &Pod) -> bool {
    let Some(spec) = &pod.spec else {
        return true;
    };
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .all(|c| {
            c.resources.as_ref().is_none_or(|r| {
                r.requests.as_ref().is_none_or(|m| m.is_empty())
                    && r.limits.as_ref().is_none_or(|m| m.is_empty())
            })
        })
}

fn scope_matches(scope: &str, op: &str, values: &[String], pod: &Pod) -> bool {
    let spec = pod.spec.as_ref();
    let terminating = spec
        .and_then(|s| s.active_deadline_seconds)
        .is_some_and(|s| s >= 0);
    let class = spec
        .and_then(|s| s.priority_class_name.as_deref())
        .unwrap_or("");
    let on = match scope {
        "Terminating" => terminating,
        "NotTerminating" => !terminating,
        "BestEffort" => best_effort(pod),
        "NotBestEffort" => !best_effort(pod),
        "PriorityClass" => {
            return match op {
                "In" => values.iter().any(|v| v == class),
                "NotIn" => !values.iter().any(|v| v == class),
                "Exists" => !class.is_empty(),
                "DoesNotExist" => class.is_empty(),
                _ => false,
            }
        }
        _ => false,
    };
    if op == "DoesNotExist" {
        !on
    } else {
        on
    }
}

/// Whether the quota has scopes (it then counts pods only).
pub fn scoped(quota: &ResourceQuota) -> bool {
    let spec = quota.spec.as_ref();
    spec.and_then(|s| s.scopes.as_ref())
        .is_some_and(|s| !s.is_empty())
        || spec.and_then(|s| s.scope_selector.as_ref()).is_some()
}

/// Whether the quota's scopes select `pod`.
pub fn selects(quota: &ResourceQuota, pod: &Pod) -> bool {
    let Some(spec) = &quota.spec else {
        return true;
    };
    spec.scopes
        .iter()
        .flatten()
        .all(|s| scope_matches(s, "Exists", &[], pod))
        && spec
            .scope_selector
            .iter()
            .flat_map(|s| s.match_expressions.iter().flatten())
            .all(|e| {
                scope_matches(
                    &e.scope_name,
                    &e.operator,
                    e.values.as_deref().unwrap_or_default(),
                    pod,
                )
            })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSpec, ResourceQuotaSpec, ResourceRequirements};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    fn pod(cpu: Option<&str>) -> Pod {
        Pod {
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    resources: cpu.map(|c| ResourceRequirements {
                        requests: Some([("cpu".to_string(), Quantity(c.into()))].into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn pod_usage_counts_requests_under_both_names() {
        let u = pod_usage(&pod(Some("250m")));
        assert_eq!(amount::format(u["requests.cpu"], false), "250m");
        assert_eq!(u["cpu"], u["requests.cpu"]);
        assert_eq!(u["pods"], ONE);
    }

    #[test]
    fn best_effort_scope_selects_pods_without_resources() {
        let q = ResourceQuota {
            spec: Some(ResourceQuotaSpec {
                scopes: Some(vec!["BestEffort".into()]),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(scoped(&q));
        assert!(selects(&q, &pod(None)));
        assert!(!selects(&q, &pod(Some("1"))));
    }
}
