//! State shared by every hollow node of one process: client, informer stores, work queues.

use crate::hollow_node::HollowNode;
use crate::NodesConfig;
use k8s_openapi::api::core::v1::{Node, Pod};
use parking_lot::Mutex;
use skiff_client::{Store, WorkQueue};
use std::collections::HashMap;
use std::sync::Arc;

/// Index of the pod store: pods by `spec.nodeName`.
pub const NODE_INDEX: &str = "node";

/// A pod the runtime of a node holds.
#[derive(Clone)]
pub struct Owner {
    /// The node running it.
    pub node: Arc<HollowNode>,
    /// The pod uid.
    pub uid: String,
}

/// What the workers share.
pub struct Shared {
    /// API client.
    pub client: kube::Client,
    /// Settings.
    pub config: NodesConfig,
    /// The hollow nodes by name.
    pub nodes: HashMap<String, Arc<HollowNode>>,
    /// Pods bound to any node.
    pub pods: Store<Pod>,
    /// All nodes.
    pub node_store: Store<Node>,
    /// Keys (`namespace/name`) of pods to sync.
    pub pod_queue: WorkQueue<String>,
    /// Names of nodes to sync.
    pub node_queue: WorkQueue<String>,
    /// Pods with runtime state, by key.
    pub owners: Mutex<HashMap<String, Owner>>,
    /// Hash of the status last written per pod key (no rewrite of the same status).
    pub written: Mutex<HashMap<String, u64>>,
}

impl Shared {
    /// The live hollow node called `name`, if it is one of ours.
    pub fn live_node(&self, name: &str) -> Option<&Arc<HollowNode>> {
        self.nodes.get(name).filter(|n| n.is_alive())
    }
}
