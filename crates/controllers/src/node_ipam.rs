//! Node IPAM: a pod CIDR per node (default `/24` from `10.42.0.0/16`), rebuilt from the nodes at start,
//! released when a node is deleted.

mod cidr_set;

pub use cidr_set::{CidrSet, InvalidRange};

use crate::{Context, Informers};
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use parking_lot::Mutex;
use skiff_client::{Change, EventRecorder, EventType, Store, WorkQueue};
use std::sync::Arc;

/// Errors assigning pod CIDRs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Every `/24` is taken.
    #[error("no pod CIDR is free for node {0}")]
    Exhausted(String),
    /// The node could not be updated.
    #[error("node update: {0}")]
    Api(#[from] kube::Error),
}

/// Upstream's range allocator for node pod CIDRs.
pub struct NodeIpamController {
    client: kube::Client,
    nodes: Store<Node>,
    cidrs: Arc<Mutex<CidrSet>>,
    queue: WorkQueue<String>,
    recorder: EventRecorder,
}

fn pod_cidr(node: &Node) -> Option<&str> {
    node.spec
        .as_ref()?
        .pod_cidr
        .as_deref()
        .filter(|c| !c.is_empty())
}

impl NodeIpamController {
    /// Queues nodes as they change and frees the CIDRs of deleted nodes.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let queue = WorkQueue::new();
        let set = CidrSet::new(&ctx.config.cluster_cidr, ctx.config.node_cidr_mask_size)
            .unwrap_or_else(|e| {
                tracing::error!("{e}; using 10.42.0.0/16 with /24 per node");
                CidrSet::default()
            });
        let cidrs: Arc<Mutex<CidrSet>> = Arc::new(Mutex::new(set));
        let (q, set) = (queue.clone(), cidrs.clone());
        informers.nodes.on_change(move |c| {
            let name = c.object().metadata.name.clone().unwrap_or_default();
            match c {
                Change::Applied { .. } => q.add(name),
                Change::Deleted(_) => set.lock().release(&name),
            }
        });
        NodeIpamController {
            client: ctx.client.clone(),
            nodes: informers.nodes.store(),
            cidrs,
            queue,
            recorder: ctx.recorder("node-ipam-controller"),
        }
    }

    /// Records the CIDRs nodes already hold, then starts the workers.
    pub fn start(self) {
        {
            let mut set = self.cidrs.lock();
            for node in self.nodes.list() {
                let name = node.metadata.name.clone().unwrap_or_default();
                if let Some(i) = pod_cidr(&node).and_then(|c| set.parse(c)) {
                    if !set.occupy(&name, i) {
                        tracing::warn!(node = %name, "pod CIDR is held by another node");
                    }
                }
            }
        }
        let this = Arc::new(self);
        let queue = this.queue.clone();
        queue.run_workers(4, "nodeipam", move |name| {
            let this = this.clone();
            async move { this.sync(&name).await }
        });
    }

    async fn sync(&self, name: &str) -> Result<(), Error> {
        let Some(node) = self.nodes.get(name) else {
            return Ok(());
        };
        if let Some(current) = pod_cidr(&node) {
            let mut set = self.cidrs.lock();
            if let Some(i) = set.parse(current) {
                set.occupy(name, i);
            }
            return Ok(());
        }
        let allocated = {
            let mut set = self.cidrs.lock();
            set.allocate(name).map(|i| set.cidr(i))
        };
        let Some(cidr) = allocated else {
            self.recorder.publish(
                &*node,
                EventType::Normal,
                "CIDRNotAvailable",
                format!("Node {name} status is now: CIDRNotAvailable"),
            );
            return Err(Error::Exhausted(name.to_string()));
        };
        let patch = serde_json::json!({"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}});
        let api: Api<Node> = Api::all(self.client.clone());
        match api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {
                tracing::debug!(node = name, %cidr, "pod CIDR assigned");
                Ok(())
            }
            Err(kube::Error::Api(s)) if s.code == 404 => {
                self.cidrs.lock().release(name);
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}
