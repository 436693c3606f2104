//! The node agent for one real node: registers the Node and keeps its Lease, takes the pod
//! CIDR into the CNI configuration, runs the node's pods on the runtime with their volumes
//! and environment, notices container changes by relisting the runtime (as upstream's generic
//! PLEG), reports pod status and finishes graceful deletes.

pub mod cgroups;
pub mod env;
pub mod hooks;
pub mod objects;
pub mod pressure;
pub mod probe;
pub mod volumes;

use crate::node::{post_status, register, NodeConfig};
use crate::pod_state::PodRuntimeState;
use crate::pod_sync::{is_terminal_phase, ContainerSetup, PodSetup, PodSyncer};
use crate::report::{self, Written};
use crate::runtime::{
    ContainerFilter, PodSandboxFilter, Runtime, POD_NAMESPACE_LABEL, POD_NAME_LABEL, POD_UID_LABEL,
};
use crate::{status, NodeLease, StatusContext, Waiting};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::runtime::watcher;
use kube::Api;
use objects::Objects;
use parking_lot::Mutex;
use skiff_client::{key_of, Change, Informer, Store, WorkQueue};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Settings of the agent.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// What the node reports about itself.
    pub node: NodeConfig,
    /// The agent's data folder (`<data-dir>/agent`).
    pub agent_dir: PathBuf,
    /// Where the runtime reads CNI configuration.
    pub cni_conf_dir: PathBuf,
    /// The bridge pods attach to.
    pub cni_bridge: String,
    /// Concurrent pod workers.
    pub workers: usize,
    /// How often the runtime is relisted for container changes.
    pub relist_interval: Duration,
    /// How often the node status is posted.
    pub status_interval: Duration,
    /// The cluster CA (PEM): the kubelet API accepts client certificates it signed.
    pub ca_pem: String,
    /// Nameserver, search domains and options given to pods with `dnsPolicy: ClusterFirst`
    /// (none: the host's resolver settings).
    pub cluster_dns: Option<crate::runtime::DnsConfig>,
    /// Where the built-in local-path provisioner keeps volumes (none: it does not run).
    pub local_storage: Option<PathBuf>,
    /// Whether pods get cgroups by QoS class under `/kubepods` (cgroupfs driver).
    pub pod_cgroups: bool,
}

impl AgentConfig {
    /// Defaults for a node: 8 workers, 1 s relist, 10 s status.
    pub fn new(node: NodeConfig, agent_dir: PathBuf, cni_conf_dir: PathBuf) -> Self {
        AgentConfig {
            node,
            agent_dir,
            cni_conf_dir,
            cni_bridge: skiff_network::cni::BRIDGE.to_string(),
            workers: 8,
            relist_interval: Duration::from_secs(1),
            status_interval: Duration::from_secs(10),
            cluster_dns: None,
            ca_pem: String::new(),
            local_storage: None,
            pod_cgroups: false,
        }
    }

    fn pods_dir(&self) -> PathBuf {
        self.agent_dir.join("pods")
    }

    fn logs_dir(&self) -> PathBuf {
        self.agent_dir.join("logs/pods")
    }
}

/// Errors starting the agent.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Node could not be registered.
    #[error("registering the node: {0}")]
    Register(#[from] crate::node::Error),
    /// The kubelet API could not start.
    #[error("{0}")]
    Server(#[from] crate::server::Error),
    /// The runtime did not answer.
    #[error("runtime: {0}")]
    Runtime(#[from] crate::runtime::Error),
}

struct Inner {
    client: kube::Client,
    config: AgentConfig,
    runtime: Arc<dyn Runtime>,
    runtime_name: String,
    syncer: PodSyncer,
    objects: Objects,
    pods: Store<Pod>,
    nodes: Store<Node>,
    queue: WorkQueue<String>,
    /// Pod uid per key, for pods whose containers this node holds.
    owners: Mutex<HashMap<String, String>>,
    written: Written,
    pod_cidr: Mutex<Option<String>>,
    probes: probe::Probes,
}

/// A running agent; dropping it stops its tasks (containers keep running).
pub struct Agent {
    tasks: tokio::task::JoinSet<()>,
}

impl Agent {
    /// Registers the node and starts the agent's tasks.
    pub async fn start(
        client: kube::Client,
        runtime: Arc<dyn Runtime>,
        config: AgentConfig,
    ) -> Result<Agent, Error> {
        let version = runtime.version().await?;
        let mut config = config;
        config.node.container_runtime_version =
            format!("{}://{}", version.runtime_name, version.runtime_version);
        let name = config.node.name.clone();
        let nodes_api: Api<Node> = Api::all(client.clone());
        let node = loop {
            match register(&nodes_api, &config.node).await {
                Ok(n) => break n,
                Err(e) => {
                    tracing::warn!("{e}; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        let pod_informer = Informer::new(
            Api::<Pod>::all(client.clone()),
            watcher::Config::default().fields(&format!("spec.nodeName={name}")),
        );
        let node_informer = Informer::new(
            nodes_api.clone(),
            watcher::Config::default().fields(&format!("metadata.name={name}")),
        );
        let inner = Arc::new(Inner {
            client: client.clone(),
            runtime_name: version.runtime_name,
            syncer: PodSyncer::new(runtime.clone()),
            runtime,
            objects: Objects::new(client.clone()),
            pods: pod_informer.store(),
            nodes: node_informer.store(),
            queue: WorkQueue::new(),
            owners: Default::default(),
            written: Default::default(),
            pod_cidr: Mutex::new(None),
            probes: Default::default(),
            config,
        });
        let q = inner.queue.clone();
        pod_informer.on_change(move |c: &Change<Pod>| {
            // status-only updates (mostly our own writes) need no sync, as upstream's
            // kubelet ignores them
            if let Change::Applied {
                old: Some(old),
                new,
            } = c
            {
                if !wants_sync(old, new) {
                    return;
                }
            }
            q.add(key_of(&c.object().metadata))
        });
        let weak = Arc::downgrade(&inner);
        node_informer.on_change(move |c: &Change<Node>| {
            if let (Some(inner), Change::Applied { new, .. }) = (weak.upgrade(), c) {
                let node = new.clone();
                tokio::spawn(async move { inner.take_pod_cidr(&node).await });
            }
        });
        let kubelet_api = Arc::new(crate::server::KubeletApi {
            runtime: inner.runtime.clone(),
            pods: inner.pods.clone(),
            logs_dir: inner.config.logs_dir(),
        });
        let addr =
            std::net::SocketAddr::from(([0, 0, 0, 0], inner.config.node.kubelet_port as u16));
        let server = crate::server::serve(
            kubelet_api,
            addr,
            &inner.config.ca_pem,
            &name,
            &inner.config.node.internal_ip,
        )
        .await?;
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(server);
        tasks.spawn(pod_informer.run());
        tasks.spawn(node_informer.run());
        let lease = NodeLease::new(client, &name).owned_by(&node.metadata.uid.unwrap_or_default());
        tasks.spawn(lease.run(Duration::ZERO, crate::lease::RENEW_INTERVAL));
        tasks.spawn(heartbeat(inner.clone()));
        tasks.spawn(relist(inner.clone()));
        tasks.spawn(prober(inner.clone()));
        tasks.spawn(resync(inner.clone()));
        if let Some(root) = inner.config.local_storage.clone() {
            tasks.spawn(crate::local_path::LocalPath::run(
                inner.client.clone(),
                name.clone(),
                root,
            ));
        }
        for _ in 0..inner.config.workers.max(1) {
            tasks.spawn(worker(inner.clone()));
        }
        tracing::info!(node = %name, "node agent started");
        Ok(Agent { tasks })
    }

    /// Runs until the tasks end (they do not, short of a panic).
    pub async fn run(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Whether an update changes what the node does with a pod (spec, labels, annotations,
/// deletion) rather than only its status.
fn wants_sync(old: &Pod, new: &Pod) -> bool {
    let (a, b) = (&old.metadata, &new.metadata);
    a.uid != b.uid
        || a.deletion_timestamp != b.deletion_timestamp
        || a.deletion_grace_period_seconds != b.deletion_grace_period_seconds
        || a.labels != b.labels
        || a.annotations != b.annotations
        || old.spec != new.spec
        || (old.status.is_some() && new.status.is_none())
}

impl Inner {
    /// Hands a new pod CIDR to CNI and the runtime, then wakes every pod.
    async fn take_pod_cidr(&self, node: &Node) {
        let Some(cidr) = node
            .spec
            .as_ref()
            .and_then(|s| s.pod_cidr.clone())
            .filter(|c| !c.is_empty())
        else {
            return;
        };
        if self.pod_cidr.lock().as_deref() == Some(cidr.as_str()) {
            return;
        }
        let ipam = self.config.agent_dir.join("cni/ipam");
        if let Err(e) = skiff_network::cni::write_conflist(
            &self.config.cni_conf_dir,
            &cidr,
            &ipam,
            &self.config.cni_bridge,
        ) {
            tracing::error!("writing the CNI configuration: {e}");
            return;
        }
        if let Err(e) = self.runtime.update_runtime_config(&cidr).await {
            tracing::warn!("telling the runtime the pod CIDR: {e}");
        }
        tracing::info!(%cidr, "pod network configured");
        *self.pod_cidr.lock() = Some(cidr);
        for key in self.pods.keys() {
            self.queue.add(key);
        }
    }

    fn network_ready(&self) -> bool {
        self.pod_cidr.lock().is_some()
    }

    /// What the pod gets beyond its spec: volumes, environment, logs folder, resolver.
    /// Errors carry the waiting reason upstream shows: `ContainerCreating` while volumes
    /// cannot be set up, `CreateContainerConfigError` when the environment cannot be built.
    async fn setup(&self, pod: &Pod) -> Result<PodSetup, (&'static str, String)> {
        let m = &pod.metadata;
        let uid = m.uid.clone().unwrap_or_default();
        let vols = volumes::prepare(&self.objects, &self.config.pods_dir(), pod)
            .await
            .map_err(|e| ("ContainerCreating", e.to_string()))?;
        let node = env::NodeAllocatable {
            cpu: crate::status::qos::parse_quantity(&self.config.node.cpu).unwrap_or(1.0),
            memory: crate::status::qos::parse_quantity(&self.config.node.memory).unwrap_or(0.0),
        };
        let spec = pod.spec.clone().unwrap_or_default();
        let mut containers = HashMap::new();
        for c in spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
        {
            let envs = env::environment(&self.objects, pod, c, &self.config.node.internal_ip, node)
                .await
                .map_err(|e| ("CreateContainerConfigError", e.0))?;
            let mounts = volumes::mounts(c, &vols)
                .map_err(|e| ("CreateContainerConfigError", e.to_string()))?;
            containers.insert(c.name.clone(), ContainerSetup { envs, mounts });
        }
        let log_directory = self.config.logs_dir().join(format!(
            "{}_{}_{uid}",
            m.namespace.as_deref().unwrap_or("default"),
            m.name.as_deref().unwrap_or_default()
        ));
        let _ = std::fs::create_dir_all(&log_directory);
        Ok(PodSetup {
            log_directory: log_directory.display().to_string(),
            cgroup_parent: if self.config.pod_cgroups {
                let qos = crate::status::qos::qos_class(&spec);
                cgroups::pod_parent(qos, &uid)
            } else {
                String::new()
            },
            dns: self.dns(pod),
            containers,
        })
    }

    /// Removes what a pod whose containers are gone leaves on the node: volume folders and
    /// cgroups.
    async fn cleanup(&self, uid: &str) {
        volumes::cleanup(&self.config.pods_dir(), uid).await;
        if self.config.pod_cgroups {
            cgroups::remove_pod(uid);
        }
    }

    /// Resolver settings per dnsPolicy and dnsConfig (as upstream).
    fn dns(&self, pod: &Pod) -> Option<crate::runtime::DnsConfig> {
        pod_dns(self.config.cluster_dns.as_ref(), pod)
    }

    /// Syncs one pod key; returns when to sync it again.
    async fn sync(&self, key: &str) -> Result<Option<Duration>, String> {
        let pod = self.pods.get(key);
        let uid = pod.as_ref().and_then(|p| p.metadata.uid.clone());
        let previous = self.owners.lock().get(key).cloned();
        if let Some(prev) = previous.filter(|p| Some(p) != uid.as_ref()) {
            // the pod is gone or replaced under the same name: its old containers go
            self.syncer
                .terminate(&prev, Duration::from_secs(2))
                .await
                .map_err(|e| e.to_string())?;
            self.cleanup(&prev).await;
            self.owners.lock().remove(key);
            self.written.lock().remove(key);
        }
        let Some(pod) = pod else { return Ok(None) };
        let uid = uid.unwrap_or_default();
        if pod.metadata.deletion_timestamp.is_some() {
            let grace = pod
                .metadata
                .deletion_grace_period_seconds
                .unwrap_or(30)
                .max(0) as u64;
            self.syncer
                .terminate_pod(&pod, Duration::from_secs(grace))
                .await
                .map_err(|e| e.to_string())?;
            self.cleanup(&uid).await;
            self.owners.lock().remove(key);
            report::delete_stopped(&self.client, &pod)
                .await
                .map_err(|e| e.to_string())?;
            self.written.lock().remove(key);
            return Ok(None);
        }
        let host_network = pod
            .spec
            .as_ref()
            .and_then(|s| s.host_network)
            .unwrap_or(false);
        if !host_network && !self.network_ready() {
            return Ok(None);
        }
        self.owners.lock().insert(key.to_string(), uid.clone());
        let mut waiting_for_setup = HashMap::new();
        let result = if is_terminal_phase(&pod) {
            self.syncer.sync(&pod).await
        } else {
            match self.setup(&pod).await {
                Ok(setup) => self.syncer.sync_with(&pod, &setup).await,
                Err((reason, message)) => {
                    tracing::debug!(pod = %key, "{message}");
                    for c in pod.spec.iter().flat_map(|s| s.containers.iter()) {
                        waiting_for_setup.insert(
                            c.name.clone(),
                            Waiting {
                                reason: reason.to_string(),
                                message: message.clone(),
                            },
                        );
                    }
                    let state = PodRuntimeState::read(&*self.runtime, &uid)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok(crate::SyncResult {
                        state,
                        waiting: waiting_for_setup,
                        requeue_after: Some(Duration::from_secs(2)),
                    })
                }
            }
        };
        let result = match result {
            Ok(r) => r,
            Err(crate::runtime::Error::NetworkNotReady(m)) => {
                tracing::debug!(pod = %key, "network not ready: {m}");
                return Ok(Some(Duration::from_secs(1)));
            }
            Err(e) => return Err(e.to_string()),
        };
        let (mut readiness, mut started) = (HashMap::new(), HashMap::new());
        for c in probe::probed(&pod) {
            if let Some(run) = result.state.attempts(&c.name).first() {
                readiness.insert(c.name.clone(), self.probes.ready(&run.id, c));
                started.insert(c.name.clone(), self.probes.started(&run.id, c));
            }
        }
        let ctx = StatusContext {
            host_ip: &self.config.node.internal_ip,
            runtime_name: &self.runtime_name,
            waiting: &result.waiting,
            readiness: &readiness,
            started: &started,
            now: k8s_openapi::jiff::Timestamp::now(),
        };
        let status = status::pod_status(&pod, &result.state, &ctx);
        report::write_status(&self.client, key, &pod, status, &self.written)
            .await
            .map_err(|e| e.to_string())?;
        Ok(result.requeue_after)
    }
}

async fn worker(inner: Arc<Inner>) {
    loop {
        let key = inner.queue.next().await;
        match inner.sync(&key).await {
            Ok(requeue) => {
                inner.queue.forget(&key);
                if let Some(after) = requeue {
                    inner.queue.add_after(key.clone(), after);
                }
            }
            Err(e) => {
                tracing::warn!(pod = %key, "sync failed, retrying: {e}");
                inner.queue.add_rate_limited(key.clone());
            }
        }
        inner.queue.done(&key);
    }
}

/// How often every pod is synced even if nothing announced a change (ConfigMap and Secret
/// volumes pick up updates this way).
const RESYNC_INTERVAL: Duration = Duration::from_secs(10);

async fn resync(inner: Arc<Inner>) {
    loop {
        tokio::time::sleep(RESYNC_INTERVAL).await;
        for key in inner.pods.keys() {
            inner.queue.add(key);
        }
    }
}

/// Posts the node status every interval.
async fn heartbeat(inner: Arc<Inner>) {
    let api: Api<Node> = Api::all(inner.client.clone());
    loop {
        tokio::time::sleep(inner.config.status_interval).await;
        let old = inner.nodes.get(&inner.config.node.name);
        let mut node = inner.config.node.clone();
        node.pressure = pressure::measure(&inner.config.agent_dir);
        if let Err(e) = post_status(&api, &node, old.as_deref()).await {
            tracing::warn!("posting node status: {e}");
        }
    }
}

/// Relists the runtime: pods whose containers changed state are synced; sandboxes of pods
/// this node no longer has are stopped and removed.
async fn relist(inner: Arc<Inner>) {
    let mut last: HashMap<String, u64> = HashMap::new();
    loop {
        tokio::time::sleep(inner.config.relist_interval).await;
        let containers = match inner
            .runtime
            .list_containers(&ContainerFilter::default())
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!("relisting containers: {e}");
                continue;
            }
        };
        let mut now: HashMap<String, (u64, String)> = HashMap::new();
        for c in &containers {
            let (Some(ns), Some(name)) = (
                c.labels.get(POD_NAMESPACE_LABEL),
                c.labels.get(POD_NAME_LABEL),
            ) else {
                continue;
            };
            let uid = c.labels.get(POD_UID_LABEL).cloned().unwrap_or_default();
            let e = now
                .entry(uid)
                .or_insert_with(|| (0, format!("{ns}/{name}")));
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hash::hash(&(&c.id, c.state as u8), &mut h);
            e.0 = e.0.wrapping_add(std::hash::Hasher::finish(&h));
        }
        for (uid, (h, key)) in &now {
            if last.get(uid) != Some(h) {
                inner.queue.add(key.clone());
            }
        }
        last = now.into_iter().map(|(u, (h, _))| (u, h)).collect();
        if inner.pods.is_ready() {
            remove_orphans(&inner).await;
        }
    }
}

async fn remove_orphans(inner: &Inner) {
    let Ok(sandboxes) = inner
        .runtime
        .list_pod_sandboxes(&PodSandboxFilter::default())
        .await
    else {
        return;
    };
    let known: HashSet<String> = inner
        .pods
        .list()
        .iter()
        .filter_map(|p| p.metadata.uid.clone())
        .collect();
    let owned: HashSet<String> = inner.owners.lock().values().cloned().collect();
    let orphans: HashSet<String> = sandboxes
        .iter()
        .filter_map(|s| s.labels.get(POD_UID_LABEL).cloned())
        .filter(|uid| !known.contains(uid) && !owned.contains(uid))
        .collect();
    for uid in orphans {
        tracing::info!(%uid, "removing the containers of a pod this node no longer runs");
        if let Err(e) = inner.syncer.terminate(&uid, Duration::from_secs(2)).await {
            tracing::warn!(%uid, "removing orphaned pod: {e}");
        }
        inner.cleanup(&uid).await;
    }
}

/// Runs due probes every half second; results wake the pod, failures kill containers.
async fn prober(inner: Arc<Inner>) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let pods: Vec<Arc<Pod>> = inner
            .pods
            .list()
            .into_iter()
            .filter(|p| {
                p.metadata.deletion_timestamp.is_none() && probe::probed(p).next().is_some()
            })
            .collect();
        let mut live = HashSet::new();
        for pod in pods {
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            let Ok(state) = PodRuntimeState::read(&*inner.runtime, &uid).await else {
                continue;
            };
            let ip = state
                .sandbox
                .as_ref()
                .and_then(|s| s.ip.clone())
                .unwrap_or_else(|| inner.config.node.internal_ip.clone());
            for c in probe::probed(&pod) {
                let Some(run) = state.attempts(&c.name).first().map(|r| (*r).clone()) else {
                    continue;
                };
                live.insert(run.id.clone());
                for (kind, p) in inner.probes.due(&run, c, tokio::time::Instant::now()) {
                    let (inner, c, ip, run, pod) = (
                        inner.clone(),
                        c.clone(),
                        ip.clone(),
                        run.clone(),
                        pod.clone(),
                    );
                    tokio::spawn(async move {
                        let result = probe::run(&inner.runtime, &p, &run.id, &c, &ip).await;
                        if let Err(m) = &result {
                            tracing::debug!(pod = %key_of(&pod.metadata), container = %c.name, "{kind:?} probe failed: {m}");
                        }
                        match inner.probes.record(&run.id, kind, &p, result) {
                            probe::Outcome::Same => {}
                            probe::Outcome::Changed => inner.queue.add(key_of(&pod.metadata)),
                            probe::Outcome::Kill(why) => {
                                tracing::info!(pod = %key_of(&pod.metadata), container = %c.name, "{why}; restarting the container");
                                let grace = p
                                    .termination_grace_period_seconds
                                    .or_else(|| {
                                        pod.spec
                                            .as_ref()
                                            .and_then(|s| s.termination_grace_period_seconds)
                                    })
                                    .unwrap_or(30)
                                    .max(0) as u64;
                                if let Err(e) = inner
                                    .runtime
                                    .stop_container(&run.id, Duration::from_secs(grace))
                                    .await
                                {
                                    tracing::warn!("killing {}: {e}", run.id);
                                }
                                inner.queue.add(key_of(&pod.metadata));
                            }
                        }
                    });
                }
            }
        }
        inner.probes.retain(&live);
    }
}

/// The resolver settings of `pod` per its dnsPolicy and dnsConfig (as upstream), given the
/// cluster DNS settings (none without cluster DNS); `None`: the host's.
fn pod_dns(
    cluster_dns: Option<&crate::runtime::DnsConfig>,
    pod: &Pod,
) -> Option<crate::runtime::DnsConfig> {
    let spec = pod.spec.as_ref()?;
    let host_network = spec.host_network.unwrap_or(false);
    let policy = spec.dns_policy.as_deref().unwrap_or("ClusterFirst");
    let mut dns = match (policy, cluster_dns) {
        ("None", _) => crate::runtime::DnsConfig::default(),
        // ClusterFirst on the host's network falls back to the host's resolvers (Default)
        ("ClusterFirstWithHostNet", Some(c)) | ("ClusterFirst", Some(c))
            if policy == "ClusterFirstWithHostNet" || !host_network =>
        {
            let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
            let mut c = c.clone();
            c.searches.insert(0, format!("{ns}.svc.cluster.local"));
            c
        }
        _ if spec.dns_config.is_none() => return None,
        _ => crate::runtime::DnsConfig::default(),
    };
    if let Some(extra) = &spec.dns_config {
        dns.servers
            .extend(extra.nameservers.iter().flatten().cloned());
        dns.searches
            .extend(extra.searches.iter().flatten().cloned());
        for o in extra.options.iter().flatten() {
            let name = o.name.clone().unwrap_or_default();
            dns.options
                .retain(|x| x.split(':').next() != Some(name.as_str()));
            dns.options.push(match &o.value {
                Some(v) => format!("{name}:{v}"),
                None => name,
            });
        }
    }
    Some(dns)
}

#[cfg(test)]
mod dns_tests {
    use super::*;
    use crate::runtime::DnsConfig;

    fn cluster() -> DnsConfig {
        DnsConfig {
            servers: vec!["10.43.0.10".into()],
            searches: vec!["svc.cluster.local".into(), "cluster.local".into()],
            options: vec!["ndots:5".into()],
        }
    }

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "team"},
            "spec": spec,
        }))
        .unwrap()
    }

    #[test]
    fn policies_pick_cluster_or_host_resolvers_and_dns_config_merges() {
        let c = cluster();
        let first = pod_dns(Some(&c), &pod(serde_json::json!({"containers": []}))).unwrap();
        assert_eq!(first.servers, ["10.43.0.10"]);
        assert_eq!(
            first.searches,
            [
                "team.svc.cluster.local",
                "svc.cluster.local",
                "cluster.local"
            ]
        );
        // ClusterFirst on the host network: the host's resolvers; WithHostNet: the cluster's
        let host = |policy: &str| {
            pod(serde_json::json!({"containers": [], "hostNetwork": true, "dnsPolicy": policy}))
        };
        assert_eq!(pod_dns(Some(&c), &host("ClusterFirst")), None);
        assert_eq!(
            pod_dns(Some(&c), &host("ClusterFirstWithHostNet")),
            Some(first.clone())
        );
        assert_eq!(pod_dns(Some(&c), &host("Default")), None);
        // no cluster DNS (no proxy on this node): the host's
        assert_eq!(
            pod_dns(None, &pod(serde_json::json!({"containers": []}))),
            None
        );
        // None takes dnsConfig alone; options override by name
        let none = pod_dns(
            Some(&c),
            &pod(
                serde_json::json!({"containers": [], "dnsPolicy": "None", "dnsConfig": {
                "nameservers": ["192.0.2.53"], "searches": ["example.test"],
                "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}}),
            ),
        )
        .unwrap();
        assert_eq!(none.servers, ["192.0.2.53"]);
        assert_eq!(none.searches, ["example.test"]);
        assert_eq!(none.options, ["ndots:2", "edns0"]);
        let merged = pod_dns(
            Some(&c),
            &pod(serde_json::json!({"containers": [], "dnsConfig": {
                "options": [{"name": "ndots", "value": "1"}]}})),
        )
        .unwrap();
        assert_eq!(merged.options, ["ndots:1"]);
        assert_eq!(merged.servers, ["10.43.0.10"]);
    }
}
