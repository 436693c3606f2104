//! Taint-based eviction (upstream's TaintEvictionController): pods on a node with NoExecute
//! taints they do not tolerate are deleted at once; pods tolerating them for
//! `tolerationSeconds` are deleted when that runs out.

use super::tolerations::toleration_time;
use crate::informers::NODE_INDEX;
use crate::{Context, Informers};
use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams};
use parking_lot::Mutex;
use skiff_client::{Change, EventRecorder, EventType, Store, WorkQueue};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Evicts pods from nodes with NoExecute taints.
pub struct TaintEviction {
    client: kube::Client,
    nodes: Store<Node>,
    pods: Store<Pod>,
    queue: WorkQueue<String>,
    recorder: EventRecorder,
    /// When taints without `timeAdded` were first seen.
    first_seen: Mutex<HashMap<(String, String), Timestamp>>,
}

fn no_execute(node: &Node) -> Vec<&Taint> {
    node.spec
        .iter()
        .flat_map(|s| s.taints.iter().flatten())
        .filter(|t| t.effect == "NoExecute")
        .collect()
}

impl TaintEviction {
    /// Queues nodes whose NoExecute taints change, and nodes where pods land while tainted.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let queue = WorkQueue::new();
        let q = queue.clone();
        informers.nodes.on_change(move |c| {
            if let Change::Applied { old, new } = c {
                let before = old.as_deref().map(no_execute).unwrap_or_default();
                let after = no_execute(new);
                if !after.is_empty() && before != after {
                    q.add(new.metadata.name.clone().unwrap_or_default());
                }
            }
        });
        let (q, nodes) = (queue.clone(), informers.nodes.store());
        informers.pods.on_change(move |c| {
            let Change::Applied { new, .. } = c else {
                return;
            };
            let Some(node) = new.spec.as_ref().and_then(|s| s.node_name.as_deref()) else {
                return;
            };
            if nodes.get(node).is_some_and(|n| !no_execute(&n).is_empty()) {
                q.add(node.to_string());
            }
        });
        TaintEviction {
            client: ctx.client.clone(),
            nodes: informers.nodes.store(),
            pods: informers.pods.store(),
            queue,
            recorder: ctx.recorder("taint-eviction-controller"),
            first_seen: Default::default(),
        }
    }

    /// Starts the workers, first looking at every tainted node.
    pub fn start(self) {
        for node in self.nodes.list() {
            if !no_execute(&node).is_empty() {
                self.queue
                    .add(node.metadata.name.clone().unwrap_or_default());
            }
        }
        let this = Arc::new(self);
        let queue = this.queue.clone();
        queue.run_workers(2, "taint-eviction", move |name| {
            let this = this.clone();
            async move { this.sync(&name).await }
        });
    }

    fn tainted_since(&self, node: &str, taint: &Taint, now: Timestamp) -> Timestamp {
        if let Some(t) = &taint.time_added {
            return t.0;
        }
        *self
            .first_seen
            .lock()
            .entry((node.to_string(), taint.key.clone()))
            .or_insert(now)
    }

    async fn sync(&self, node_name: &str) -> Result<(), kube::Error> {
        let Some(node) = self.nodes.get(node_name) else {
            self.first_seen.lock().retain(|(n, _), _| n != node_name);
            return Ok(());
        };
        let taints = no_execute(&node);
        if taints.is_empty() {
            return Ok(());
        }
        let now = Timestamp::now();
        let since = taints
            .iter()
            .map(|t| self.tainted_since(node_name, t, now))
            .max()
            .unwrap_or(now);
        let elapsed =
            Duration::from_secs(now.as_second().saturating_sub(since.as_second()).max(0) as u64);
        let mut next: Option<Duration> = None;
        for pod in self.pods.by_index(NODE_INDEX, node_name) {
            if pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let tolerations = pod
                .spec
                .as_ref()
                .and_then(|s| s.tolerations.clone())
                .unwrap_or_default();
            match toleration_time(&taints, &tolerations) {
                Some(None) => {}
                Some(Some(d)) if d > elapsed => {
                    let left = d - elapsed;
                    next = Some(next.map_or(left, |n| n.min(left)));
                }
                _ => self.evict(&pod).await?,
            }
        }
        if let Some(left) = next {
            self.queue
                .add_after(node_name.to_string(), left + Duration::from_millis(200));
        }
        Ok(())
    }

    async fn evict(&self, pod: &Pod) -> Result<(), kube::Error> {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        self.recorder.publish(
            pod,
            EventType::Normal,
            "TaintManagerEviction",
            format!("Marking for deletion Pod {ns}/{name}"),
        );
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }
}
