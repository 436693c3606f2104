//! The informers every controller shares: one watch per resource type for the whole process.

use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    Endpoints, LimitRange, Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod,
    ReplicationController, ResourceQuota, Service, ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use serde::de::DeserializeOwned;
use skiff_client::{Informer, SharedInformers, Store};
use std::fmt::Debug;

/// Index of objects by the uid of their controlling owner.
pub const CONTROLLER_INDEX: &str = "controller";
/// Index of pods by `spec.nodeName`.
pub const NODE_INDEX: &str = "node";
/// Index of objects with no controlling owner, by namespace.
pub const ORPHAN_INDEX: &str = "orphan";

/// The uid of the controlling owner reference, if any.
pub fn controller_uid(meta: &ObjectMeta) -> Option<&str> {
    meta.owner_references
        .as_deref()?
        .iter()
        .find(|r| r.controller == Some(true))
        .map(|r| r.uid.as_str())
}

/// The `namespace/name` key of the controlling owner of `meta` if that owner is a `kind`.
pub fn controller_key(meta: &ObjectMeta, kind: &str) -> Option<String> {
    let owner = meta
        .owner_references
        .as_deref()?
        .iter()
        .find(|r| r.controller == Some(true))?;
    if owner.kind != kind {
        return None;
    }
    Some(match meta.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{}", owner.name),
        _ => owner.name.clone(),
    })
}

fn informer<K>(client: &kube::Client, shared: &SharedInformers) -> Informer<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let informer = shared.all::<K>(client);
    informer.add_index(CONTROLLER_INDEX, |o: &K| {
        controller_uid(o.meta())
            .map(str::to_string)
            .into_iter()
            .collect()
    });
    informer.add_index(ORPHAN_INDEX, |o: &K| match controller_uid(o.meta()) {
        Some(_) => Vec::new(),
        None => vec![o.meta().namespace.clone().unwrap_or_default()],
    });
    informer
}

/// Every informer the controllers use; controllers register handlers, then [`Informers::start`].
pub struct Informers {
    /// Pods (indexed by controller and node).
    pub pods: Informer<Pod>,
    /// Nodes.
    pub nodes: Informer<Node>,
    /// Namespaces.
    pub namespaces: Informer<Namespace>,
    /// ReplicaSets.
    pub replica_sets: Informer<ReplicaSet>,
    /// ReplicationControllers.
    pub replication_controllers: Informer<ReplicationController>,
    /// Deployments.
    pub deployments: Informer<Deployment>,
    /// DaemonSets.
    pub daemon_sets: Informer<DaemonSet>,
    /// StatefulSets.
    pub stateful_sets: Informer<StatefulSet>,
    /// ControllerRevisions.
    pub controller_revisions: Informer<ControllerRevision>,
    /// Jobs.
    pub jobs: Informer<Job>,
    /// CronJobs.
    pub cron_jobs: Informer<CronJob>,
    /// PodDisruptionBudgets.
    pub pod_disruption_budgets: Informer<PodDisruptionBudget>,
    /// PersistentVolumeClaims.
    pub persistent_volume_claims: Informer<PersistentVolumeClaim>,
    /// PersistentVolumes.
    pub persistent_volumes: Informer<PersistentVolume>,
    /// StorageClasses.
    pub storage_classes: Informer<StorageClass>,
    /// Services.
    pub services: Informer<Service>,
    /// Endpoints.
    pub endpoints: Informer<Endpoints>,
    /// EndpointSlices.
    pub endpoint_slices: Informer<EndpointSlice>,
    /// ServiceAccounts.
    pub service_accounts: Informer<ServiceAccount>,
    /// ResourceQuotas.
    pub resource_quotas: Informer<ResourceQuota>,
    /// LimitRanges.
    pub limit_ranges: Informer<LimitRange>,
    /// Leases (node heartbeats live in `kube-node-lease`).
    pub leases: Informer<Lease>,
}

impl Informers {
    /// Informers over `client`, not yet running.
    pub fn new(client: &kube::Client, shared: &SharedInformers) -> Self {
        let pods = informer::<Pod>(client, shared);
        pods.add_index(NODE_INDEX, |p: &Pod| {
            p.spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .filter(|n| !n.is_empty())
                .into_iter()
                .collect()
        });
        Informers {
            pods,
            nodes: informer(client, shared),
            namespaces: informer(client, shared),
            replica_sets: informer(client, shared),
            replication_controllers: informer(client, shared),
            deployments: informer(client, shared),
            daemon_sets: informer(client, shared),
            stateful_sets: informer(client, shared),
            controller_revisions: informer(client, shared),
            jobs: informer(client, shared),
            cron_jobs: informer(client, shared),
            pod_disruption_budgets: informer(client, shared),
            persistent_volume_claims: informer(client, shared),
            persistent_volumes: informer(client, shared),
            storage_classes: informer(client, shared),
            services: informer(client, shared),
            endpoints: informer(client, shared),
            endpoint_slices: informer(client, shared),
            service_accounts: informer(client, shared),
            resource_quotas: informer(client, shared),
            limit_ranges: informer(client, shared),
            leases: informer(client, shared),
        }
    }

    /// Starts every watch and waits until each has loaded its first list.
    pub async fn start(self) {
        let mut ready: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>> =
            Vec::new();
        macro_rules! start {
            ($($f:ident),*) => {$(
                let store = self.$f.store();
                ready.push(Box::pin(async move { store.wait_ready().await }));
                tokio::spawn(self.$f.run());
            )*};
        }
        start!(
            pods,
            nodes,
            namespaces,
            replica_sets,
            replication_controllers,
            deployments,
            daemon_sets,
            stateful_sets,
            controller_revisions,
            jobs,
            cron_jobs,
            pod_disruption_budgets,
            persistent_volume_claims,
            persistent_volumes,
            storage_classes,
            services,
            endpoints,
            endpoint_slices,
            service_accounts,
            resource_quotas,
            limit_ranges,
            leases
        );
        futures::future::join_all(ready).await;
    }
}

/// Objects in `store` controlled by the object with `uid`.
pub fn controlled_by<K>(store: &Store<K>, uid: &str) -> Vec<std::sync::Arc<K>> {
    store.by_index(CONTROLLER_INDEX, uid)
}
