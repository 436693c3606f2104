//! The container runtime the kubelet drives, shaped after CRI v1 (sandboxes, containers, events).

pub mod fake;

use futures::stream::BoxStream;
use k8s_openapi::jiff::Timestamp;
use std::collections::BTreeMap;
use std::time::Duration;

/// Label naming the pod of a sandbox or container (as upstream's kubelet).
pub const POD_NAME_LABEL: &str = "io.kubernetes.pod.name";
/// Label naming the namespace of a sandbox or container.
pub const POD_NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";
/// Label holding the pod uid of a sandbox or container.
pub const POD_UID_LABEL: &str = "io.kubernetes.pod.uid";
/// Label naming the container of the pod spec a runtime container runs.
pub const CONTAINER_NAME_LABEL: &str = "io.kubernetes.container.name";
/// Label telling init containers (`init`) from regular ones (`regular`).
pub const CONTAINER_TYPE_LABEL: &str = "io.skiff.container.type";

/// Errors from a runtime.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No sandbox or container has this id.
    #[error("{kind} {id} not found")]
    NotFound {
        /// `sandbox` or `container`.
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The pod network is not ready (for example, no pod CIDR yet).
    #[error("network not ready: {0}")]
    NetworkNotReady(String),
    /// The image could not be pulled (unknown, unreachable or refused).
    #[error("pulling image {image}: {message}")]
    ImagePull {
        /// The image asked for.
        image: String,
        /// Why.
        message: String,
    },
    /// The object is not in a state that allows the operation.
    #[error("invalid state: {0}")]
    InvalidState(String),
    /// The runtime answered with an error or could not be reached.
    #[error("runtime: {0}")]
    Runtime(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Result of runtime calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Name and version of a runtime (CRI `Version`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeVersion {
    /// e.g. `containerd`; the scheme of container IDs in pod status.
    pub runtime_name: String,
    /// e.g. `1.6.20`.
    pub runtime_version: String,
}

/// Identity of a pod sandbox.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodSandboxMetadata {
    /// Pod name.
    pub name: String,
    /// Pod namespace.
    pub namespace: String,
    /// Pod uid.
    pub uid: String,
    /// How many sandboxes were created for this pod before.
    pub attempt: u32,
}

/// What a sandbox is created from.
#[derive(Clone, Debug, Default)]
pub struct PodSandboxConfig {
    /// Identity.
    pub metadata: PodSandboxMetadata,
    /// Hostname inside the sandbox.
    pub hostname: String,
    /// Whether the pod uses the node's network.
    pub host_network: bool,
    /// Labels (the pod's plus the `io.kubernetes.pod.*` ones).
    pub labels: BTreeMap<String, String>,
    /// The pod's annotations.
    pub annotations: BTreeMap<String, String>,
    /// Folder the runtime writes container logs under (empty: no logs kept).
    pub log_directory: String,
    /// Resolver settings for the sandbox (none: the host's).
    pub dns: Option<DnsConfig>,
    /// Host ports mapped to container ports.
    pub port_mappings: Vec<PortMapping>,
    /// Cgroup the sandbox's containers live under (empty: the runtime's default).
    pub cgroup_parent: String,
}

/// Resolver settings written to a sandbox's `/etc/resolv.conf`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsConfig {
    /// Name servers.
    pub servers: Vec<String>,
    /// Search domains.
    pub searches: Vec<String>,
    /// Options (`ndots:5`, …).
    pub options: Vec<String>,
}

/// A host port forwarded to a container port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortMapping {
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// Port inside the pod.
    pub container_port: i32,
    /// Port on the host.
    pub host_port: i32,
    /// Host address (empty: all).
    pub host_ip: String,
}

/// A folder of the host mounted into a container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mount {
    /// Path inside the container.
    pub container_path: String,
    /// Path on the host.
    pub host_path: String,
    /// Mounted read-only.
    pub readonly: bool,
}

/// Cgroup limits of a container (zero: unlimited / default).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// CFS period in microseconds.
    pub cpu_period: i64,
    /// CFS quota in microseconds per period.
    pub cpu_quota: i64,
    /// Relative CPU weight.
    pub cpu_shares: i64,
    /// Memory limit in bytes.
    pub memory_limit_bytes: i64,
}

/// Who a container runs as and what it may do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityContext {
    /// Full access to the host's devices and capabilities.
    pub privileged: bool,
    /// User id (none: the image's).
    pub run_as_user: Option<i64>,
    /// Group id (none: the image's).
    pub run_as_group: Option<i64>,
    /// Extra groups.
    pub supplemental_groups: Vec<i64>,
    /// Root filesystem mounted read-only.
    pub readonly_rootfs: bool,
    /// Capabilities added.
    pub add_capabilities: Vec<String>,
    /// Capabilities dropped.
    pub drop_capabilities: Vec<String>,
}

/// Whether a sandbox is up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodSandboxState {
    /// Running with its network.
    Ready,
    /// Stopped.
    NotReady,
}

/// A sandbox as the runtime reports it (CRI `PodSandboxStatus`).
#[derive(Clone, Debug, PartialEq)]
pub struct PodSandbox {
    /// Sandbox id.
    pub id: String,
    /// Identity.
    pub metadata: PodSandboxMetadata,
    /// Up or stopped.
    pub state: PodSandboxState,
    /// When it was created.
    pub created_at: Timestamp,
    /// The pod IP while the sandbox is ready (none on the host network).
    pub ip: Option<String>,
    /// Labels given at creation.
    pub labels: BTreeMap<String, String>,
}

/// Identity of a container inside its sandbox.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerMetadata {
    /// Container name from the pod spec.
    pub name: String,
    /// Restart count: how many containers of this name ran before.
    pub attempt: u32,
}

/// What a container is created from.
#[derive(Clone, Debug, Default)]
pub struct ContainerConfig {
    /// Identity.
    pub metadata: ContainerMetadata,
    /// Image reference.
    pub image: String,
    /// Entrypoint.
    pub command: Vec<String>,
    /// Arguments.
    pub args: Vec<String>,
    /// Environment.
    pub envs: Vec<(String, String)>,
    /// Working directory.
    pub working_dir: String,
    /// Labels (the `io.kubernetes.*` ones).
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Host folders mounted in.
    pub mounts: Vec<Mount>,
    /// Log file, relative to the sandbox's log directory.
    pub log_path: String,
    /// Cgroup limits.
    pub resources: Resources,
    /// Identity and privileges.
    pub security: SecurityContext,
    /// Keeps stdin open.
    pub stdin: bool,
    /// Closes stdin after the first attach ends.
    pub stdin_once: bool,
    /// Allocates a terminal.
    pub tty: bool,
}

/// Lifecycle state of a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerState {
    /// Created, not started.
    Created,
    /// Running.
    Running,
    /// Exited (see the exit code).
    Exited,
    /// The runtime does not know.
    Unknown,
}

/// A container as the runtime reports it (CRI `ContainerStatus`).
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerStatus {
    /// Container id.
    pub id: String,
    /// The sandbox it runs in.
    pub pod_sandbox_id: String,
    /// Identity.
    pub metadata: ContainerMetadata,
    /// State.
    pub state: ContainerState,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it started, if it did.
    pub started_at: Option<Timestamp>,
    /// When it exited, if it did.
    pub finished_at: Option<Timestamp>,
    /// Exit code once exited.
    pub exit_code: i32,
    /// Image as asked for.
    pub image: String,
    /// Resolved image (digest reference).
    pub image_ref: String,
    /// Short reason for the state (e.g. `Completed`, `Error`, `OOMKilled`).
    pub reason: String,
    /// Longer message for the state.
    pub message: String,
    /// Labels given at creation.
    pub labels: BTreeMap<String, String>,
}

/// Selects sandboxes; empty fields match everything.
#[derive(Clone, Debug, Default)]
pub struct PodSandboxFilter {
    /// Only this id.
    pub id: Option<String>,
    /// Only in this state.
    pub state: Option<PodSandboxState>,
    /// Only with all these labels.
    pub label_selector: BTreeMap<String, String>,
}

/// Selects containers; empty fields match everything.
#[derive(Clone, Debug, Default)]
pub struct ContainerFilter {
    /// Only this id.
    pub id: Option<String>,
    /// Only in this sandbox.
    pub pod_sandbox_id: Option<String>,
    /// Only in this state.
    pub state: Option<ContainerState>,
    /// Only with all these labels.
    pub label_selector: BTreeMap<String, String>,
}

/// What happened to a container (CRI `ContainerEventType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerEventType {
    /// Created.
    Created,
    /// Started.
    Started,
    /// Exited or was stopped.
    Stopped,
    /// Removed.
    Deleted,
}

/// A container event, with the pod it belongs to (CRI `GetContainerEvents`).
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerEvent {
    /// Container id.
    pub container_id: String,
    /// What happened.
    pub kind: ContainerEventType,
    /// The pod of the container.
    pub pod: PodSandboxMetadata,
}

/// A container runtime: pod sandboxes and their containers.
#[async_trait::async_trait]
pub trait Runtime: Send + Sync + 'static {
    /// Name and version of the runtime.
    async fn version(&self) -> Result<RuntimeVersion>;
    /// Tells the runtime the node's pod CIDR (CRI `UpdateRuntimeConfig`).
    async fn update_runtime_config(&self, pod_cidr: &str) -> Result<()>;
    /// Creates and starts a sandbox with its network; returns its id.
    async fn run_pod_sandbox(&self, config: &PodSandboxConfig) -> Result<String>;
    /// Stops a sandbox and every container in it, releasing its network.
    async fn stop_pod_sandbox(&self, id: &str) -> Result<()>;
    /// Removes a stopped sandbox and its containers.
    async fn remove_pod_sandbox(&self, id: &str) -> Result<()>;
    /// The status of one sandbox.
    async fn pod_sandbox_status(&self, id: &str) -> Result<PodSandbox>;
    /// The sandboxes matching a filter.
    async fn list_pod_sandboxes(&self, filter: &PodSandboxFilter) -> Result<Vec<PodSandbox>>;
    /// Creates a container in a sandbox; returns its id.
    async fn create_container(
        &self,
        pod_sandbox_id: &str,
        config: &ContainerConfig,
        sandbox_config: &PodSandboxConfig,
    ) -> Result<String>;
    /// Starts a created container.
    async fn start_container(&self, id: &str) -> Result<()>;
    /// Stops a running container, killing it after `timeout`.
    async fn stop_container(&self, id: &str, timeout: Duration) -> Result<()>;
    /// Removes a container.
    async fn remove_container(&self, id: &str) -> Result<()>;
    /// The containers matching a filter.
    async fn list_containers(&self, filter: &ContainerFilter) -> Result<Vec<ContainerStatus>>;
    /// The status of one container.
    async fn container_status(&self, id: &str) -> Result<ContainerStatus>;
    /// A stream of container events from now on.
    fn container_events(&self) -> BoxStream<'static, ContainerEvent>;
    /// The id of an image if the runtime holds it.
    async fn image_status(&self, image: &str) -> Result<Option<String>>;
    /// Pulls an image; returns its id.
    async fn pull_image(&self, image: &str) -> Result<String>;
    /// Runs a command in a running container and waits for it (up to `timeout`).
    async fn exec_sync(&self, id: &str, cmd: &[String], timeout: Duration) -> Result<ExecResult>;
    /// A streaming URL (on the runtime's streaming server) running `cmd` in a container.
    async fn exec_url(&self, id: &str, cmd: &[String], io: StreamIo) -> Result<String>;
    /// A streaming URL attaching to a container's main process.
    async fn attach_url(&self, id: &str, io: StreamIo) -> Result<String>;
    /// A streaming URL forwarding ports into a sandbox's network.
    async fn port_forward_url(&self, sandbox_id: &str) -> Result<String>;
}

/// Which standard streams a streaming session carries, and whether it has a terminal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamIo {
    /// Standard input.
    pub stdin: bool,
    /// Standard output.
    pub stdout: bool,
    /// Standard error (merged into stdout with a terminal).
    pub stderr: bool,
    /// A terminal.
    pub tty: bool,
}

/// What a command run by [`Runtime::exec_sync`] left.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecResult {
    /// Exit code.
    pub exit_code: i32,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
}

/// Whether `labels` has every pair of `selector`.
pub(crate) fn labels_match(
    labels: &BTreeMap<String, String>,
    selector: &BTreeMap<String, String>,
) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}
