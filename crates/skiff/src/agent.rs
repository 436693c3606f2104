//! `skiff agent` (and the local agent of `skiff server`): join with the node token, find or
//! start containerd, import the pause image and air-gap tarballs, and run the node agent.

use anyhow::{bail, Context, Result};
use skiff_kubelet::agent::{Agent, AgentConfig};
use skiff_kubelet::containerd::{Containerd, SNAPSHOTTER};
use skiff_kubelet::cri::CriRuntime;
use skiff_kubelet::NodeConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Flags of `skiff agent`.
#[derive(clap::Args)]
pub struct AgentArgs {
    /// The API server to join, e.g. https://10.0.0.1:6443.
    #[arg(long, env = "SKIFF_SERVER")]
    pub server: String,
    /// The server's node token (its `<data-dir>/node-token`).
    #[arg(long, env = "SKIFF_TOKEN")]
    pub token: String,
    /// Folder for the agent's state (containerd, pod volumes, logs, credentials).
    #[arg(long, env = "SKIFF_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub node: NodeArgs,
}

/// Flags every agent takes (also `skiff server`'s local agent).
#[derive(clap::Args, Clone)]
pub struct NodeArgs {
    /// The node's name (default: the hostname).
    #[arg(long)]
    pub node_name: Option<String>,
    /// The node's IP (default: the first global IPv4 address).
    #[arg(long)]
    pub node_ip: Option<String>,
    /// A CRI socket to use instead of finding or starting containerd.
    #[arg(long)]
    pub container_runtime_endpoint: Option<PathBuf>,
    /// Start a containerd of this agent's own even when one answers at
    /// /run/containerd/containerd.sock (needed when several nodes share a host, each in its own
    /// network namespace).
    #[arg(long)]
    pub own_containerd: bool,
    /// Registry mirrors, TLS and credentials (k3s `registries.yaml` format).
    #[arg(long, default_value = "/etc/skiff/registries.yaml")]
    pub private_registry: PathBuf,
    /// The Linux bridge pods attach to (distinct per agent when several share a host).
    #[arg(long, default_value = skiff_network::cni::BRIDGE)]
    pub cni_bridge: String,
    /// Pods synced at once (upstream runs one worker per pod; containerd does the heavy lifting).
    #[arg(long, default_value_t = 32)]
    pub pod_workers: usize,
    /// Port of the kubelet API (logs, exec, attach, port-forward for the API server).
    #[arg(long, default_value_t = 10250)]
    pub kubelet_port: u16,
    /// How pods reach pods on other nodes: `vxlan` (an overlay like flannel's) or `none`.
    /// Nodes whose IP is a loopback address never use the overlay.
    #[arg(long, default_value = "vxlan", value_parser = ["vxlan", "none"])]
    pub flannel_backend: String,
    /// How Services reach their endpoints: `nftables` (DNAT in the kernel) or `userspace`
    /// (the agent relays every connection; nftables only redirects to it).
    #[arg(long, default_value = "nftables", value_parser = ["nftables", "userspace"])]
    pub proxy_mode: String,
    /// Do not program Services into nftables on this node (k3s's flag name).
    #[arg(long)]
    pub disable_kube_proxy: bool,
    /// Pods get cgroups by QoS class under `/kubepods` (as upstream's kubelet flag).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub cgroups_per_qos: bool,
    /// Where the built-in local-path provisioner creates volumes (default: `<data-dir>/storage`).
    #[arg(long)]
    pub default_local_storage_path: Option<PathBuf>,
}

/// The node's IP: the first global IPv4 address, else loopback.
fn default_node_ip() -> String {
    skiff_apiserver::bootstrap::host_ipv4().to_string()
}

impl NodeArgs {
    /// The node name, lower-cased as node names must be.
    pub fn name(&self) -> String {
        self.node_name
            .clone()
            .unwrap_or_else(crate::hostname)
            .to_lowercase()
    }
}

/// A running agent with the containerd it uses.
pub struct RunningAgent {
    containerd: Containerd,
    task: tokio::task::JoinHandle<()>,
    proxy: Option<(String, tokio::task::JoinHandle<()>)>,
    dns: Option<tokio::task::JoinHandle<()>>,
    overlay: Option<tokio::task::JoinHandle<()>>,
}

impl RunningAgent {
    /// Stops the agent, removes its Service rules, and stops containerd if the agent started
    /// it (containers keep running).
    pub async fn stop(mut self) {
        self.task.abort();
        if let Some(dns) = self.dns.take() {
            dns.abort();
        }
        if let Some(overlay) = self.overlay.take() {
            overlay.abort();
            skiff_network::overlay::Overlay::teardown().await;
        }
        if let Some((table, task)) = self.proxy.take() {
            task.abort();
            skiff_proxy::Proxy::teardown(&table).await;
        }
        self.containerd.stop().await;
    }
}

/// Serves cluster DNS on this node's pod gateway once the node has a pod CIDR, and adds the
/// node to the `kube-dns` Service with an EndpointSlice of its own.
async fn cluster_dns(client: kube::Client, node: String) {
    use k8s_openapi::api::core::v1::Node;
    use k8s_openapi::api::discovery::v1::EndpointSlice;
    let nodes: kube::Api<Node> = kube::Api::all(client.clone());
    let gateway = loop {
        let cidr = nodes
            .get_opt(&node)
            .await
            .ok()
            .flatten()
            .and_then(|n| n.spec?.pod_cidr);
        if let Some(gw) = cidr.and_then(|c| skiff_network::cni::gateway(&c).ok()) {
            break gw;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    let slices: kube::Api<EndpointSlice> = kube::Api::namespaced(client.clone(), "kube-system");
    let slice: EndpointSlice = match serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("kube-dns-{node}"), "namespace": "kube-system",
            "labels": {"kubernetes.io/service-name": "kube-dns",
                       "endpointslice.kubernetes.io/managed-by": "skiff-agent"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [gateway.to_string()], "nodeName": node,
                       "conditions": {"ready": true}}],
        "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                  {"name": "dns-tcp", "port": 53, "protocol": "TCP"}],
    })) {
        Ok(s) => s,
        Err(e) => return tracing::warn!("cluster DNS slice: {e}"),
    };
    let name = format!("kube-dns-{node}");
    let params = kube::api::PatchParams::apply("skiff-agent").force();
    if let Err(e) = slices
        .patch(&name, &params, &kube::api::Patch::Apply(&slice))
        .await
    {
        tracing::warn!("registering this node's cluster DNS: {e}");
    }
    let addr = std::net::SocketAddr::from((gateway, 53));
    if let Err(e) = skiff_dns::serve(client, addr).await {
        tracing::warn!("cluster DNS: {e}");
    }
}

/// The nftables table of the agent keeping `agent_dir` (distinct per agent on one host).
fn proxy_table(agent_dir: &Path) -> String {
    let layout = skiff_kubelet::containerd::Layout::new(agent_dir);
    let id = layout
        .socket
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    format!("skiff-proxy-{id}")
}

/// Imports the pause image and every tarball in `<agent>/images`.
async fn import_images(containerd: &Containerd, agent_dir: &Path) -> Result<()> {
    let started = std::time::Instant::now();
    let scratch = agent_dir.join("tmp");
    std::fs::create_dir_all(&scratch)?;
    skiff_kubelet::image::import_pause(&containerd.socket, &scratch, SNAPSHOTTER)
        .await
        .context("importing the pause image")?;
    let n = skiff_kubelet::image::import_dir(
        &containerd.socket,
        &agent_dir.join("images"),
        SNAPSHOTTER,
    )
    .await
    .context("importing images")?;
    tracing::info!(
        "imported the pause image and {n} tarball(s) from {} in {} ms",
        agent_dir.join("images").display(),
        started.elapsed().as_millis()
    );
    Ok(())
}

/// Starts the node agent with `client` as its identity.
pub async fn start(
    client: kube::Client,
    data_dir: &Path,
    ca_pem: &str,
    args: &NodeArgs,
) -> Result<RunningAgent> {
    let agent_dir = data_dir.join("agent");
    std::fs::create_dir_all(&agent_dir)
        .with_context(|| format!("creating {}", agent_dir.display()))?;
    let registries = skiff_kubelet::registries::Registries::load(&args.private_registry)?;
    // written before containerd starts; it reads them at every pull
    registries.write_hosts(&skiff_kubelet::containerd::Layout::new(&agent_dir).registry_dir)?;
    let containerd = Containerd::find_or_start(
        &agent_dir,
        args.container_runtime_endpoint.as_deref(),
        !args.own_containerd,
    )
    .await?;
    if containerd.registry_dir.is_none() && registries != Default::default() {
        tracing::warn!(
            "mirrors and TLS settings of {} apply only to a containerd this agent starts; credentials still apply",
            args.private_registry.display()
        );
    }
    import_images(&containerd, &agent_dir).await?;
    let runtime = CriRuntime::connect(&containerd.socket)?.with_registries(registries);
    let ip = args.node_ip.clone().unwrap_or_else(default_node_ip);
    let mut node = NodeConfig::from_host(&args.name(), &ip);
    node.kubelet_port = i32::from(args.kubelet_port);
    if let Some((_, total, _, _)) = skiff_kubelet::agent::pressure::filesystem(&agent_dir) {
        node.ephemeral_storage = format!("{}Ki", total / 1024);
    }
    let mut config = AgentConfig::new(node, agent_dir, containerd.cni_conf_dir.clone());
    config.ca_pem = ca_pem.to_string();
    config.cni_bridge = args.cni_bridge.clone();
    config.workers = args.pod_workers.max(1);
    config.pod_cgroups = args.cgroups_per_qos;
    config.local_storage = Some(
        args.default_local_storage_path
            .clone()
            .unwrap_or_else(|| data_dir.join("storage")),
    );
    let proxy = (!args.disable_kube_proxy).then(|| {
        let table = proxy_table(&data_dir.join("agent"));
        let proxy =
            skiff_proxy::Proxy::new(&table, &args.name()).userspace(args.proxy_mode == "userspace");
        let task = tokio::spawn(proxy.run(client.clone()));
        (table, task)
    });
    if proxy.is_some() {
        // pods reach cluster DNS through the kube-dns Service, which the proxy programs
        config.cluster_dns = Some(skiff_kubelet::runtime::DnsConfig {
            servers: vec![skiff_apiserver::bootstrap::CLUSTER_DNS.to_string()],
            searches: vec!["svc.cluster.local".into(), "cluster.local".into()],
            options: vec!["ndots:5".into()],
        });
    }
    let overlay = match ip.parse::<std::net::Ipv4Addr>() {
        Ok(addr) if args.flannel_backend == "vxlan" && !addr.is_loopback() => Some(tokio::spawn(
            skiff_network::overlay::run(client.clone(), args.name(), addr),
        )),
        Ok(addr) if addr.is_loopback() && args.flannel_backend == "vxlan" => {
            tracing::info!("node IP {addr} is a loopback address: no overlay to other nodes");
            None
        }
        _ => None,
    };
    let agent = Agent::start(client.clone(), Arc::new(runtime), config).await?;
    let dns = proxy
        .is_some()
        .then(|| tokio::spawn(cluster_dns(client, args.name())));
    Ok(RunningAgent {
        containerd,
        task: tokio::spawn(agent.run()),
        proxy,
        dns,
        overlay,
    })
}

/// A client that trusts the server: with a `K10<hash>::` token, only after the CA the server
/// serves matches the hash (then verified by that CA); with a bare token, blindly (warned).
async fn trusted_client(server: &str, token: &str) -> Result<reqwest::Client> {
    let timeout = std::time::Duration::from_secs(30);
    let blind = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(timeout)
        .build()?;
    let Some(want) = skiff_apiserver::join::pinned_ca_hash(token) else {
        tracing::warn!("the token carries no CA hash (K10<hash>::...); trusting the server's certificate without checking it");
        return Ok(blind);
    };
    let url = format!(
        "{}{}",
        server.trim_end_matches('/'),
        skiff_apiserver::join::CA_PATH
    );
    let resp = blind
        .get(&url)
        .send()
        .await
        .with_context(|| format!("reaching {url}"))?;
    if !resp.status().is_success() {
        bail!(
            "the server did not serve its CA at {url} ({})",
            resp.status()
        );
    }
    let ca = resp.text().await?;
    let got = skiff_apiserver::pki::ca_hash(&ca);
    if got != want {
        bail!("the server's CA (hash {got}) is not the one the token pins ({want}); not joining");
    }
    let cert = reqwest::Certificate::from_pem(ca.as_bytes())
        .context("the server's CA is not a PEM certificate")?;
    Ok(reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(cert)
        .timeout(timeout)
        .build()?)
}

/// Asks the server for this node's credentials with the token; returns a kubeconfig and the
/// cluster CA.
async fn join(server: &str, token: &str, node_name: &str) -> Result<(String, String)> {
    let http = trusted_client(server, token).await?;
    let url = format!(
        "{}{}",
        server.trim_end_matches('/'),
        skiff_apiserver::join::PATH
    );
    let resp = http
        .post(&url)
        .bearer_auth(token.trim())
        .json(&serde_json::json!({ "nodeName": node_name }))
        .send()
        .await
        .with_context(|| format!("reaching {url}"))?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    if !status.is_success() {
        let message = body["message"].as_str().unwrap_or("no message");
        if status == reqwest::StatusCode::UNAUTHORIZED {
            bail!("the server refused the token: {message}");
        }
        bail!("joining failed ({status}): {message}");
    }
    let field = |k: &str| {
        body[k]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("the join answer has no {k}"))
    };
    let ca = field("caCert")?;
    let kubeconfig = skiff_apiserver::pki::kubeconfig(
        &ca,
        server.trim_end_matches('/'),
        &field("clientCert")?,
        &field("clientKey")?,
    );
    Ok((kubeconfig, ca))
}

/// `skiff agent`: joins the server and runs until SIGINT or SIGTERM.
pub async fn run(args: AgentArgs) -> Result<()> {
    let name = args.node.name();
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(crate::default_data_dir);
    let agent_dir = data_dir.join("agent");
    std::fs::create_dir_all(&agent_dir)?;
    let kubeconfig = agent_dir.join("kubelet.kubeconfig");
    let (text, ca) = join(&args.server, &args.token, &name).await?;
    skiff_apiserver::pki::write_private(&kubeconfig, &text, 0o600)?;
    tracing::info!(node = %name, server = %args.server, "joined");
    let client = skiff_client::kubeconfig::client_from_kubeconfig(&kubeconfig).await?;
    let running = start(client, &data_dir, &ca, &args.node).await?;
    crate::wait_for_signal().await?;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

/// `skiff killall`: stops every pod sandbox and container of the agent's containerd, stops
/// that containerd if the agent started it, and unmounts pod volumes (like k3s-killall.sh).
pub async fn killall(data_dir: Option<PathBuf>) -> Result<()> {
    use skiff_kubelet::runtime::{PodSandboxFilter, Runtime};
    let data_dir = data_dir.unwrap_or_else(crate::default_data_dir);
    let agent_dir = data_dir.join("agent");
    let layout = skiff_kubelet::containerd::Layout::new(&agent_dir);
    if layout.socket.exists() {
        let rt = CriRuntime::connect(&layout.socket)?;
        if rt.answers().await {
            let sandboxes = rt.list_pod_sandboxes(&PodSandboxFilter::default()).await?;
            for s in &sandboxes {
                if let Err(e) = rt.stop_pod_sandbox(&s.id).await {
                    tracing::warn!("stopping sandbox {}: {e}", s.id);
                }
                if let Err(e) = rt.remove_pod_sandbox(&s.id).await {
                    tracing::warn!("removing sandbox {}: {e}", s.id);
                }
            }
            println!("removed {} pod sandbox(es)", sandboxes.len());
        }
    }
    skiff_proxy::Proxy::teardown(&proxy_table(&agent_dir)).await;
    skiff_network::overlay::Overlay::teardown().await;
    // shims left without a containerd (or that it could not stop): kill their process trees
    let socket = layout.socket.display().to_string();
    let shims = processes_with_arg(&socket);
    for shim in &shims {
        for pid in descendants(*shim).into_iter().chain([*shim]) {
            let _ = tokio::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .await;
        }
    }
    if !shims.is_empty() {
        println!(
            "killed {} container shim(s) and their processes",
            shims.len()
        );
    }
    let config = layout.config.display().to_string();
    for pid in processes_with_arg(&config) {
        let _ = tokio::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        for _ in 0..100 {
            if !proc_dir.exists() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        if proc_dir.exists() {
            let _ = tokio::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .await;
        }
        println!("stopped containerd (pid {pid})");
    }
    if let Ok(rd) = std::fs::read_dir(agent_dir.join("pods")) {
        for e in rd.flatten() {
            let uid = e.file_name().to_string_lossy().to_string();
            skiff_kubelet::agent::volumes::cleanup(&agent_dir.join("pods"), &uid).await;
        }
    }
    if let Some(bridge) = skiff_network::cni::bridge_of(&layout.cni_conf_dir) {
        let deleted = tokio::process::Command::new("ip")
            .args(["link", "delete", &bridge])
            .stderr(std::process::Stdio::null())
            .status()
            .await;
        if deleted.is_ok_and(|s| s.success()) {
            println!("deleted bridge {bridge}");
        }
    }
    if let Some(run) = layout.socket.parent() {
        // container root filesystems and shm mounts left by killed shims
        let mut mounts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
            .filter(|m| Path::new(m).starts_with(run) || Path::new(m).starts_with(&agent_dir))
            .collect();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in &mounts {
            let _ = tokio::process::Command::new("umount")
                .args(["-l", m])
                .status()
                .await;
        }
        let _ = std::fs::remove_dir_all(run);
    }
    Ok(())
}

/// Every process below `pid` (children first found, deepest last).
fn descendants(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
                .filter_map(|p| {
                    let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
                    // the parent pid is the second field after the parenthesised name
                    let after = stat.rsplit_once(')')?.1;
                    let ppid = after.split_whitespace().nth(1)?.parse().ok()?;
                    Some((p, ppid))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for (child, _) in parents.iter().filter(|(_, pp)| *pp == p) {
            out.push(*child);
            frontier.push(*child);
        }
    }
    out
}

/// Pids of processes with `arg` among their arguments.
pub(crate) fn processes_with_arg(arg: &str) -> Vec<u32> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|b| *b == 0).any(|a| a == arg.as_bytes()))
        })
        .collect()
}
