//! Between the runtime trait's types and CRI v1 messages.

use crate::runtime::{
    ContainerConfig, ContainerEvent, ContainerEventType, ContainerFilter, ContainerMetadata,
    ContainerState, ContainerStatus, PodSandbox, PodSandboxConfig, PodSandboxFilter,
    PodSandboxMetadata, PodSandboxState,
};
use k8s_cri::v1 as cri;
use k8s_openapi::jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};

fn map(m: &BTreeMap<String, String>) -> HashMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn tree(m: HashMap<String, String>) -> BTreeMap<String, String> {
    m.into_iter().collect()
}

fn time(nanos: i64) -> Timestamp {
    Timestamp::from_nanosecond(i128::from(nanos)).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn optional_time(nanos: i64) -> Option<Timestamp> {
    (nanos > 0).then(|| time(nanos))
}

fn sandbox_metadata(m: Option<cri::PodSandboxMetadata>) -> PodSandboxMetadata {
    let m = m.unwrap_or_default();
    PodSandboxMetadata {
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        attempt: m.attempt,
    }
}

fn sandbox_state(state: i32) -> PodSandboxState {
    if state == cri::PodSandboxState::SandboxReady as i32 {
        PodSandboxState::Ready
    } else {
        PodSandboxState::NotReady
    }
}

fn namespaces(host_network: bool) -> cri::NamespaceOption {
    let network = if host_network {
        cri::NamespaceMode::Node
    } else {
        cri::NamespaceMode::Pod
    };
    cri::NamespaceOption {
        network: network as i32,
        pid: cri::NamespaceMode::Container as i32,
        ipc: cri::NamespaceMode::Pod as i32,
        ..Default::default()
    }
}

fn protocol(p: &str) -> i32 {
    match p {
        "UDP" => cri::Protocol::Udp as i32,
        "SCTP" => cri::Protocol::Sctp as i32,
        _ => cri::Protocol::Tcp as i32,
    }
}

/// A sandbox configuration as CRI has it.
pub fn sandbox_config(c: &PodSandboxConfig) -> cri::PodSandboxConfig {
    let m = &c.metadata;
    cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name: m.name.clone(),
            uid: m.uid.clone(),
            namespace: m.namespace.clone(),
            attempt: m.attempt,
        }),
        hostname: c.hostname.clone(),
        log_directory: c.log_directory.clone(),
        dns_config: c.dns.as_ref().map(|d| cri::DnsConfig {
            servers: d.servers.clone(),
            searches: d.searches.clone(),
            options: d.options.clone(),
        }),
        port_mappings: c
            .port_mappings
            .iter()
            .map(|p| cri::PortMapping {
                protocol: protocol(&p.protocol),
                container_port: p.container_port,
                host_port: p.host_port,
                host_ip: p.host_ip.clone(),
            })
            .collect(),
        labels: map(&c.labels),
        annotations: map(&c.annotations),
        linux: Some(cri::LinuxPodSandboxConfig {
            cgroup_parent: c.cgroup_parent.clone(),
            security_context: Some(cri::LinuxSandboxSecurityContext {
                namespace_options: Some(namespaces(c.host_network)),
                ..Default::default()
            }),
            ..Default::default()
        }),
        windows: None,
    }
}

/// A container configuration as CRI has it.
pub fn container_config(c: &ContainerConfig, sandbox: &PodSandboxConfig) -> cri::ContainerConfig {
    let s = &c.security;
    let r = &c.resources;
    cri::ContainerConfig {
        metadata: Some(cri::ContainerMetadata {
            name: c.metadata.name.clone(),
            attempt: c.metadata.attempt,
        }),
        image: Some(cri::ImageSpec {
            image: c.image.clone(),
            ..Default::default()
        }),
        command: c.command.clone(),
        args: c.args.clone(),
        working_dir: c.working_dir.clone(),
        envs: c
            .envs
            .iter()
            .map(|(k, v)| cri::KeyValue {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
        mounts: c
            .mounts
            .iter()
            .map(|m| cri::Mount {
                container_path: m.container_path.clone(),
                host_path: m.host_path.clone(),
                readonly: m.readonly,
                ..Default::default()
            })
            .collect(),
        labels: map(&c.labels),
        annotations: map(&c.annotations),
        log_path: if sandbox.log_directory.is_empty() {
            String::new()
        } else {
            c.log_path.clone()
        },
        stdin: c.stdin,
        stdin_once: c.stdin_once,
        tty: c.tty,
        linux: Some(cri::LinuxContainerConfig {
            resources: Some(cri::LinuxContainerResources {
                cpu_period: r.cpu_period,
                cpu_quota: r.cpu_quota,
                cpu_shares: r.cpu_shares,
                memory_limit_in_bytes: r.memory_limit_bytes,
                ..Default::default()
            }),
            security_context: Some(cri::LinuxContainerSecurityContext {
                capabilities: Some(cri::Capability {
                    add_capabilities: s.add_capabilities.clone(),
                    drop_capabilities: s.drop_capabilities.clone(),
                    add_ambient_capabilities: Vec::new(),
                }),
                privileged: s.privileged,
                namespace_options: Some(namespaces(sandbox.host_network)),
                run_as_user: s.run_as_user.map(|value| cri::Int64Value { value }),
                run_as_group: s.run_as_group.map(|value| cri::Int64Value { value }),
                readonly_rootfs: s.readonly_rootfs,
                supplemental_groups: s.supplemental_groups.clone(),
                ..Default::default()
            }),
        }),
        ..Default::default()
    }
}

/// A sandbox from its CRI status.
pub fn sandbox_status(s: cri::PodSandboxStatus) -> PodSandbox {
    let ip = s.network.map(|n| n.ip).filter(|ip| !ip.is_empty());
    PodSandbox {
        id: s.id,
        metadata: sandbox_metadata(s.metadata),
        state: sandbox_state(s.state),
        created_at: time(s.created_at),
        ip,
        labels: tree(s.labels),
    }
}

/// A sandbox from a CRI list item (no IP: the list does not carry it).
pub fn sandbox(s: cri::PodSandbox) -> PodSandbox {
    PodSandbox {
        id: s.id,
        metadata: sandbox_metadata(s.metadata),
        state: sandbox_state(s.state),
        created_at: time(s.created_at),
        ip: None,
        labels: tree(s.labels),
    }
}

/// A sandbox filter as CRI has it.
pub fn sandbox_filter(f: &PodSandboxFilter) -> cri::PodSandboxFilter {
    cri::PodSandboxFilter {
        id: f.id.clone().unwrap_or_default(),
        state: f.state.map(|s| cri::PodSandboxStateValue {
            state: match s {
                PodSandboxState::Ready => cri::PodSandboxState::SandboxReady as i32,
                PodSandboxState::NotReady => cri::PodSandboxState::SandboxNotready as i32,
            },
        }),
        label_selector: map(&f.label_selector),
    }
}

fn container_state(state: i32) -> ContainerState {
    match state {
        x if x == cri::ContainerState::ContainerCreated as i32 => ContainerState::Created,
        x if x == cri::ContainerState::ContainerRunning as i32 => ContainerState::Running,
        x if x == cri::ContainerState::ContainerExited as i32 => ContainerState::Exited,
        _ => ContainerState::Unknown,
    }
}

/// A container filter as CRI has it.
pub fn container_filter(f: &ContainerFilter) -> cri::ContainerFilter {
    cri::ContainerFilter {
        id: f.id.clone().unwrap_or_default(),
        state: f.state.map(|s| cri::ContainerStateValue {
            state: match s {
                ContainerState::Created => cri::ContainerState::ContainerCreated as i32,
                ContainerState::Running => cri::ContainerState::ContainerRunning as i32,
                ContainerState::Exited => cri::ContainerState::ContainerExited as i32,
                ContainerState::Unknown => cri::ContainerState::ContainerUnknown as i32,
            },
        }),
        pod_sandbox_id: f.pod_sandbox_id.clone().unwrap_or_default(),
        label_selector: map(&f.label_selector),
    }
}

/// A container from its CRI status, in sandbox `sandbox`.
pub fn container_status(s: cri::ContainerStatus, sandbox: &str) -> ContainerStatus {
    let m = s.metadata.unwrap_or_default();
    ContainerStatus {
        id: s.id,
        pod_sandbox_id: sandbox.to_string(),
        metadata: ContainerMetadata {
            name: m.name,
            attempt: m.attempt,
        },
        state: container_state(s.state),
        created_at: time(s.created_at),
        started_at: optional_time(s.started_at),
        finished_at: optional_time(s.finished_at),
        exit_code: s.exit_code,
        image: s.image.map(|i| i.image).unwrap_or_default(),
        image_ref: s.image_ref,
        reason: s.reason,
        message: s.message,
        labels: tree(s.labels),
    }
}

/// A container event with its pod, if the runtime said which pod.
pub fn event(e: cri::ContainerEventResponse) -> Option<ContainerEvent> {
    let kind = match e.container_event_type {
        x if x == cri::ContainerEventType::ContainerCreatedEvent as i32 => {
            ContainerEventType::Created
        }
        x if x == cri::ContainerEventType::ContainerStartedEvent as i32 => {
            ContainerEventType::Started
        }
        x if x == cri::ContainerEventType::ContainerStoppedEvent as i32 => {
            ContainerEventType::Stopped
        }
        _ => ContainerEventType::Deleted,
    };
    let pod = sandbox_metadata(e.pod_sandbox_status?.metadata);
    Some(ContainerEvent {
        container_id: e.container_id,
        kind,
        pod,
    })
}
