//! Simulated (hollow) nodes: many kubelets in one process on a fake runtime, for tests and
//! benchmarks of the control plane at scale.
#![forbid(unsafe_code)]

pub mod config;
mod hollow_node;
pub mod hollow_nodes;
mod node_worker;
mod pod_worker;
mod shared;

pub use config::NodesConfig;
pub use hollow_nodes::{run_nodes, Error, HollowNodes};
pub use skiff_kubelet::runtime::fake::{EXIT_CODE_ANNOTATION, RUN_SECONDS_ANNOTATION};
