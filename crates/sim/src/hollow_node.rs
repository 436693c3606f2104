//! One simulated node: its fake runtime, pod syncer, pod CIDR and liveness.

use parking_lot::Mutex;
use skiff_kubelet::{FakeRuntime, NodeConfig, PodSyncer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::task::AbortHandle;

/// A hollow node: everything a kubelet keeps, backed by a [`FakeRuntime`].
pub struct HollowNode {
    /// What it reports about itself.
    pub config: NodeConfig,
    /// Its runtime.
    pub runtime: FakeRuntime,
    /// Its pod worker state.
    pub syncer: PodSyncer,
    alive: AtomicBool,
    pod_cidr: Mutex<Option<String>>,
    tasks: Mutex<Vec<AbortHandle>>,
}

impl HollowNode {
    /// A live node with an empty runtime.
    pub fn new(config: NodeConfig) -> Self {
        let runtime = FakeRuntime::new();
        HollowNode {
            config,
            syncer: PodSyncer::new(Arc::new(runtime.clone())),
            runtime,
            alive: AtomicBool::new(true),
            pod_cidr: Mutex::new(None),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// The node name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Whether the node still plays its part.
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// The pod CIDR given to the runtime, if any yet.
    pub fn pod_cidr(&self) -> Option<String> {
        self.pod_cidr.lock().clone()
    }

    /// Records the pod CIDR given to the runtime.
    pub fn set_pod_cidr(&self, cidr: &str) {
        *self.pod_cidr.lock() = Some(cidr.to_string());
    }

    /// Keeps a task to abort when the node stops.
    pub fn own_task(&self, task: AbortHandle) {
        self.tasks.lock().push(task);
    }

    /// Stops heartbeats and pod work, as a killed kubelet would.
    pub fn stop(&self) {
        self.alive.store(false, Ordering::Release);
        for t in self.tasks.lock().drain(..) {
            t.abort();
        }
    }
}
