//! Sandbox and container configurations built from a pod spec.

use super::{EnvValue, PodSetup};
use crate::runtime::{
    ContainerConfig, ContainerMetadata, PodSandboxConfig, PodSandboxMetadata, CONTAINER_NAME_LABEL,
    CONTAINER_TYPE_LABEL, POD_NAMESPACE_LABEL, POD_NAME_LABEL, POD_UID_LABEL,
};
use crate::runtime::{PortMapping, Resources, SecurityContext};
use crate::status::qos::parse_quantity;
use k8s_openapi::api::core::v1::{Container, Pod};
use std::collections::BTreeMap;

/// Annotation carrying a container's restart count (as upstream's kubelet).
pub const RESTART_COUNT_ANNOTATION: &str = "io.kubernetes.container.restartCount";

fn pod_labels(pod: &Pod) -> BTreeMap<String, String> {
    let m = &pod.metadata;
    BTreeMap::from([
        (
            POD_NAME_LABEL.to_string(),
            m.name.clone().unwrap_or_default(),
        ),
        (
            POD_NAMESPACE_LABEL.to_string(),
            m.namespace.clone().unwrap_or_default(),
        ),
        (POD_UID_LABEL.to_string(), m.uid.clone().unwrap_or_default()),
    ])
}

/// The sandbox of a pod, `attempt` sandboxes after the first.
pub fn sandbox_config(pod: &Pod, attempt: u32, setup: &PodSetup) -> PodSandboxConfig {
    let m = &pod.metadata;
    let spec = pod.spec.as_ref();
    let host_network = spec.and_then(|s| s.host_network).unwrap_or(false);
    let mut labels = m.labels.clone().unwrap_or_default();
    labels.extend(pod_labels(pod));
    PodSandboxConfig {
        metadata: PodSandboxMetadata {
            name: m.name.clone().unwrap_or_default(),
            namespace: m.namespace.clone().unwrap_or_default(),
            uid: m.uid.clone().unwrap_or_default(),
            attempt,
        },
        // a host-network pod shares the node's UTS namespace: it keeps the node's hostname
        hostname: if host_network {
            String::new()
        } else {
            spec.and_then(|s| s.hostname.clone())
                .or_else(|| m.name.clone())
                .unwrap_or_default()
        },
        host_network,
        labels,
        annotations: m.annotations.clone().unwrap_or_default(),
        log_directory: setup.log_directory.clone(),
        dns: setup.dns.clone(),
        port_mappings: port_mappings(pod),
        cgroup_parent: setup.cgroup_parent.clone(),
    }
}

/// The host ports the pod's containers ask for.
fn port_mappings(pod: &Pod) -> Vec<PortMapping> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .filter(|p| p.host_port.is_some_and(|h| h > 0))
        .map(|p| PortMapping {
            protocol: p.protocol.clone().unwrap_or_else(|| "TCP".to_string()),
            container_port: p.container_port,
            host_port: p.host_port.unwrap_or_default(),
            host_ip: p.host_ip.clone().unwrap_or_default(),
        })
        .collect()
}

/// A container of a pod, as its `attempt`-th run.
pub fn container_config(
    pod: &Pod,
    c: &Container,
    init: bool,
    attempt: u32,
    setup: &PodSetup,
    pod_ip: Option<&str>,
) -> ContainerConfig {
    let mut labels = pod_labels(pod);
    labels.insert(CONTAINER_NAME_LABEL.to_string(), c.name.clone());
    labels.insert(
        CONTAINER_TYPE_LABEL.to_string(),
        if init { "init" } else { "regular" }.to_string(),
    );
    let prepared = setup.containers.get(&c.name);
    let envs = match prepared {
        Some(p) => p
            .envs
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    EnvValue::Literal(s) => s.clone(),
                    EnvValue::PodIp | EnvValue::PodIps => pod_ip.unwrap_or_default().to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
        None => c
            .env
            .iter()
            .flatten()
            .filter_map(|e| e.value.clone().map(|v| (e.name.clone(), v)))
            .collect(),
    };
    ContainerConfig {
        metadata: ContainerMetadata {
            name: c.name.clone(),
            attempt,
        },
        image: c.image.clone().unwrap_or_default(),
        command: c.command.clone().unwrap_or_default(),
        args: c.args.clone().unwrap_or_default(),
        envs,
        working_dir: c.working_dir.clone().unwrap_or_default(),
        labels,
        annotations: BTreeMap::from([(RESTART_COUNT_ANNOTATION.to_string(), attempt.to_string())]),
        mounts: prepared.map(|p| p.mounts.clone()).unwrap_or_default(),
        log_path: format!("{}/{attempt}.log", c.name),
        resources: resources(c),
        security: security(pod, c),
        stdin: c.stdin.unwrap_or(false),
        stdin_once: c.stdin_once.unwrap_or(false),
        tty: c.tty.unwrap_or(false),
    }
}

/// CFS period upstream uses (100 ms).
const CPU_PERIOD_US: i64 = 100_000;

/// Cgroup limits from the container's resources, as upstream's kubelet sets them: shares from
/// the CPU request (2 when none), quota from the CPU limit, memory limit in bytes.
fn resources(c: &Container) -> Resources {
    let r = c.resources.as_ref();
    let millis = |q: Option<&k8s_openapi::apimachinery::pkg::api::resource::Quantity>| {
        q.and_then(|q| parse_quantity(&q.0))
            .map(|v| (v * 1000.0).ceil() as i64)
    };
    let request = millis(
        r.and_then(|r| r.requests.as_ref())
            .and_then(|m| m.get("cpu")),
    );
    let limit = millis(r.and_then(|r| r.limits.as_ref()).and_then(|m| m.get("cpu")));
    let memory = r
        .and_then(|r| r.limits.as_ref())
        .and_then(|m| m.get("memory"))
        .and_then(|q| parse_quantity(&q.0))
        .map(|v| v as i64);
    // a limit alone also sets the request (API defaulting); shares follow the request
    let shares = request.or(limit).map_or(2, |m| (m * 1024 / 1000).max(2));
    Resources {
        cpu_period: if limit.is_some() { CPU_PERIOD_US } else { 0 },
        cpu_quota: limit.map_or(0, |m| (m * CPU_PERIOD_US / 1000).max(1000)),
        cpu_shares: shares,
        memory_limit_bytes: memory.unwrap_or(0),
    }
}

/// Identity and privileges: the container's securityContext over the pod's.
fn security(pod: &Pod, c: &Container) -> SecurityContext {
    let pod_sc = pod.spec.as_ref().and_then(|s| s.security_context.as_ref());
    let sc = c.security_context.as_ref();
    let caps = sc.and_then(|s| s.capabilities.as_ref());
    SecurityContext {
        privileged: sc.and_then(|s| s.privileged).unwrap_or(false),
        run_as_user: sc
            .and_then(|s| s.run_as_user)
            .or_else(|| pod_sc.and_then(|s| s.run_as_user)),
        run_as_group: sc
            .and_then(|s| s.run_as_group)
            .or_else(|| pod_sc.and_then(|s| s.run_as_group)),
        supplemental_groups: pod_sc
            .and_then(|s| s.supplemental_groups.clone())
            .unwrap_or_default(),
        readonly_rootfs: sc
            .and_then(|s| s.read_only_root_filesystem)
            .unwrap_or(false),
        add_capabilities: caps.and_then(|c| c.add.clone()).unwrap_or_default(),
        drop_capabilities: caps.and_then(|c| c.drop.clone()).unwrap_or_default(),
    }
}
