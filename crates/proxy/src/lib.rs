//! The Service data plane of a node (upstream's kube-proxy in nftables mode): watches
//! Services and EndpointSlices and keeps one nftables table in step with them. The first sync
//! writes the table whole; later ones send only what changed, each in a single transaction; a
//! clean shutdown removes the table.
#![forbid(unsafe_code)]

pub mod rules;
pub mod userspace;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::Api;
use kube::runtime::watcher;
use rules::{Endpoint, ServicePort};
use skiff_client::{Informer, Store};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

/// The label naming an EndpointSlice's Service.
const SERVICE_NAME: &str = "kubernetes.io/service-name";

/// Errors applying rules.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `nft` could not run.
    #[error("running nft (Debian package nftables): {0}")]
    Spawn(#[from] std::io::Error),
    /// `nft` refused the rules.
    #[error("nft refused the rules: {0}")]
    Refused(String),
}

/// Runs `nft -f -` with `script`.
pub async fn apply(script: &str) -> Result<(), Error> {
    let mut child = tokio::process::Command::new("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes()).await?;
    }
    let out = child.wait_with_output().await?;
    if !out.status.success() {
        return Err(Error::Refused(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(())
}

/// The ports the data plane of `node` serves, from Services and their slices' ready endpoints.
pub fn service_ports(
    services: &[Arc<Service>],
    slices: &Store<EndpointSlice>,
    node: &str,
) -> Vec<ServicePort> {
    let mut out = Vec::new();
    for svc in services {
        let Some(spec) = svc.spec.as_ref() else {
            continue;
        };
        let cluster_ip = spec.cluster_ip.as_deref().unwrap_or("");
        if spec.type_.as_deref() == Some("ExternalName")
            || cluster_ip.is_empty()
            || cluster_ip == "None"
        {
            continue;
        }
        let ns = svc.metadata.namespace.as_deref().unwrap_or_default();
        let name = svc.metadata.name.as_deref().unwrap_or_default();
        let mut ips: Vec<String> = spec.external_ips.clone().unwrap_or_default();
        ips.extend(
            svc.status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|l| l.ingress.as_ref())
                .into_iter()
                .flatten()
                .filter_map(|i| i.ip.clone()),
        );
        ips.retain(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok());
        if cluster_ip.parse::<std::net::Ipv4Addr>().is_err() {
            continue;
        }
        let affinity_timeout = (spec.session_affinity.as_deref() == Some("ClientIP")).then(|| {
            spec.session_affinity_config
                .as_ref()
                .and_then(|c| c.client_ip.as_ref())
                .and_then(|c| c.timeout_seconds)
                .map_or(10800, |t| t.max(1) as u32)
        });
        let mine: Vec<Arc<EndpointSlice>> = slices
            .in_namespace(ns)
            .into_iter()
            .filter(|s| {
                s.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(SERVICE_NAME))
                    .map(String::as_str)
                    == Some(name)
                    && s.address_type == "IPv4"
            })
            .collect();
        let node_ports = matches!(
            spec.type_.as_deref(),
            Some("NodePort") | Some("LoadBalancer")
        );
        for p in spec.ports.iter().flatten() {
            let port_name = p.name.clone().unwrap_or_default();
            let protocol = p.protocol.as_deref().unwrap_or("TCP").to_ascii_lowercase();
            let mut endpoints: BTreeMap<(String, u16), bool> = BTreeMap::new();
            for s in &mine {
                let Some(target) = s
                    .ports
                    .iter()
                    .flatten()
                    .find(|sp| sp.name.clone().unwrap_or_default() == port_name)
                    .and_then(|sp| sp.port)
                else {
                    continue;
                };
                for e in &s.endpoints {
                    // a missing condition means ready (the API's rule)
                    let ready = e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
                    if let (true, Some(ip)) = (ready, e.addresses.first()) {
                        let local = e.node_name.as_deref() == Some(node);
                        endpoints.insert((ip.clone(), target as u16), local);
                    }
                }
            }
            out.push(ServicePort {
                name: format!("{ns}/{name}:{port_name}"),
                protocol,
                cluster_ip: cluster_ip.to_string(),
                external_ips: ips.clone(),
                port: p.port as u16,
                node_port: p.node_port.filter(|_| node_ports).map(|n| n as u16),
                endpoints: endpoints
                    .into_iter()
                    .map(|((ip, port), local)| Endpoint { ip, port, local })
                    .collect(),
                internal_local: spec.internal_traffic_policy.as_deref() == Some("Local"),
                external_local: spec.external_traffic_policy.as_deref() == Some("Local"),
                affinity_timeout,
            });
        }
    }
    out
}

/// The rules of one table as last applied, so a sync sends only what changed.
pub struct Rules {
    table: String,
    /// What the kernel holds; `None` before the first sync and after a failed one, when the
    /// next sync writes the table whole.
    applied: Option<rules::Model>,
}

impl Rules {
    /// Rules for table `ip <table>`, not yet applied.
    pub fn new(table: &str) -> Self {
        Rules {
            table: table.to_string(),
            applied: None,
        }
    }

    /// The model serving `ports`, reusing the applied one's unchanged parts.
    pub fn model(&self, ports: &[ServicePort]) -> rules::Model {
        match &self.applied {
            Some(m) => m.rebuilt(ports),
            None => rules::Model::new(ports),
        }
    }

    /// The transaction that brings the table to `want` (empty when it is there already).
    pub fn script(&self, want: &rules::Model) -> String {
        match &self.applied {
            Some(old) => rules::changes(&self.table, old, want),
            None => rules::ruleset(&self.table, want),
        }
    }

    /// Applies `script` (from [`Rules::script`]), after which the table holds `want`.
    pub async fn apply(&mut self, script: &str, want: rules::Model) -> Result<(), Error> {
        if script.is_empty() {
            return Ok(());
        }
        match apply(script).await {
            Ok(()) => {
                self.applied = Some(want);
                Ok(())
            }
            Err(e) => {
                self.applied = None;
                Err(e)
            }
        }
    }
}

/// The proxy of one node, owning nftables table `ip <table>`.
pub struct Proxy {
    table: String,
    node: String,
    userspace: bool,
}

impl Proxy {
    /// The proxy of `node`, owning `table`.
    pub fn new(table: &str, node: &str) -> Self {
        Proxy {
            table: table.to_string(),
            node: node.to_string(),
            userspace: false,
        }
    }

    /// Relays in userspace instead of DNATing in the kernel (`--proxy-mode userspace`).
    pub fn userspace(mut self, on: bool) -> Self {
        self.userspace = on;
        self
    }

    /// Keeps the table in step with the cluster until dropped.
    pub async fn run(self, client: kube::Client) {
        let services = Informer::new(
            Api::<Service>::all(client.clone()),
            watcher::Config::default(),
        );
        let slices = Informer::new(
            Api::<EndpointSlice>::all(client),
            watcher::Config::default(),
        );
        let changed = Arc::new(Notify::new());
        let n = changed.clone();
        services.on_change(move |_| n.notify_one());
        let n = changed.clone();
        slices.on_change(move |_| n.notify_one());
        let (service_store, slice_store) = (services.store(), slices.store());
        tokio::spawn(services.run());
        tokio::spawn(slices.run());
        service_store.wait_ready().await;
        slice_store.wait_ready().await;
        if self.userspace {
            let mut relays = userspace::Relays::default();
            let mut last = String::new();
            loop {
                let ports = service_ports(&service_store.list(), &slice_store, &self.node);
                let script = relays.sync(&self.table, &ports).await;
                if script != last {
                    match apply(&script).await {
                        Ok(()) => last = script,
                        Err(e) => tracing::warn!(table = %self.table, "{e}"),
                    }
                }
                changed.notified().await;
            }
        }
        let mut rules = Rules::new(&self.table);
        loop {
            let ports = service_ports(&service_store.list(), &slice_store, &self.node);
            let want = rules.model(&ports);
            let script = rules.script(&want);
            let started = std::time::Instant::now();
            let failed = match rules.apply(&script, want).await {
                Ok(()) => {
                    if !script.is_empty() {
                        tracing::debug!(table = %self.table, ports = ports.len(), bytes = script.len(), took = ?started.elapsed(), "service rules synced");
                    }
                    false
                }
                Err(e) => {
                    tracing::warn!(table = %self.table, "{e}; writing the table whole");
                    true
                }
            };
            if failed {
                // retry soon even without a change: the whole table this time
                let _ = tokio::time::timeout(std::time::Duration::from_secs(1), changed.notified())
                    .await;
            } else {
                changed.notified().await;
            }
        }
    }

    /// Removes the table (a clean shutdown).
    pub async fn teardown(table: &str) {
        if let Err(e) = apply(&rules::teardown(table)).await {
            tracing::warn!(table, "removing the service rules: {e}");
        }
    }
}
