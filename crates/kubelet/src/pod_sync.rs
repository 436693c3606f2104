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
    pull_backoff: RestartBackoff,
}

/// What a node agent prepared for a pod beyond its spec: resolved environment, volume
/// mounts, log folder, resolver and cgroup settings. Simulated nodes leave it empty.
#[derive(Clone, Debug, Default)]
pub struct PodSetup {
    /// The sandbox's log folder.
    pub log_directory: String,
    /// The sandbox's cgroup parent.
    pub cgroup_parent: String,
    /// Resolver settings.
    pub dns: Option<crate::runtime::DnsConfig>,
    /// Per container name: what it gets.
    pub containers: HashMap<String, ContainerSetup>,
}

/// An environment value; the pod's IPs are known only once its sandbox runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvValue {
    /// A fixed value.
    Literal(String),
    /// `status.podIP`.
    PodIp,
    /// `status.podIPs` (comma-separated).
    PodIps,
}

/// What one container gets beyond its spec.
#[derive(Clone, Debug, Default)]
pub struct ContainerSetup {
    /// The full environment (`env` and `envFrom` resolved).
    pub envs: Vec<(String, EnvValue)>,
    /// Volume mounts.
    pub mounts: Vec<crate::runtime::Mount>,
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
            pull_backoff: RestartBackoff::default(),
        }
    }

    /// The runtime driven.
    pub fn runtime(&self) -> &Arc<dyn Runtime> {
        &self.runtime
    }

    /// Brings the runtime one step closer to the pod spec and reads back its state.
    pub async fn sync(&self, pod: &Pod) -> Result<SyncResult> {
        self.sync_with(pod, &PodSetup::default()).await
    }

    /// [`PodSyncer::sync`] with what the agent prepared for the pod.
    pub async fn sync_with(&self, pod: &Pod, setup: &PodSetup) -> Result<SyncResult> {
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
            let config = config::sandbox_config(pod, attempt, setup);
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
            if let Step::Wait = self.step(pod, c, true, setup, &mut out).await? {
                break;
            }
        }
        if initialized {
            for c in &spec.containers {
                self.step(pod, c, false, setup, &mut out).await?;
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
        setup: &PodSetup,
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
        if !self.ensure_image(pod, c, out).await? {
            return Ok(Step::Wait);
        }
        let sandbox_config = config::sandbox_config(pod, sandbox.metadata.attempt, setup);
        let config = config::container_config(pod, c, init, attempt, setup, sandbox.ip.as_deref());
        let id = self
            .runtime
            .create_container(&sandbox.id, &config, &sandbox_config)
            .await?;
        self.runtime.start_container(&id).await?;
        if let Some(h) = c.lifecycle.as_ref().and_then(|l| l.post_start.as_ref()) {
            let ip = sandbox.ip.clone().unwrap_or_default();
            let timeout = Duration::from_secs(30);
            if let Err(m) = crate::agent::hooks::run(&self.runtime, h, &id, c, &ip, timeout).await {
                tracing::info!(container = %c.name, "postStart hook failed, killing the container: {m}");
                self.runtime.stop_container(&id, Duration::ZERO).await?;
            }
        }
        Ok(Step::Wait)
    }

    /// Runs the preStop hooks of the pod's running containers (all at once, within `grace`),
    /// then stops everything with what is left of the grace period.
    pub async fn terminate_pod(&self, pod: &Pod, grace: Duration) -> Result<()> {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let started = tokio::time::Instant::now();
        let state = PodRuntimeState::read(&*self.runtime, &uid).await?;
        let ip = state
            .sandbox
            .as_ref()
            .and_then(|s| s.ip.clone())
            .unwrap_or_default();
        let spec = pod.spec.clone().unwrap_or_default();
        let hooks = spec.containers.iter().filter_map(|c| {
            let hook = c.lifecycle.as_ref()?.pre_stop.as_ref()?;
            let run = state
                .attempts(&c.name)
                .into_iter()
                .find(|r| r.state == ContainerState::Running)?
                .clone();
            let (ip, runtime) = (ip.clone(), self.runtime.clone());
            Some(async move {
                if let Err(m) =
                    crate::agent::hooks::run(&runtime, hook, &run.id, c, &ip, grace).await
                {
                    tracing::info!(container = %c.name, "preStop hook failed: {m}");
                }
            })
        });
        futures::future::join_all(hooks).await;
        let left = grace.saturating_sub(started.elapsed());
        self.terminate(&uid, left).await
    }

    /// Makes sure the container's image is there per its pull policy; false (with the
    /// container's waiting reason set) when it is not.
    async fn ensure_image(&self, pod: &Pod, c: &Container, out: &mut SyncResult) -> Result<bool> {
        let image = c.image.as_deref().unwrap_or_default();
        let policy = c
            .image_pull_policy
            .clone()
            .unwrap_or_else(|| default_pull_policy(image).to_string());
        let present = if policy == "Always" {
            None
        } else {
            self.runtime.image_status(image).await?
        };
        if present.is_some() {
            return Ok(true);
        }
        let mut wait = |reason: &str, message: String| {
            out.waiting.insert(
                c.name.clone(),
                Waiting {
                    reason: reason.to_string(),
                    message,
                },
            );
        };
        if policy == "Never" {
            wait(
                "ErrImageNeverPull",
                format!("Container image \"{image}\" is not present with pull policy of Never"),
            );
            return Ok(false);
        }
        let uid = pod.metadata.uid.as_deref().unwrap_or_default();
        let key = backoff::key(uid, &format!("pull:{}", c.name));
        if let Some((left, _)) = self.pull_backoff.remaining(&key) {
            wait(
                "ImagePullBackOff",
                format!("Back-off pulling image \"{image}\""),
            );
            out.requeue_after = Some(out.requeue_after.map_or(left, |r| r.min(left)));
            return Ok(false);
        }
        match self.runtime.pull_image(image).await {
            Ok(_) => Ok(true),
            Err(e @ crate::runtime::Error::ImagePull { .. }) => {
                self.pull_backoff.restarted(&key);
                wait("ErrImagePull", e.to_string());
                // come back while the backoff runs, to show ImagePullBackOff as upstream does
                let soon = Duration::from_secs(1);
                out.requeue_after = Some(out.requeue_after.map_or(soon, |r| r.min(soon)));
                Ok(false)
            }
            Err(e) => Err(e),
        }
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
        // every container gets the whole grace period, all at once (as upstream)
        let stops = state
            .containers
            .iter()
            .filter(|c| c.state == ContainerState::Running)
            .map(|c| self.runtime.stop_container(&c.id, grace));
        for r in futures::future::join_all(stops).await {
            r?;
        }
        for s in &state.sandboxes {
            self.runtime.stop_pod_sandbox(&s.id).await?;
            self.runtime.remove_pod_sandbox(&s.id).await?;
        }
        self.backoff.forget_pod(uid);
        self.pull_backoff.forget_pod(uid);
        Ok(())
    }
}

/// Upstream's default pull policy: `Always` for `:latest` or untagged images, else
/// `IfNotPresent`.
pub fn default_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
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
