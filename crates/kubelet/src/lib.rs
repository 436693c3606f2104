//! The node agent's shared core: the container runtime trait (CRI-shaped, with a fake), pod
//! workers that drive it, pod status by upstream's rules, Node registration and the Lease
//! heartbeat. Used by the real agent and by simulated nodes alike.
#![forbid(unsafe_code)]

pub mod agent;
pub mod backoff;
pub mod containerd;
pub mod cri;
pub mod image;
pub mod lease;
pub mod local_path;
pub mod node;
pub mod pod_state;
pub mod pod_sync;
pub mod registries;
pub mod report;
pub mod runtime;
pub mod server;
pub mod status;

pub use lease::NodeLease;
pub use node::NodeConfig;
pub use pod_state::PodRuntimeState;
pub use pod_sync::{ContainerSetup, EnvValue, PodSetup, PodSyncer, SyncResult};
pub use runtime::fake::FakeRuntime;
pub use runtime::Runtime;
pub use status::{pod_status, StatusContext, Waiting};
