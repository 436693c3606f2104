//! An in-memory runtime: containers "run" for a time set by annotations and exit with a set
//! code; records calls when asked. Cheap enough for tens of thousands of pods per process.

use super::{
    labels_match, ContainerConfig, ContainerEvent, ContainerEventType, ContainerFilter,
    ContainerState, ContainerStatus, Error, ExecResult, PodSandbox, PodSandboxConfig,
    PodSandboxFilter, PodSandboxState, Result, Runtime, RuntimeVersion, StreamIo,
};
use crate::runtime::fake::ipam::Ipam;
use futures::stream::BoxStream;
use futures::StreamExt;
use k8s_openapi::jiff::Timestamp;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::mpsc;

mod behaviour;
mod ipam;

use behaviour::{behaviour, image_ref};

/// Pod annotation: the exit code of the pod's containers (default 0).
pub const EXIT_CODE_ANNOTATION: &str = "sim.skiff.io/exit-code";
/// Pod annotation: seconds the pod's containers run before exiting (default: forever).
pub const RUN_SECONDS_ANNOTATION: &str = "sim.skiff.io/run-seconds";

/// A runtime call, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `run_pod_sandbox` for pod `namespace/name`.
    RunPodSandbox(String),
    /// `stop_pod_sandbox`.
    StopPodSandbox(String),
    /// `remove_pod_sandbox`.
    RemovePodSandbox(String),
    /// `create_container` of the named container.
    CreateContainer(String),
    /// `start_container`.
    StartContainer(String),
    /// `stop_container`.
    StopContainer(String),
    /// `remove_container`.
    RemoveContainer(String),
}

struct State {
    ipam: Option<Ipam>,
    sandboxes: HashMap<String, PodSandbox>,
    containers: HashMap<String, Fake>,
    subscribers: Vec<mpsc::UnboundedSender<ContainerEvent>>,
    calls: Option<Vec<Call>>,
}

struct Fake {
    status: ContainerStatus,
    exit: Option<(Duration, i32)>,
}

/// The in-memory runtime. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct FakeRuntime {
    state: Arc<Mutex<State>>,
}

impl Default for FakeRuntime {
    fn default() -> Self {
        Self::new()
    }
}

fn new_id() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

impl FakeRuntime {
    /// An empty runtime that records no calls.
    pub fn new() -> Self {
        FakeRuntime {
            state: Arc::new(Mutex::new(State {
                ipam: None,
                sandboxes: HashMap::new(),
                containers: HashMap::new(),
                subscribers: Vec::new(),
                calls: None,
            })),
        }
    }

    /// The same runtime, recording every call (for tests).
    #[must_use]
    pub fn recording(self) -> Self {
        self.state.lock().calls = Some(Vec::new());
        self
    }

    /// The calls recorded so far.
    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().calls.clone().unwrap_or_default()
    }

    /// How many sandboxes exist (ready or not).
    pub fn sandbox_count(&self) -> usize {
        self.state.lock().sandboxes.len()
    }

    fn record(state: &mut State, call: Call) {
        if let Some(calls) = &mut state.calls {
            calls.push(call);
        }
    }

    fn emit(state: &mut State, container_id: &str, kind: ContainerEventType) {
        let Some(c) = state.containers.get(container_id) else {
            return;
        };
        let Some(sandbox) = state.sandboxes.get(&c.status.pod_sandbox_id) else {
            return;
        };
        let event = ContainerEvent {
            container_id: container_id.to_string(),
            kind,
            pod: sandbox.metadata.clone(),
        };
        state.subscribers.retain(|s| s.send(event.clone()).is_ok());
    }

    /// Marks a running container exited; `false` if it was not running.
    fn exit(state: &mut State, id: &str, code: i32) -> bool {
        let Some(c) = state.containers.get_mut(id) else {
            return false;
        };
        if c.status.state != ContainerState::Running {
            return false;
        }
        c.status.state = ContainerState::Exited;
        c.status.finished_at = Some(Timestamp::now());
        c.status.exit_code = code;
        c.status.reason = if code == 0 { "Completed" } else { "Error" }.to_string();
        Self::emit(state, id, ContainerEventType::Stopped);
        true
    }

    fn schedule_exit(weak: Weak<Mutex<State>>, id: String, after: Duration, code: i32) {
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            if let Some(state) = weak.upgrade() {
                Self::exit(&mut state.lock(), &id, code);
            }
        });
    }
}

fn not_found(kind: &'static str, id: &str) -> Error {
    Error::NotFound {
        kind,
        id: id.to_string(),
    }
}

#[async_trait::async_trait]
impl Runtime for FakeRuntime {
    async fn version(&self) -> Result<RuntimeVersion> {
        Ok(RuntimeVersion {
            runtime_name: "fake".to_string(),
            runtime_version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }

    async fn update_runtime_config(&self, pod_cidr: &str) -> Result<()> {
        let ipam = Ipam::new(pod_cidr).ok_or_else(|| {
            Error::InvalidState(format!("pod CIDR {pod_cidr:?} is not an IPv4 CIDR"))
        })?;
        let mut state = self.state.lock();
        if state.ipam.as_ref().map(Ipam::cidr) != Some(pod_cidr) {
            state.ipam = Some(ipam);
        }
        Ok(())
    }

    async fn run_pod_sandbox(&self, config: &PodSandboxConfig) -> Result<String> {
        let mut state = self.state.lock();
        let ip = if config.host_network {
            None
        } else {
            let ipam = state.ipam.as_mut().ok_or_else(|| {
                Error::NetworkNotReady("no pod CIDR assigned to the node yet".to_string())
            })?;
            Some(ipam.allocate().ok_or_else(|| {
                Error::NetworkNotReady(format!("no free address in {}", ipam.cidr()))
            })?)
        };
        let id = new_id();
        let m = &config.metadata;
        Self::record(
            &mut state,
            Call::RunPodSandbox(format!("{}/{}", m.namespace, m.name)),
        );
        state.sandboxes.insert(
            id.clone(),
            PodSandbox {
                id: id.clone(),
                metadata: m.clone(),
                state: PodSandboxState::Ready,
                created_at: Timestamp::now(),
                ip,
                labels: config.labels.clone(),
            },
        );
        Ok(id)
    }

    async fn stop_pod_sandbox(&self, id: &str) -> Result<()> {
        let mut guard = self.state.lock();
        let state = &mut *guard;
        Self::record(state, Call::StopPodSandbox(id.to_string()));
        let sandbox = state
            .sandboxes
            .get_mut(id)
            .ok_or_else(|| not_found("sandbox", id))?;
        sandbox.state = PodSandboxState::NotReady;
        if let (Some(ip), Some(ipam)) = (sandbox.ip.take(), state.ipam.as_mut()) {
            ipam.release(&ip);
        }
        let ids: Vec<String> = state
            .containers
            .iter()
            .filter(|(_, c)| c.status.pod_sandbox_id == id)
            .map(|(k, _)| k.clone())
            .collect();
        for c in ids {
            Self::exit(state, &c, 137);
        }
        Ok(())
    }

    async fn remove_pod_sandbox(&self, id: &str) -> Result<()> {
        self.stop_pod_sandbox(id).await.ok();
        let mut state = self.state.lock();
        Self::record(&mut state, Call::RemovePodSandbox(id.to_string()));
        state
            .containers
            .retain(|_, c| c.status.pod_sandbox_id != id);
        state.sandboxes.remove(id);
        Ok(())
    }

    async fn pod_sandbox_status(&self, id: &str) -> Result<PodSandbox> {
        self.state
            .lock()
            .sandboxes
            .get(id)
            .cloned()
            .ok_or_else(|| not_found("sandbox", id))
    }

    async fn list_pod_sandboxes(&self, filter: &PodSandboxFilter) -> Result<Vec<PodSandbox>> {
        let state = self.state.lock();
        Ok(state
            .sandboxes
            .values()
            .filter(|s| filter.id.as_ref().is_none_or(|id| *id == s.id))
            .filter(|s| filter.state.is_none_or(|st| st == s.state))
            .filter(|s| labels_match(&s.labels, &filter.label_selector))
            .cloned()
            .collect())
    }

    async fn create_container(
        &self,
        pod_sandbox_id: &str,
        config: &ContainerConfig,
        sandbox_config: &PodSandboxConfig,
    ) -> Result<String> {
        let mut state = self.state.lock();
        match state.sandboxes.get(pod_sandbox_id) {
            None => return Err(not_found("sandbox", pod_sandbox_id)),
            Some(s) if s.state != PodSandboxState::Ready => {
                return Err(Error::InvalidState(format!(
                    "sandbox {pod_sandbox_id} is not ready"
                )))
            }
            Some(_) => {}
        }
        let id = new_id();
        Self::record(
            &mut state,
            Call::CreateContainer(config.metadata.name.clone()),
        );
        let status = ContainerStatus {
            id: id.clone(),
            pod_sandbox_id: pod_sandbox_id.to_string(),
            metadata: config.metadata.clone(),
            state: ContainerState::Created,
            created_at: Timestamp::now(),
            started_at: None,
            finished_at: None,
            exit_code: 0,
            image: config.image.clone(),
            image_ref: image_ref(&config.image),
            reason: String::new(),
            message: String::new(),
            labels: config.labels.clone(),
        };
        let exit = behaviour(config, sandbox_config);
        state.containers.insert(id.clone(), Fake { status, exit });
        Self::emit(&mut state, &id, ContainerEventType::Created);
        Ok(id)
    }

    async fn start_container(&self, id: &str) -> Result<()> {
        let mut state = self.state.lock();
        Self::record(&mut state, Call::StartContainer(id.to_string()));
        let c = state
            .containers
            .get_mut(id)
            .ok_or_else(|| not_found("container", id))?;
        if c.status.state != ContainerState::Created {
            return Err(Error::InvalidState(format!(
                "container {id} is not created"
            )));
        }
        c.status.state = ContainerState::Running;
        c.status.started_at = Some(Timestamp::now());
        let exit = c.exit;
        Self::emit(&mut state, id, ContainerEventType::Started);
        if let Some((after, code)) = exit {
            Self::schedule_exit(Arc::downgrade(&self.state), id.to_string(), after, code);
        }
        Ok(())
    }

    async fn stop_container(&self, id: &str, _timeout: Duration) -> Result<()> {
        let mut state = self.state.lock();
        Self::record(&mut state, Call::StopContainer(id.to_string()));
        if !state.containers.contains_key(id) {
            return Err(not_found("container", id));
        }
        Self::exit(&mut state, id, 137);
        Ok(())
    }

    async fn remove_container(&self, id: &str) -> Result<()> {
        let mut state = self.state.lock();
        Self::record(&mut state, Call::RemoveContainer(id.to_string()));
        Self::exit(&mut state, id, 137);
        Self::emit(&mut state, id, ContainerEventType::Deleted);
        state.containers.remove(id);
        Ok(())
    }

    async fn list_containers(&self, filter: &ContainerFilter) -> Result<Vec<ContainerStatus>> {
        let state = self.state.lock();
        Ok(state
            .containers
            .values()
            .map(|c| &c.status)
            .filter(|c| filter.id.as_ref().is_none_or(|id| *id == c.id))
            .filter(|c| {
                filter
                    .pod_sandbox_id
                    .as_ref()
                    .is_none_or(|id| *id == c.pod_sandbox_id)
            })
            .filter(|c| filter.state.is_none_or(|st| st == c.state))
            .filter(|c| labels_match(&c.labels, &filter.label_selector))
            .cloned()
            .collect())
    }

    async fn container_status(&self, id: &str) -> Result<ContainerStatus> {
        let state = self.state.lock();
        state
            .containers
            .get(id)
            .map(|c| c.status.clone())
            .ok_or_else(|| not_found("container", id))
    }

    fn container_events(&self) -> BoxStream<'static, ContainerEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.state.lock().subscribers.push(tx);
        tokio_stream_from(rx).boxed()
    }

    /// Every image is present, except names with [`MISSING_IMAGE_MARK`] in them, which no
    /// pull finds.
    async fn image_status(&self, image: &str) -> Result<Option<String>> {
        Ok((!image.contains(MISSING_IMAGE_MARK)).then(|| image_ref(image)))
    }

    async fn pull_image(&self, image: &str) -> Result<String> {
        self.image_status(image)
            .await?
            .ok_or_else(|| Error::ImagePull {
                image: image.to_string(),
                message: "not found".to_string(),
            })
    }

    async fn exec_url(&self, _id: &str, _cmd: &[String], _io: StreamIo) -> Result<String> {
        Err(no_streaming())
    }

    async fn attach_url(&self, _id: &str, _io: StreamIo) -> Result<String> {
        Err(no_streaming())
    }

    async fn port_forward_url(&self, _sandbox_id: &str) -> Result<String> {
        Err(no_streaming())
    }

    /// Commands exit 0 with no output.
    async fn exec_sync(&self, id: &str, _cmd: &[String], _timeout: Duration) -> Result<ExecResult> {
        let state = self.state.lock();
        match state.containers.get(id) {
            Some(c) if c.status.state == ContainerState::Running => Ok(ExecResult::default()),
            Some(_) => Err(Error::InvalidState(format!(
                "container {id} is not running"
            ))),
            None => Err(not_found("container", id)),
        }
    }
}

fn no_streaming() -> Error {
    Error::InvalidState("the fake runtime has no streaming server".to_string())
}

/// Images whose name holds this are missing everywhere (for `ErrImagePull` tests).
pub const MISSING_IMAGE_MARK: &str = "does-not-exist";

fn tokio_stream_from(
    mut rx: mpsc::UnboundedReceiver<ContainerEvent>,
) -> impl futures::Stream<Item = ContainerEvent> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[cfg(test)]
mod tests;
