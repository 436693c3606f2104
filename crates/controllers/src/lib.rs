//! The controllers that keep desired state, each a client of the API through kube-rs:
//! workloads, garbage collection, namespaces, nodes, service accounts, disruption budgets,
//! quotas, persistent volumes and Service endpoints. All share one set of informers and are
//! level-triggered (key queues).

pub mod claim;
pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpoints;
pub mod error;
pub mod expectations;
pub mod garbage_collector;
pub mod history;
pub mod informers;
pub mod job;
pub mod namespace;
pub mod node_ipam;
pub mod node_lifecycle;
pub mod pod_events;
pub mod pods;
pub mod replicaset;
pub mod resource_quota;
pub mod selector;
pub mod service_account;
pub mod service_lb;
pub mod statefulset;
pub mod volume;

pub use informers::Informers;

use skiff_client::EventRecorder;

/// What every controller gets: the API client.
#[derive(Clone)]
pub struct Context {
    /// The controllers' API client.
    pub client: kube::Client,
    /// Controller settings.
    pub config: Config,
}

impl Context {
    /// An event recorder reporting as `component`.
    pub fn recorder(&self, component: &str) -> EventRecorder {
        EventRecorder::new(self.client.clone(), component)
    }
}

/// Controller settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// How long a node may be silent before it is marked Unknown (default 40 s).
    pub node_monitor_grace_period: Option<std::time::Duration>,
    /// The range node pod CIDRs are carved from.
    pub cluster_cidr: String,
    /// The prefix length of each node's pod CIDR.
    pub node_cidr_mask_size: u8,
    /// Where the informers come from (shared with other control loops in the process).
    pub informers: skiff_client::SharedInformers,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            node_monitor_grace_period: None,
            cluster_cidr: "10.42.0.0/16".into(),
            node_cidr_mask_size: 24,
            informers: Default::default(),
        }
    }
}

/// Runs every controller until the future is dropped.
pub async fn run(client: kube::Client, config: Config) {
    let ctx = Context {
        client: client.clone(),
        config,
    };
    let informers = Informers::new(&client, &ctx.config.informers);
    let replica_sets = replicaset::ReplicaSetController::new(&ctx, &informers);
    let replication_controllers = replicaset::ReplicationManager::new(&ctx, &informers);
    let deployments = deployment::DeploymentController::new(&ctx, &informers);
    let daemon_sets = daemonset::DaemonSetController::new(&ctx, &informers);
    let stateful_sets = statefulset::StatefulSetController::new(&ctx, &informers);
    let jobs = job::JobController::new(&ctx, &informers);
    let cron_jobs = cronjob::CronJobController::new(&ctx, &informers);
    let garbage_collector = garbage_collector::GarbageCollector::new(&ctx, &informers);
    let namespaces = namespace::NamespaceController::new(&ctx, &informers);
    let node_ipam = node_ipam::NodeIpamController::new(&ctx, &informers);
    let node_lifecycle = node_lifecycle::NodeLifecycleController::new(&ctx, &informers);
    let service_accounts = service_account::ServiceAccountController::new(&ctx, &informers);
    let disruption = disruption::DisruptionController::new(&ctx, &informers);
    let resource_quota = resource_quota::ResourceQuotaController::new(&ctx, &informers);
    let volumes = volume::VolumeController::new(&ctx, &informers);
    let endpoints = endpoints::EndpointsController::new(&ctx, &informers);
    let service_lb = service_lb::ServiceLbController::new(&ctx, &informers);
    informers.start().await;
    tracing::info!("controller caches loaded; starting controllers");
    replica_sets.start();
    replication_controllers.start();
    deployments.start();
    daemon_sets.start();
    stateful_sets.start();
    jobs.start();
    cron_jobs.start();
    garbage_collector.start();
    namespaces.start();
    node_ipam.start();
    node_lifecycle.start();
    service_accounts.start();
    disruption.start();
    resource_quota.start();
    volumes.start();
    endpoints.start();
    service_lb.start();
    futures::future::pending::<()>().await;
}
