//! Many hollow nodes in one process: one pod informer and one node informer for all, shared
//! work queues with a bounded number of status writers, one Lease task per node.

use crate::hollow_node::HollowNode;
use crate::shared::{Shared, NODE_INDEX};
use crate::{node_worker, pod_worker, NodesConfig};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::runtime::watcher;
use kube::Api;
use skiff_client::{key_of, Change, Informer, WorkQueue};
use skiff_kubelet::runtime::ContainerEventType;
use skiff_kubelet::{NodeConfig, NodeLease, Runtime};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Errors starting hollow nodes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A node could not be registered.
    #[error("registering: {0}")]
    Register(#[from] skiff_kubelet::node::Error),
}

/// Node status workers (registration retries and Ready re-posts).
const NODE_WORKERS: usize = 8;

/// Running hollow nodes; dropping this stops them all (the Nodes stay in the API).
pub struct HollowNodes {
    shared: Arc<Shared>,
    tasks: JoinSet<()>,
}

fn node_config(config: &NodesConfig, i: usize) -> NodeConfig {
    let mut c = NodeConfig::new(&config.node_name(i), &config.node_ip(i));
    c.cpu = config.cpu.clone();
    c.memory = config.memory.clone();
    c.pods = config.pods;
    c.container_runtime_version = format!("fake://{}", env!("CARGO_PKG_VERSION"));
    c.labels
        .insert("node.skiff.io/hollow".into(), "true".into());
    c
}

impl HollowNodes {
    /// Registers `config.count` nodes and starts their heartbeats and pod workers.
    pub async fn start(client: kube::Client, config: NodesConfig) -> Result<HollowNodes, Error> {
        let nodes: HashMap<String, Arc<HollowNode>> = (0..config.count)
            .map(|i| {
                let n = Arc::new(HollowNode::new(node_config(&config, i)));
                (n.name().to_string(), n)
            })
            .collect();
        // Every pod, unfiltered: the API server renders an unfiltered watch event once for
        // all such watchers, while a field selector costs it a decode per event; unbound pods
        // are simply not dispatched.
        let pod_informer =
            Informer::new(Api::<Pod>::all(client.clone()), watcher::Config::default());
        pod_informer.add_index(NODE_INDEX, |p: &Pod| {
            vec![p
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default()]
        });
        let node_informer =
            Informer::new(Api::<Node>::all(client.clone()), watcher::Config::default());
        let shared = Arc::new(Shared {
            client: client.clone(),
            config: config.clone(),
            nodes,
            pods: pod_informer.store(),
            node_store: node_informer.store(),
            pod_queue: WorkQueue::new(),
            node_queue: WorkQueue::new(),
            owners: Default::default(),
            written: Default::default(),
        });
        let (q, ours) = (shared.pod_queue.clone(), shared.clone());
        pod_informer.on_change(move |c: &Change<Pod>| {
            let pod = c.object();
            let node = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .unwrap_or_default();
            if ours.nodes.contains_key(node) {
                q.add(key_of(&pod.metadata));
            }
        });
        let (q, ours) = (shared.node_queue.clone(), shared.clone());
        node_informer.on_change(move |c: &Change<Node>| {
            let name = c.object().metadata.name.clone().unwrap_or_default();
            if ours.nodes.contains_key(&name) {
                q.add(name);
            }
        });
        let mut tasks = JoinSet::new();
        tasks.spawn(pod_informer.run());
        tasks.spawn(node_informer.run());

        let api: Api<Node> = Api::all(client.clone());
        let mut registered = futures::stream::iter(shared.nodes.values().cloned())
            .map(|n| {
                let api = api.clone();
                async move {
                    let mut tries = 0;
                    loop {
                        match skiff_kubelet::node::register(&api, &n.config).await {
                            Ok(node) => return Ok((n, node.metadata.uid.unwrap_or_default())),
                            Err(e) if tries < 5 => {
                                tries += 1;
                                tracing::debug!("{e}; retrying");
                                tokio::time::sleep(Duration::from_millis(200 * tries)).await;
                            }
                            Err(e) => return Err(e),
                        }
                    }
                }
            })
            .buffer_unordered(config.register_concurrency.max(1));
        let count = config.count.max(1) as u32;
        let mut index = 0u32;
        while let Some(r) = registered.next().await {
            let (node, uid) = r?;
            let lease = NodeLease::new(client.clone(), node.name()).owned_by(&uid);
            let first = config.lease_interval * index / count;
            index += 1;
            node.own_task(tasks.spawn(lease.run(first, config.lease_interval)));
            let q = shared.pod_queue.clone();
            let mut events = node.runtime.container_events();
            node.own_task(tasks.spawn(async move {
                while let Some(e) = events.next().await {
                    if e.kind == ContainerEventType::Stopped {
                        q.add(format!("{}/{}", e.pod.namespace, e.pod.name));
                    }
                }
            }));
        }
        drop(registered);
        for _ in 0..config.status_writers.max(1) {
            tasks.spawn(pod_worker::run(shared.clone()));
        }
        for _ in 0..NODE_WORKERS {
            tasks.spawn(node_worker::run(shared.clone()));
        }
        tasks.spawn(node_worker::heartbeats(shared.clone()));
        for name in shared.nodes.keys() {
            shared.node_queue.add(name.clone());
        }
        Ok(HollowNodes { shared, tasks })
    }

    /// The node names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.shared.nodes.keys().cloned().collect();
        v.sort();
        v
    }

    /// Stops one node's heartbeats and pod work, as if its kubelet died; `false` if unknown.
    pub fn stop_node(&self, name: &str) -> bool {
        match self.shared.nodes.get(name) {
            Some(n) => {
                n.stop();
                true
            }
            None => false,
        }
    }

    /// How many pods the nodes' runtimes hold sandboxes for.
    pub fn sandbox_count(&self) -> usize {
        self.shared
            .nodes
            .values()
            .map(|n| n.runtime.sandbox_count())
            .sum()
    }

    /// Runs until dropped.
    pub async fn run(mut self) {
        while self.tasks.join_next().await.is_some() {}
        std::future::pending::<()>().await;
    }
}

/// Runs `config.count` hollow nodes until the future is dropped.
pub async fn run_nodes(client: kube::Client, config: NodesConfig) -> Result<(), Error> {
    HollowNodes::start(client, config).await?.run().await;
    Ok(())
}
