//! What the runtime holds for one pod: its newest sandbox and its containers, all attempts.

use crate::runtime::{
    ContainerFilter, ContainerState, ContainerStatus, PodSandbox, PodSandboxFilter,
    PodSandboxState, Result, Runtime, POD_UID_LABEL,
};
use std::collections::BTreeMap;

/// The runtime's view of one pod.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodRuntimeState {
    /// The newest sandbox of the pod, if any.
    pub sandbox: Option<PodSandbox>,
    /// Every sandbox of the pod (older ones too).
    pub sandboxes: Vec<PodSandbox>,
    /// Every container of the pod, every attempt.
    pub containers: Vec<ContainerStatus>,
}

impl PodRuntimeState {
    /// Reads the sandboxes and containers labelled with the pod's uid.
    pub async fn read(runtime: &dyn Runtime, uid: &str) -> Result<PodRuntimeState> {
        let selector = BTreeMap::from([(POD_UID_LABEL.to_string(), uid.to_string())]);
        let mut sandboxes = runtime
            .list_pod_sandboxes(&PodSandboxFilter {
                label_selector: selector.clone(),
                ..Default::default()
            })
            .await?;
        sandboxes.sort_by(|a, b| {
            (b.metadata.attempt, b.created_at).cmp(&(a.metadata.attempt, a.created_at))
        });
        let containers = runtime
            .list_containers(&ContainerFilter {
                label_selector: selector,
                ..Default::default()
            })
            .await?;
        Ok(PodRuntimeState {
            sandbox: sandboxes.first().cloned(),
            sandboxes,
            containers,
        })
    }

    /// Whether the newest sandbox is up.
    pub fn sandbox_ready(&self) -> bool {
        self.sandbox
            .as_ref()
            .is_some_and(|s| s.state == PodSandboxState::Ready)
    }

    /// The attempts of a container in the newest sandbox, newest first.
    pub fn attempts(&self, name: &str) -> Vec<&ContainerStatus> {
        let sandbox = self.sandbox.as_ref().map(|s| s.id.as_str());
        let mut v: Vec<&ContainerStatus> = self
            .containers
            .iter()
            .filter(|c| c.metadata.name == name && Some(c.pod_sandbox_id.as_str()) == sandbox)
            .collect();
        v.sort_by(|a, b| {
            (b.metadata.attempt, b.created_at).cmp(&(a.metadata.attempt, a.created_at))
        });
        v
    }

    /// The newest attempt of a container, in any sandbox of the pod.
    pub fn latest(&self, name: &str) -> Option<&ContainerStatus> {
        self.attempts(name).into_iter().next().or_else(|| {
            self.containers
                .iter()
                .filter(|c| c.metadata.name == name)
                .max_by_key(|c| (c.created_at, c.metadata.attempt))
        })
    }

    /// Whether a container exited with code 0 in its newest attempt.
    pub fn succeeded(&self, name: &str) -> bool {
        self.latest(name)
            .is_some_and(|c| c.state == ContainerState::Exited && c.exit_code == 0)
    }

    /// Whether any container of the pod is still running.
    pub fn any_running(&self) -> bool {
        self.containers
            .iter()
            .any(|c| c.state == ContainerState::Running)
    }
}
