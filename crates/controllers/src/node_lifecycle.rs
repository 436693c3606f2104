//! The node lifecycle controller: a node silent for 40 s (no Lease renewal, no status
//! heartbeat) gets Unknown conditions and its pods are marked not ready; Ready=False and
//! Unknown nodes get `not-ready` / `unreachable` taints, removed once they recover; pods
//! that do not tolerate NoExecute taints are evicted.

mod eviction;
mod health;
mod tolerations;

use crate::informers::NODE_INDEX;
use crate::{Context, Informers};
use health::Tracker;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use skiff_client::{EventRecorder, EventType, Store};
use std::collections::HashSet;
use std::time::Duration;

pub use tolerations::{tolerates, toleration_time};

/// How often node health is checked.
const PERIOD: Duration = Duration::from_secs(5);
/// Where node Leases live.
const LEASE_NAMESPACE: &str = "kube-node-lease";

/// Upstream's node lifecycle controller with its taint-based eviction.
pub struct NodeLifecycleController {
    client: kube::Client,
    nodes: Store<Node>,
    leases: Store<Lease>,
    pods: Store<Pod>,
    recorder: EventRecorder,
    eviction: eviction::TaintEviction,
    grace: Duration,
}

impl NodeLifecycleController {
    /// Registers the eviction handlers.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        NodeLifecycleController {
            client: ctx.client.clone(),
            nodes: informers.nodes.store(),
            leases: informers.leases.store(),
            pods: informers.pods.store(),
            recorder: ctx.recorder("node-controller"),
            eviction: eviction::TaintEviction::new(ctx, informers),
            grace: ctx
                .config
                .node_monitor_grace_period
                .unwrap_or(health::GRACE),
        }
    }

    /// Starts eviction and the periodic health check.
    pub fn start(self) {
        let NodeLifecycleController { eviction, .. } = self;
        eviction.start();
        let monitor = Monitor {
            client: self.client,
            nodes: self.nodes,
            leases: self.leases,
            pods: self.pods,
            recorder: self.recorder,
            tracker: Tracker::default(),
            grace: self.grace,
        };
        tokio::spawn(monitor.run());
    }
}

struct Monitor {
    client: kube::Client,
    nodes: Store<Node>,
    leases: Store<Lease>,
    pods: Store<Pod>,
    recorder: EventRecorder,
    tracker: Tracker,
    grace: Duration,
}

impl Monitor {
    async fn run(mut self) {
        // short grace periods (tests) are checked more often
        let period = PERIOD.min(self.grace / 2).max(Duration::from_millis(500));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.check_all().await;
        }
    }

    async fn check_all(&mut self) {
        let mut alive = HashSet::new();
        for node in self.nodes.list() {
            let name = node.metadata.name.clone().unwrap_or_default();
            if let Err(e) = self.check(&node, &name).await {
                tracing::debug!(node = %name, "node health update failed: {e}");
            }
            alive.insert(name);
        }
        self.tracker.retain(&alive);
    }

    async fn check(&mut self, node: &Node, name: &str) -> Result<(), kube::Error> {
        let conditions = node
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        let ready = conditions.iter().find(|c| c.type_ == "Ready");
        let heartbeat = ready
            .and_then(|c| c.last_heartbeat_time.as_ref())
            .map(|t| t.0);
        let renew = self
            .leases
            .get_in(LEASE_NAMESPACE, name)
            .and_then(|l| l.spec.as_ref()?.renew_time.as_ref().map(|t| t.0));
        let silent = self
            .tracker
            .observe(name, heartbeat, renew, tokio::time::Instant::now());
        let now = Timestamp::now();
        let api: Api<Node> = Api::all(self.client.clone());
        let mut ready_status = ready.map(|c| c.status.clone());
        if silent > self.grace {
            if let Some(new) = health::mark_unknown(&conditions, now) {
                let patch = json!({"status": {"conditions": new}});
                api.patch_status(name, &PatchParams::default(), &Patch::Strategic(&patch))
                    .await?;
                tracing::info!(
                    node = name,
                    "node stopped posting status; conditions now Unknown"
                );
                self.recorder.publish(
                    node,
                    EventType::Normal,
                    "NodeNotReady",
                    format!("Node {name} status is now: NodeNotReady"),
                );
                self.mark_pods_not_ready(name, now).await;
            }
            ready_status = Some("Unknown".into());
        }
        let existing = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.clone())
            .unwrap_or_default();
        if let Some(taints) = health::taints_for(&existing, ready_status.as_deref(), now) {
            let patch = json!({
                "metadata": {"resourceVersion": node.metadata.resource_version},
                "spec": {"taints": taints},
            });
            api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        Ok(())
    }

    /// Sets Ready=False on the pods of a node that went silent (upstream's MarkPodsNotReady).
    async fn mark_pods_not_ready(&self, node: &str, now: Timestamp) {
        for pod in self.pods.by_index(NODE_INDEX, node) {
            if !crate::pods::is_ready(&pod) {
                continue;
            }
            let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
            let name = pod.metadata.name.as_deref().unwrap_or_default();
            let patch = json!({"status": {"conditions": [
                {"type": "Ready", "status": "False", "lastTransitionTime": Time(now)}
            ]}});
            let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
            match api
                .patch_status(name, &PatchParams::default(), &Patch::Strategic(&patch))
                .await
            {
                Ok(_) => self.recorder.publish(
                    &*pod,
                    EventType::Warning,
                    "NodeNotReady",
                    "Node is not ready".into(),
                ),
                Err(e) => tracing::debug!(pod = name, "marking pod not ready failed: {e}"),
            }
        }
    }
}
