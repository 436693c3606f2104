//! What a Service's Endpoints and EndpointSlices should hold, from its selected pods
//! (upstream's rules: which pods count, ready versus not ready, named target ports resolved
//! per pod, hostnames for a matching subdomain, subsets grouped by port set).

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, ObjectReference, Pod, Service, ServicePort,
};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort as SlicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// Most endpoints one EndpointSlice holds (upstream's default `--max-endpoints-per-slice`).
pub const MAX_PER_SLICE: usize = 100;

/// One pod as an endpoint of the Service.
#[derive(Clone, Debug, PartialEq)]
pub struct PodEndpoint {
    /// The pod's IP.
    pub ip: String,
    /// The pod's node.
    pub node: Option<String>,
    /// The pod.
    pub target: ObjectReference,
    /// `spec.hostname` when the pod's subdomain is the Service.
    pub hostname: Option<String>,
    /// Ready (or the Service publishes not-ready addresses) and not terminating.
    pub ready: bool,
    /// Ready, whether or not terminating.
    pub serving: bool,
    /// Being deleted.
    pub terminating: bool,
    /// The Service's ports as they resolve on this pod: (name, port, protocol, appProtocol).
    pub ports: Vec<(String, i32, String, Option<String>)>,
}

fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Whether a pod belongs in the Service's endpoints at all: it has an IP and has not
/// finished for good (upstream's `ShouldPodBeInEndpoints`); terminating pods only when asked.
pub fn counts(pod: &Pod, include_terminating: bool) -> bool {
    let status = pod.status.as_ref();
    if status
        .and_then(|s| s.pod_ip.as_deref())
        .is_none_or(str::is_empty)
    {
        return false;
    }
    if !include_terminating && pod.metadata.deletion_timestamp.is_some() {
        return false;
    }
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("");
    let policy = pod
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always");
    match policy {
        "Never" => !matches!(phase, "Failed" | "Succeeded"),
        "OnFailure" => phase != "Succeeded",
        _ => true,
    }
}

/// The container port a Service port targets on this pod (a named port looked up among the
/// pod's container ports with the same protocol); `None` when the pod has no such port.
pub fn target_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    let protocol = port.protocol.as_deref().unwrap_or("TCP");
    match &port.target_port {
        None => Some(port.port),
        Some(IntOrString::Int(p)) => Some(*p),
        Some(IntOrString::String(name)) => {
            if let Ok(n) = name.parse::<i32>() {
                return Some(n);
            }
            pod.spec
                .iter()
                .flat_map(|s| s.containers.iter())
                .flat_map(|c| c.ports.iter().flatten())
                .find(|p| {
                    p.name.as_deref() == Some(name.as_str())
                        && p.protocol.as_deref().unwrap_or("TCP") == protocol
                })
                .map(|p| p.container_port)
        }
    }
}

/// The pod as an endpoint of `svc`.
pub fn pod_endpoint(svc: &Service, pod: &Pod) -> PodEndpoint {
    let spec = svc.spec.as_ref();
    let publish = spec
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false);
    let terminating = pod.metadata.deletion_timestamp.is_some();
    let serving = publish || pod_ready(pod);
    let ps = pod.spec.as_ref();
    let hostname = ps
        .and_then(|s| s.hostname.clone())
        .filter(|h| !h.is_empty())
        .filter(|_| {
            ps.and_then(|s| s.subdomain.as_deref()) == svc.metadata.name.as_deref()
                && pod.metadata.namespace == svc.metadata.namespace
        });
    let ports = spec
        .and_then(|s| s.ports.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                p.name.clone().unwrap_or_default(),
                target_port(pod, p)?,
                p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                p.app_protocol.clone(),
            ))
        })
        .collect();
    PodEndpoint {
        ip: pod
            .status
            .as_ref()
            .and_then(|s| s.pod_ip.clone())
            .unwrap_or_default(),
        node: ps.and_then(|s| s.node_name.clone()),
        target: ObjectReference {
            kind: Some("Pod".into()),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        },
        hostname,
        ready: serving && !terminating,
        serving,
        terminating,
        ports,
    }
}

/// Whether the Service lists endpoints without ports (headless with no ports).
pub fn headless_without_ports(svc: &Service) -> bool {
    let spec = svc.spec.as_ref();
    spec.and_then(|s| s.cluster_ip.as_deref()) == Some("None")
        && spec
            .and_then(|s| s.ports.as_ref())
            .is_none_or(|p| p.is_empty())
}

type PortKey = Vec<(String, i32, String, Option<String>)>;

/// Endpoints grouped by their resolved port set (sorted), each group sorted by IP.
fn by_ports(svc: &Service, endpoints: &[PodEndpoint]) -> BTreeMap<PortKey, Vec<PodEndpoint>> {
    let portless = headless_without_ports(svc);
    let mut groups: BTreeMap<PortKey, Vec<PodEndpoint>> = BTreeMap::new();
    for e in endpoints {
        if e.ports.is_empty() && !portless {
            continue;
        }
        let mut key = e.ports.clone();
        key.sort();
        groups.entry(key).or_default().push(e.clone());
    }
    for list in groups.values_mut() {
        list.sort_by(|a, b| a.ip.cmp(&b.ip).then(a.target.uid.cmp(&b.target.uid)));
    }
    groups
}

/// The Endpoints subsets (terminating pods left out, as upstream's Endpoints controller does).
pub fn subsets(svc: &Service, endpoints: &[PodEndpoint]) -> Vec<EndpointSubset> {
    let live: Vec<PodEndpoint> = endpoints
        .iter()
        .filter(|e| !e.terminating)
        .cloned()
        .collect();
    by_ports(svc, &live)
        .into_iter()
        .map(|(ports, list)| {
            let address = |e: &PodEndpoint| EndpointAddress {
                ip: e.ip.clone(),
                hostname: e.hostname.clone(),
                node_name: e.node.clone(),
                target_ref: Some(e.target.clone()),
            };
            let ready: Vec<EndpointAddress> =
                list.iter().filter(|e| e.serving).map(address).collect();
            let not_ready: Vec<EndpointAddress> =
                list.iter().filter(|e| !e.serving).map(address).collect();
            EndpointSubset {
                addresses: (!ready.is_empty()).then_some(ready),
                not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
                ports: (!ports.is_empty()).then(|| {
                    ports
                        .into_iter()
                        .map(|(name, port, protocol, app)| EndpointPort {
                            name: (!name.is_empty()).then_some(name),
                            port,
                            protocol: Some(protocol),
                            app_protocol: app,
                        })
                        .collect()
                }),
            }
        })
        .collect()
}

/// One EndpointSlice's content: its ports and endpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct SliceContent {
    /// The ports every endpoint of the slice serves.
    pub ports: Vec<SlicePort>,
    /// The endpoints.
    pub endpoints: Vec<Endpoint>,
}

/// The EndpointSlices: one per port set, at most [`MAX_PER_SLICE`] endpoints each.
pub fn slices(svc: &Service, endpoints: &[PodEndpoint]) -> Vec<SliceContent> {
    let mut out = Vec::new();
    for (ports, list) in by_ports(svc, endpoints) {
        let ports: Vec<SlicePort> = ports
            .into_iter()
            .map(|(name, port, protocol, app)| SlicePort {
                name: Some(name),
                port: Some(port),
                protocol: Some(protocol),
                app_protocol: app,
            })
            .collect();
        for chunk in list.chunks(MAX_PER_SLICE) {
            out.push(SliceContent {
                ports: ports.clone(),
                endpoints: chunk
                    .iter()
                    .map(|e| Endpoint {
                        addresses: vec![e.ip.clone()],
                        conditions: Some(EndpointConditions {
                            ready: Some(e.ready),
                            serving: Some(e.serving),
                            terminating: Some(e.terminating),
                        }),
                        hostname: e.hostname.clone(),
                        node_name: e.node.clone(),
                        target_ref: Some(e.target.clone()),
                        ..Default::default()
                    })
                    .collect(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn svc(v: serde_json::Value) -> Service {
        serde_json::from_value(v).unwrap()
    }

    fn pod(name: &str, ip: &str, ready: bool, extra: serde_json::Value) -> Pod {
        let mut p = json!({
            "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i",
                "ports": [{"name": "http", "containerPort": 8080}]}]},
            "status": {"phase": "Running", "podIP": ip,
                "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}});
        if let (Some(a), Some(b)) = (p.as_object_mut(), extra.as_object()) {
            for (k, v) in b {
                if let Some(m) = a.get_mut(k).and_then(|x| x.as_object_mut()) {
                    for (kk, vv) in v.as_object().unwrap() {
                        m.insert(kk.clone(), vv.clone());
                    }
                } else {
                    a.insert(k.clone(), v.clone());
                }
            }
        }
        serde_json::from_value(p).unwrap()
    }

    fn web() -> Service {
        svc(json!({"metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [
                {"name": "http", "port": 80, "targetPort": "http"},
                {"name": "raw", "port": 81, "targetPort": 9000}]}}))
    }

    #[test]
    fn named_ports_resolve_per_pod_and_readiness_splits_addresses() {
        let s = web();
        let a = pod_endpoint(&s, &pod("a", "10.42.0.3", true, json!({})));
        let b = pod_endpoint(&s, &pod("b", "10.42.0.2", false, json!({})));
        assert_eq!(a.ports[0], ("http".into(), 8080, "TCP".into(), None));
        let subsets = subsets(&s, &[a, b]);
        assert_eq!(subsets.len(), 1);
        let ips = |v: &Option<Vec<EndpointAddress>>| {
            v.iter().flatten().map(|a| a.ip.clone()).collect::<Vec<_>>()
        };
        assert_eq!(ips(&subsets[0].addresses), vec!["10.42.0.3"]);
        assert_eq!(ips(&subsets[0].not_ready_addresses), vec!["10.42.0.2"]);
        let ports: Vec<i32> = subsets[0].ports.iter().flatten().map(|p| p.port).collect();
        assert_eq!(ports, vec![8080, 9000]);
    }

    #[test]
    fn a_pod_without_the_named_port_serves_only_the_other_ports() {
        let s = web();
        let mut p = pod("a", "10.42.0.3", true, json!({}));
        p.spec.as_mut().unwrap().containers[0].ports = None;
        let e = pod_endpoint(&s, &p);
        assert_eq!(e.ports, vec![("raw".into(), 9000, "TCP".into(), None)]);
        let with = pod_endpoint(&s, &pod("b", "10.42.0.4", true, json!({})));
        // two port sets: two subsets and two slices
        assert_eq!(subsets(&s, &[e.clone(), with.clone()]).len(), 2);
        assert_eq!(slices(&s, &[e, with]).len(), 2);
    }

    #[test]
    fn terminating_pods_leave_endpoints_but_stay_in_slices_as_not_ready() {
        let s = web();
        let p = pod(
            "a",
            "10.42.0.3",
            true,
            json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}}),
        );
        assert!(!counts(&p, false));
        assert!(counts(&p, true));
        let e = pod_endpoint(&s, &p);
        assert!(subsets(&s, std::slice::from_ref(&e)).is_empty());
        let sl = slices(&s, &[e]);
        let c = sl[0].endpoints[0].conditions.clone().unwrap();
        assert_eq!(
            (c.ready, c.serving, c.terminating),
            (Some(false), Some(true), Some(true))
        );
    }

    #[test]
    fn finished_or_ip_less_pods_do_not_count_and_publish_not_ready_makes_ready() {
        let done = pod(
            "a",
            "10.42.0.3",
            false,
            json!({"spec": {"restartPolicy": "Never"}, "status": {"phase": "Succeeded"}}),
        );
        assert!(!counts(&done, false));
        let no_ip = pod("b", "", true, json!({}));
        assert!(!counts(&no_ip, false));
        let mut s = web();
        s.spec.as_mut().unwrap().publish_not_ready_addresses = Some(true);
        let e = pod_endpoint(&s, &pod("c", "10.42.0.5", false, json!({})));
        assert!(e.ready && e.serving);
    }

    #[test]
    fn hostnames_need_the_service_as_subdomain_and_headless_services_may_have_no_ports() {
        let s = svc(json!({"metadata": {"name": "db", "namespace": "default"},
            "spec": {"clusterIP": "None", "selector": {"app": "db"}}}));
        let p = pod(
            "a",
            "10.42.0.3",
            true,
            json!({"spec": {"hostname": "db-0", "subdomain": "db"}}),
        );
        let e = pod_endpoint(&s, &p);
        assert_eq!(e.hostname.as_deref(), Some("db-0"));
        let subsets = subsets(&s, &[e]);
        assert_eq!(subsets.len(), 1);
        assert!(subsets[0].ports.is_none());
        let other = pod(
            "b",
            "10.42.0.4",
            true,
            json!({"spec": {"hostname": "x", "subdomain": "elsewhere"}}),
        );
        assert_eq!(pod_endpoint(&s, &other).hostname, None);
    }
}
