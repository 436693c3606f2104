//! Informers feeding the cache and the queue (pods, nodes, namespaces), and listers of what
//! priority, default spreading and disruption budgets read.

use crate::cache::Cache;
use crate::config::DEFAULT_SCHEDULER;
use crate::default_selector::{controller_of, default_selector, ControllerKind};
use crate::framework::{Plugin, PluginSet};
use crate::plugins::volume_binding::VolumeListers;
use crate::pod_info::CachedPod;
use crate::priority::pod_priority;
use crate::queue::SchedulingQueue;
use crate::selector::LabelSelector;
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, ReplicationController, Service,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::Resource;
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use skiff_client::{key_of, Change, Informer, SharedInformers, Store};
use std::fmt::Debug;
use std::sync::Arc;

/// Every plugin: node additions and relevant node updates may help any pod.
pub const ANY: PluginSet = PluginSet::MAX;
/// Plugins a deleted or finished pod may satisfy.
pub const POD_GONE: PluginSet = Plugin::NodeResourcesFit.bit()
    | Plugin::NodePorts.bit()
    | Plugin::InterPodAffinity.bit()
    | Plugin::PodTopologySpread.bit();
/// Plugins a newly assigned or relabelled pod may satisfy.
pub const POD_PLACED: PluginSet = Plugin::InterPodAffinity.bit() | Plugin::PodTopologySpread.bit();

/// What the informer handlers update.
#[derive(Clone)]
pub struct Shared {
    /// The node and pod cache.
    pub cache: Arc<Mutex<Cache>>,
    /// The queue of pending pods.
    pub queue: SchedulingQueue,
    /// Our scheduler name.
    pub scheduler_name: String,
}

/// Read-only stores of the objects the scheduler consults.
#[derive(Clone)]
pub struct Listers {
    /// PriorityClasses.
    pub priority_classes: Store<PriorityClass>,
    /// Services.
    pub services: Store<Service>,
    /// ReplicationControllers.
    pub replication_controllers: Store<ReplicationController>,
    /// ReplicaSets.
    pub replica_sets: Store<ReplicaSet>,
    /// StatefulSets.
    pub stateful_sets: Store<StatefulSet>,
    /// PodDisruptionBudgets.
    pub pdbs: Store<PodDisruptionBudget>,
    /// Claims, volumes and classes for VolumeBinding.
    pub volumes: VolumeListers,
    ready: Vec<Store<Pod>>,
    nodes: Store<Node>,
    namespaces: Store<Namespace>,
}

impl Listers {
    /// Waits until every informer has listed once.
    pub async fn wait_ready(&self) {
        self.priority_classes.wait_ready().await;
        self.services.wait_ready().await;
        self.replication_controllers.wait_ready().await;
        self.replica_sets.wait_ready().await;
        self.stateful_sets.wait_ready().await;
        self.pdbs.wait_ready().await;
        self.volumes.claims.wait_ready().await;
        self.volumes.volumes.wait_ready().await;
        self.volumes.classes.wait_ready().await;
        self.nodes.wait_ready().await;
        self.namespaces.wait_ready().await;
        for s in &self.ready {
            s.wait_ready().await;
        }
    }

    /// The selector of the pod's siblings, for default spreading.
    pub fn default_selector(&self, pod: &Pod) -> Option<LabelSelector> {
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let services = self.services.in_namespace(ns);
        let controller = controller_of(pod).and_then(|(kind, owner)| match kind {
            ControllerKind::ReplicationController => self
                .replication_controllers
                .get_in(ns, &owner.name)
                .and_then(|rc| {
                    rc.spec
                        .as_ref()?
                        .selector
                        .as_ref()
                        .map(LabelSelector::from_map)
                }),
            ControllerKind::ReplicaSet => {
                self.replica_sets.get_in(ns, &owner.name).and_then(|rs| {
                    rs.spec
                        .as_ref()
                        .map(|s| LabelSelector::from_api(Some(&s.selector)))
                })
            }
            ControllerKind::StatefulSet => {
                self.stateful_sets.get_in(ns, &owner.name).and_then(|ss| {
                    ss.spec
                        .as_ref()
                        .map(|s| LabelSelector::from_api(Some(&s.selector)))
                })
            }
        });
        default_selector(pod, &services, controller)
    }
}

fn spawn<K>(i: Informer<K>) -> Store<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default,
{
    let store = i.store();
    tokio::spawn(i.run());
    store
}

/// Starts every informer; pods, nodes and namespaces update `shared`.
pub fn start(client: &kube::Client, informers: &SharedInformers, shared: &Shared) -> Listers {
    let priority_classes = spawn(informers.all::<PriorityClass>(client));

    let nodes = informers.all::<Node>(client);
    let s = shared.clone();
    nodes.on_change(move |c| on_node(&s, c));

    let namespaces = informers.all::<Namespace>(client);
    let s = shared.clone();
    namespaces.on_change(move |c| match c {
        Change::Applied { new, .. } => s.cache.lock().set_namespace(
            new.metadata.name.as_deref().unwrap_or_default(),
            new.metadata.labels.clone().unwrap_or_default(),
        ),
        Change::Deleted(ns) => s
            .cache
            .lock()
            .remove_namespace(ns.metadata.name.as_deref().unwrap_or_default()),
    });

    let pods = informers.all::<Pod>(client);
    let s = shared.clone();
    let classes = priority_classes.clone();
    pods.on_change(move |c| match c {
        Change::Applied { old, new } => on_pod(&s, &classes, old.as_deref(), new),
        Change::Deleted(pod) => on_pod_deleted(&s, pod),
    });

    let volumes = VolumeListers {
        claims: spawn(volume_events(
            informers.all::<PersistentVolumeClaim>(client),
            shared,
        )),
        volumes: spawn(volume_events(
            informers.all::<PersistentVolume>(client),
            shared,
        )),
        classes: spawn(volume_events(informers.all::<StorageClass>(client), shared)),
    };

    Listers {
        priority_classes,
        volumes,
        services: spawn(informers.all::<Service>(client)),
        replication_controllers: spawn(informers.all::<ReplicationController>(client)),
        replica_sets: spawn(informers.all::<ReplicaSet>(client)),
        stateful_sets: spawn(informers.all::<StatefulSet>(client)),
        pdbs: spawn(informers.all::<PodDisruptionBudget>(client)),
        nodes: spawn(nodes),
        namespaces: spawn(namespaces),
        ready: vec![spawn(pods)],
    }
}

/// Claim, volume and class changes may let pods waiting on VolumeBinding fit.
fn volume_events<K>(informer: Informer<K>, shared: &Shared) -> Informer<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default,
{
    let queue = shared.queue.clone();
    informer.on_change(move |_| queue.move_all(Plugin::VolumeBinding.bit()));
    informer
}

fn node_changed(old: &Node, new: &Node) -> bool {
    let spec = |n: &Node| n.spec.as_ref().map(|s| (s.taints.clone(), s.unschedulable));
    let alloc = |n: &Node| n.status.as_ref().and_then(|s| s.allocatable.clone());
    old.metadata.labels != new.metadata.labels || spec(old) != spec(new) || alloc(old) != alloc(new)
}

fn on_node(s: &Shared, change: &Change<Node>) {
    match change {
        Change::Applied { old, new } => {
            s.cache.lock().set_node(new.clone());
            if old.as_ref().is_none_or(|o| node_changed(o, new)) {
                s.queue.move_all(ANY);
            }
        }
        Change::Deleted(node) => s
            .cache
            .lock()
            .remove_node(node.metadata.name.as_deref().unwrap_or_default()),
    }
}

/// Whether `pod` is pending and ours to schedule.
pub fn is_ours(pod: &Pod, scheduler_name: &str) -> bool {
    let spec = pod.spec.as_ref();
    let name = spec
        .and_then(|s| s.scheduler_name.as_deref())
        .filter(|n| !n.is_empty())
        .unwrap_or(DEFAULT_SCHEDULER);
    name == scheduler_name && pod.metadata.deletion_timestamp.is_none() && !is_finished(pod)
}

fn is_finished(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded") | Some("Failed")
    )
}

fn assigned_node(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()?
        .node_name
        .as_deref()
        .filter(|n| !n.is_empty())
}

fn on_pod(s: &Shared, classes: &Store<PriorityClass>, old: Option<&Pod>, new: &Arc<Pod>) {
    let key = key_of(&new.metadata);
    let uid = new.metadata.uid.as_deref().unwrap_or_default();
    let Some(node) = assigned_node(new) else {
        if is_ours(new, &s.scheduler_name) {
            if !s.cache.lock().is_assumed(uid) {
                s.queue.add(new.clone(), pod_priority(new, classes));
            }
        } else {
            s.queue.delete(&key);
        }
        return;
    };
    s.queue.delete(&key);
    if is_finished(new) {
        let mut cache = s.cache.lock();
        let held = cache.pod_node(uid).is_some();
        cache.remove_pod(uid);
        drop(cache);
        if held {
            s.queue.move_all(POD_GONE);
        }
        return;
    }
    let moved = old
        .is_none_or(|o| assigned_node(o) != Some(node) || o.metadata.labels != new.metadata.labels);
    let pod = CachedPod::new(new.clone(), pod_priority(new, classes));
    s.cache.lock().add_pod(pod, node);
    if moved {
        s.queue.move_all(POD_PLACED);
    }
}

fn on_pod_deleted(s: &Shared, pod: &Arc<Pod>) {
    s.queue.delete(&key_of(&pod.metadata));
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    let mut cache = s.cache.lock();
    let held = cache.pod_node(uid).is_some();
    cache.remove_pod(uid);
    drop(cache);
    if held {
        s.queue.move_all(POD_GONE);
    }
}
