//! One step of a pod worker: makes the runtime match a pod spec (sandbox, init containers in
//! order, containers, restarts per restartPolicy with backoff) and reports what it holds.

pub mod config;

use crate::backoff::{self, RestartBackoff};
use crate::pod_state::PodRuntimeState;
use crate::runtime::{ContainerState, ContainerStatus, PodSandboxState, Result, Runtime};
use crate::status::Waiting;
use k8s_openapi::api::core::v1::{Container, Pod};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// What one sync left behind.
#[derive(Debug, Default)]
pub struct SyncResult {
    /// The runtime's view of the pod after the sync.
    pub state: PodRuntimeState,
    /// Containers waiting out a restart backoff, by name.
    pub waiting: HashMap<String, Waiting>,
    /// When to sync again (a backoff expires).
    pub requeue_after: Option<Duration>,
}

/// Runs pods on one runtime; remembers restart backoffs between syncs.
pub struct PodSyncer {
    runtime: Arc<dyn Runtime>,
    backoff: RestartBackoff,
}

/// Whether a container that exited with `code` restarts under `policy`.
pub fn should_restart(policy: &str, code: i32) -> bool {
    match policy {
        "Never" => false,
        "OnFailure" => code != 0,
        _ => true,
    }
}

fn restart_policy(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always")
}

/// Whether the API already reports the pod as finished (it never runs again).
pub fn is_terminal_phase(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

enum Step {
    /// Nothing to do for this container.
    Done,
    /// Wait (running, or backing off) before going on with later init containers.
    Wait,
}

impl PodSyncer {
    /// A syncer driving `runtime`.
    pub fn new(runtime: Arc<dyn Runtime>) -> Self {
        PodSyncer {
            runtime,
            backoff: RestartBackoff::default(),
        }
    }

    /// The runtime driven.
    pub fn runtime(&self) -> &Arc<dyn Runtime> {
        &self.runtime
    }

    /// Brings the runtime one step closer to the pod spec and reads back its state.
    pub async fn sync(&self, pod: &Pod) -> Result<SyncResult> {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let rt = &*self.runtime;
        let mut out = SyncResult {
            state: PodRuntimeState::read(rt, &uid).await?,
            ..Default::default()
        };
        if is_terminal_phase(pod) || crate::status::runtime_is_terminal(pod, &out.state) {
            if out.state.sandbox_ready() {
                self.stop_sandboxes(&out.state).await?;
                out.state = PodRuntimeState::read(rt, &uid).await?;
            }
            return Ok(out);
        }
        if !out.state.sandbox_ready() {
            self.stop_sandboxes(&out.state).await?;
            let attempt = out
                .state
                .sandbox
                .as_ref()
                .map_or(0, |s| s.metadata.attempt + 1);
            let config = config::sandbox_config(pod, attempt);
            let id = rt.run_pod_sandbox(&config).await?;
            out.state.sandbox = Some(rt.pod_sandbox_status(&id).await?);
        }
        let spec = pod.spec.clone().unwrap_or_default();
        let mut initialized = true;
        for c in spec.init_containers.iter().flatten() {
            if crate::status::init_done(&out.state, &c.name) {
                continue;
            }
            initialized = false;
            if let Step::Wait = self.step(pod, c, true, &mut out).await? {
                break;
            }
        }
        if initialized {
            for c in &spec.containers {
                self.step(pod, c, false, &mut out).await?;
            }
        }
        out.state = PodRuntimeState::read(rt, &uid).await?;
        if crate::status::runtime_is_terminal(pod, &out.state) {
            self.stop_sandboxes(&out.state).await?;
            out.state = PodRuntimeState::read(rt, &uid).await?;
        }
        Ok(out)
    }

    /// Starts, restarts or waits for one container.
    async fn step(
        &self,
        pod: &Pod,
        c: &Container,
        init: bool,
        out: &mut SyncResult,
    ) -> Result<Step> {
        let attempts = out.state.attempts(&c.name);
        let latest: Option<ContainerStatus> = attempts.first().map(|s| (*s).clone());
        let attempt = match &latest {
            None => 0,
            Some(s) => match s.state {
                ContainerState::Running | ContainerState::Unknown => return Ok(Step::Wait),
                ContainerState::Created => {
                    self.runtime.start_container(&s.id).await?;
                    return Ok(Step::Wait);
                }
                ContainerState::Exited => {
                    if !should_restart(restart_policy(pod), s.exit_code) {
                        return Ok(if init { Step::Wait } else { Step::Done });
                    }
                    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
                    let key = backoff::key(uid, &c.name);
                    if let Some((left, delay)) = self.backoff.remaining(&key) {
                        out.waiting
                            .insert(c.name.clone(), crash_loop(pod, &c.name, delay));
                        out.requeue_after = Some(out.requeue_after.map_or(left, |r| r.min(left)));
                        return Ok(Step::Wait);
                    }
                    self.backoff.restarted(&key);
                    for old in attempts.iter().skip(1) {
                        self.runtime.remove_container(&old.id).await?;
                    }
                    s.metadata.attempt + 1
                }
            },
        };
        let Some(sandbox) = out.state.sandbox.clone() else {
            return Ok(Step::Wait);
        };
        let sandbox_config = config::sandbox_config(pod, sandbox.metadata.attempt);
        let config = config::container_config(pod, c, init, attempt);
        let id = self
            .runtime
            .create_container(&sandbox.id, &config, &sandbox_config)
            .await?;
        self.runtime.start_container(&id).await?;
        Ok(Step::Wait)
    }

    async fn stop_sandboxes(&self, state: &PodRuntimeState) -> Result<()> {
        for s in &state.sandboxes {
            if s.state == PodSandboxState::Ready {
                self.runtime.stop_pod_sandbox(&s.id).await?;
            }
        }
        Ok(())
    }

    /// Stops every container of the pod (waiting up to `grace`) and removes its sandboxes.
    pub async fn terminate(&self, uid: &str, grace: Duration) -> Result<()> {
        let state = PodRuntimeState::read(&*self.runtime, uid).await?;
        for c in &state.containers {
            if c.state == ContainerState::Running {
                self.runtime.stop_container(&c.id, grace).await?;
            }
        }
        for s in &state.sandboxes {
            self.runtime.stop_pod_sandbox(&s.id).await?;
            self.runtime.remove_pod_sandbox(&s.id).await?;
        }
        self.backoff.forget_pod(uid);
        Ok(())
    }
}

fn crash_loop(pod: &Pod, container: &str, delay: Duration) -> Waiting {
    let m = &pod.metadata;
    Waiting {
        reason: "CrashLoopBackOff".to_string(),
        message: format!(
            "back-off {}s restarting failed container={container} pod={}_{}({})",
            delay.as_secs(),
            m.name.as_deref().unwrap_or_default(),
            m.namespace.as_deref().unwrap_or_default(),
            m.uid.as_deref().unwrap_or_default(),
        ),
    }
}

#[cfg(test)]
mod tests;
