//! Sandbox and container configurations built from a pod spec.

use crate::runtime::{
    ContainerConfig, ContainerMetadata, PodSandboxConfig, PodSandboxMetadata, CONTAINER_NAME_LABEL,
    CONTAINER_TYPE_LABEL, POD_NAMESPACE_LABEL, POD_NAME_LABEL, POD_UID_LABEL,
};
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
pub fn sandbox_config(pod: &Pod, attempt: u32) -> PodSandboxConfig {
    let m = &pod.metadata;
    let spec = pod.spec.as_ref();
    let mut labels = m.labels.clone().unwrap_or_default();
    labels.extend(pod_labels(pod));
    PodSandboxConfig {
        metadata: PodSandboxMetadata {
            name: m.name.clone().unwrap_or_default(),
            namespace: m.namespace.clone().unwrap_or_default(),
            uid: m.uid.clone().unwrap_or_default(),
            attempt,
        },
        hostname: spec
            .and_then(|s| s.hostname.clone())
            .or_else(|| m.name.clone())
            .unwrap_or_default(),
        host_network: spec.and_then(|s| s.host_network).unwrap_or(false),
        labels,
        annotations: m.annotations.clone().unwrap_or_default(),
    }
}

/// A container of a pod, as its `attempt`-th run.
pub fn container_config(pod: &Pod, c: &Container, init: bool, attempt: u32) -> ContainerConfig {
    let mut labels = pod_labels(pod);
    labels.insert(CONTAINER_NAME_LABEL.to_string(), c.name.clone());
    labels.insert(
        CONTAINER_TYPE_LABEL.to_string(),
        if init { "init" } else { "regular" }.to_string(),
    );
    let envs = c
        .env
        .iter()
        .flatten()
        .filter_map(|e| e.value.clone().map(|v| (e.name.clone(), v)))
        .collect();
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
    }
}
