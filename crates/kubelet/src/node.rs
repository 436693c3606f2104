//! The Node object a kubelet registers: capacity, conditions, addresses, node info, labels.

use crate::status::time;
use k8s_openapi::api::core::v1::{
    DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSpec, NodeStatus,
    NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;
use std::collections::BTreeMap;

/// Errors registering a node or posting its status.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API refused or could not be reached.
    #[error("node {name}: {source}")]
    Api {
        /// The node.
        name: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
}

/// What a node reports about itself.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Node name (also its hostname).
    pub name: String,
    /// The node's IP.
    pub internal_ip: String,
    /// CPU capacity (e.g. `8`).
    pub cpu: String,
    /// Memory capacity (e.g. `32Gi`).
    pub memory: String,
    /// How many pods fit.
    pub pods: u32,
    /// Ephemeral storage capacity.
    pub ephemeral_storage: String,
    /// `amd64`, `arm64`, …
    pub arch: String,
    /// Runtime version as `<name>://<version>`.
    pub container_runtime_version: String,
    /// Kernel version.
    pub kernel_version: String,
    /// OS image.
    pub os_image: String,
    /// Extra labels.
    pub labels: BTreeMap<String, String>,
    /// The port of the kubelet API.
    pub kubelet_port: i32,
    /// Resource pressure measured on the node.
    pub pressure: Pressure,
}

/// Which resources the node is short of (upstream's eviction signals).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pressure {
    /// Available memory below the threshold.
    pub memory: bool,
    /// Free disk space or inodes below the threshold.
    pub disk: bool,
    /// Free process ids below the threshold.
    pub pid: bool,
}

/// The kubelet version reported in nodeInfo (Kubernetes v1.33, as the API served).
pub const KUBELET_VERSION: &str = "v1.33.0-skiff";

/// The architecture in Kubernetes' spelling.
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

impl NodeConfig {
    /// A node named `name` at `internal_ip` with upstream-like defaults (4 CPUs, 16Gi, 110 pods).
    pub fn new(name: &str, internal_ip: &str) -> Self {
        NodeConfig {
            name: name.to_string(),
            internal_ip: internal_ip.to_string(),
            cpu: "4".to_string(),
            memory: "16Gi".to_string(),
            pods: 110,
            ephemeral_storage: "100Gi".to_string(),
            arch: go_arch().to_string(),
            container_runtime_version: "containerd://1.6.20".to_string(),
            kernel_version: "6.1.0".to_string(),
            os_image: "Debian GNU/Linux 12 (bookworm)".to_string(),
            labels: BTreeMap::new(),
            kubelet_port: 10250,
            pressure: Pressure::default(),
        }
    }
}

/// This host's capacity and system information.
impl NodeConfig {
    /// A node for this host: CPUs, memory, kernel and OS read from the system.
    pub fn from_host(name: &str, internal_ip: &str) -> Self {
        let mut c = NodeConfig::new(name, internal_ip);
        c.cpu = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .to_string();
        if let Some(kib) = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        }) {
            c.memory = format!("{kib}Ki");
        }
        if let Ok(k) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
            c.kernel_version = k.trim().to_string();
        }
        if let Some(pretty) = std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|o| {
                o.lines()
                    .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                    .map(|v| v.trim_matches('"').to_string())
            })
        {
            c.os_image = pretty;
        }
        c
    }
}

fn node_condition(
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> NodeCondition {
    NodeCondition {
        type_: kind.to_string(),
        status: status.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        last_heartbeat_time: Some(time(now)),
        last_transition_time: Some(time(now)),
    }
}

/// The conditions of a healthy node; transition times kept from `old` where unchanged.
pub fn healthy_conditions(old: Option<&[NodeCondition]>, now: Timestamp) -> Vec<NodeCondition> {
    conditions(Pressure::default(), old, now)
}

/// The node's conditions under `pressure` (upstream's reasons and messages); transition times
/// kept from `old` where unchanged.
pub fn conditions(
    pressure: Pressure,
    old: Option<&[NodeCondition]>,
    now: Timestamp,
) -> Vec<NodeCondition> {
    let flag = |b: bool| if b { "True" } else { "False" };
    let mut out = vec![
        if pressure.memory {
            node_condition(
                "MemoryPressure",
                flag(true),
                "KubeletHasInsufficientMemory",
                "kubelet has insufficient memory available",
                now,
            )
        } else {
            node_condition(
                "MemoryPressure",
                flag(false),
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
                now,
            )
        },
        if pressure.disk {
            node_condition(
                "DiskPressure",
                flag(true),
                "KubeletHasDiskPressure",
                "kubelet has disk pressure",
                now,
            )
        } else {
            node_condition(
                "DiskPressure",
                flag(false),
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
                now,
            )
        },
        if pressure.pid {
            node_condition(
                "PIDPressure",
                flag(true),
                "KubeletHasInsufficientPID",
                "kubelet has insufficient PID available",
                now,
            )
        } else {
            node_condition(
                "PIDPressure",
                flag(false),
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
                now,
            )
        },
        node_condition(
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
            now,
        ),
    ];
    for c in &mut out {
        if let Some(o) = old.into_iter().flatten().find(|o| o.type_ == c.type_) {
            if o.status == c.status {
                c.last_transition_time = o.last_transition_time.clone();
            }
        }
    }
    out
}

/// Whether the node's Ready condition is True.
pub fn is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The node's status: capacity, allocatable, conditions, addresses, node info.
pub fn node_status(cfg: &NodeConfig, old: Option<&[NodeCondition]>, now: Timestamp) -> NodeStatus {
    let capacity: BTreeMap<String, Quantity> = [
        ("cpu", cfg.cpu.clone()),
        ("memory", cfg.memory.clone()),
        ("pods", cfg.pods.to_string()),
        ("ephemeral-storage", cfg.ephemeral_storage.clone()),
        ("hugepages-2Mi", "0".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Quantity(v)))
    .collect();
    NodeStatus {
        allocatable: Some(capacity.clone()),
        capacity: Some(capacity),
        conditions: Some(conditions(cfg.pressure, old, now)),
        addresses: Some(vec![
            NodeAddress {
                type_: "InternalIP".into(),
                address: cfg.internal_ip.clone(),
            },
            NodeAddress {
                type_: "Hostname".into(),
                address: cfg.name.clone(),
            },
        ]),
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint {
                port: cfg.kubelet_port,
            }),
        }),
        node_info: Some(NodeSystemInfo {
            architecture: cfg.arch.clone(),
            boot_id: String::new(),
            container_runtime_version: cfg.container_runtime_version.clone(),
            kernel_version: cfg.kernel_version.clone(),
            kube_proxy_version: String::new(),
            kubelet_version: KUBELET_VERSION.to_string(),
            machine_id: String::new(),
            operating_system: "linux".to_string(),
            os_image: cfg.os_image.clone(),
            system_uuid: String::new(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The labels every node carries, plus the configured ones.
pub fn node_labels(cfg: &NodeConfig) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        ("kubernetes.io/hostname".to_string(), cfg.name.clone()),
        ("kubernetes.io/os".to_string(), "linux".to_string()),
        ("kubernetes.io/arch".to_string(), cfg.arch.clone()),
        ("beta.kubernetes.io/os".to_string(), "linux".to_string()),
        ("beta.kubernetes.io/arch".to_string(), cfg.arch.clone()),
    ]);
    labels.extend(cfg.labels.clone());
    labels
}

/// The Node object to register.
pub fn build_node(cfg: &NodeConfig, now: Timestamp) -> Node {
    Node {
        metadata: ObjectMeta {
            name: Some(cfg.name.clone()),
            labels: Some(node_labels(cfg)),
            ..Default::default()
        },
        spec: Some(NodeSpec::default()),
        status: Some(node_status(cfg, None, now)),
    }
}

/// Creates the Node, or updates its labels and status if it exists.
pub async fn register(api: &Api<Node>, cfg: &NodeConfig) -> Result<Node, Error> {
    let err = |source| Error::Api {
        name: cfg.name.clone(),
        source,
    };
    let node = build_node(cfg, Timestamp::now());
    match api.create(&PostParams::default(), &node).await {
        Ok(n) => Ok(n),
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let labels = serde_json::json!({"metadata": {"labels": node_labels(cfg)}});
            api.patch(&cfg.name, &PatchParams::default(), &Patch::Merge(&labels))
                .await
                .map_err(err)?;
            post_status(api, cfg, None).await
        }
        Err(e) => Err(err(e)),
    }
}

/// Posts the node's status through `nodes/status`, keeping unchanged transition times.
pub async fn post_status(
    api: &Api<Node>,
    cfg: &NodeConfig,
    old: Option<&Node>,
) -> Result<Node, Error> {
    let old_conditions = old
        .and_then(|n| n.status.as_ref())
        .and_then(|s| s.conditions.as_deref());
    let status = node_status(cfg, old_conditions, Timestamp::now());
    let patch = serde_json::json!({ "status": status });
    api.patch_status(&cfg.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|source| Error::Api {
            name: cfg.name.clone(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_node_is_ready_with_upstream_reasons_and_labels() {
        let cfg = NodeConfig::new("n1", "127.0.0.2");
        let node = build_node(&cfg, Timestamp::now());
        assert!(is_ready(&node));
        let status = node.status.unwrap();
        let conds = status.conditions.unwrap();
        let types: Vec<&str> = conds.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(
            types,
            ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
        );
        assert_eq!(conds[3].reason.as_deref(), Some("KubeletReady"));
        assert_eq!(
            conds[3].message.as_deref(),
            Some("kubelet is posting ready status")
        );
        assert_eq!(status.capacity.as_ref().unwrap()["pods"].0, "110");
        assert_eq!(status.allocatable.unwrap()["memory"].0, "16Gi");
        let addrs = status.addresses.unwrap();
        assert_eq!(
            (addrs[0].type_.as_str(), addrs[0].address.as_str()),
            ("InternalIP", "127.0.0.2")
        );
        assert_eq!(
            (addrs[1].type_.as_str(), addrs[1].address.as_str()),
            ("Hostname", "n1")
        );
        let labels = node.metadata.labels.unwrap();
        assert_eq!(labels["kubernetes.io/hostname"], "n1");
        assert_eq!(labels["kubernetes.io/os"], "linux");
        assert_eq!(labels["kubernetes.io/arch"], go_arch());
        assert_eq!(status.node_info.unwrap().kubelet_version, KUBELET_VERSION);
    }

    #[test]
    fn transition_times_survive_a_heartbeat() {
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let t1 = Timestamp::from_second(1_700_000_300).unwrap();
        let first = healthy_conditions(None, t0);
        let again = healthy_conditions(Some(&first), t1);
        assert_eq!(again[3].last_transition_time, Some(time(t0)));
        assert_eq!(again[3].last_heartbeat_time, Some(time(t1)));
        let mut unknown = first.clone();
        unknown[3].status = "Unknown".into();
        let back = healthy_conditions(Some(&unknown), t1);
        assert_eq!(back[3].last_transition_time, Some(time(t1)));
    }
}
