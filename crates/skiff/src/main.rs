//! The one Skiff binary: `skiff server`, `skiff bench`, …

mod agent;
mod bench;
mod client;
mod image;
mod sim;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::net::IpAddr;
use std::path::PathBuf;

/// mimalloc: the API server allocates and frees many small JSON values per request, where
/// glibc malloc spent about a fifth of the server's CPU (profiled under `skiff bench density`).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Skiff: a container orchestrator that speaks the Kubernetes API.
#[derive(Parser)]
#[command(name = "skiff", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the control plane (API server on a durable store) and a local node agent.
    Server(ServerArgs),
    /// Joins a server as a node and runs its pods in containerd.
    Agent(agent::AgentArgs),
    /// Stops every pod of this host's agent and the containerd it started; unmounts volumes.
    Killall {
        /// The data folder of the server or agent.
        #[arg(long, env = "SKIFF_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Imports or builds container images.
    Image {
        #[command(subcommand)]
        what: image::ImageCommand,
    },
    /// Prints performance numbers.
    Bench {
        #[command(subcommand)]
        what: bench::Bench,
    },
    /// Simulates nodes (hollow kubelets on a fake runtime).
    Sim {
        #[command(subcommand)]
        what: sim::Sim,
    },
}

#[derive(clap::Args)]
struct ServerArgs {
    /// Folder for the datastore, certificates, kubeconfig.yaml and node-token.
    #[arg(long, env = "SKIFF_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address the API server listens on.
    #[arg(long, default_value = "0.0.0.0")]
    bind_address: IpAddr,
    /// HTTPS port of the API server.
    #[arg(long, default_value_t = 6443)]
    https_port: u16,
    /// Extra hostnames or IPs for the serving certificate.
    #[arg(long = "tls-san")]
    tls_san: Vec<String>,
    /// Runs no node agent in this process.
    #[arg(long)]
    disable_agent: bool,
    /// The local agent's settings.
    #[command(flatten)]
    node: agent::NodeArgs,
    /// Runs no scheduler in this process.
    #[arg(long)]
    disable_scheduler: bool,
    /// Runs no controllers in this process.
    #[arg(long)]
    disable_controller_manager: bool,
    /// The range node pod CIDRs are carved from.
    #[arg(long, default_value = "10.42.0.0/16")]
    cluster_cidr: String,
    /// The prefix length of each node's pod CIDR.
    #[arg(long, default_value_t = 24)]
    node_cidr_mask_size: u8,
}

/// The default data folder: /var/lib/skiff for root, else $XDG_DATA_HOME/skiff.
fn default_data_dir() -> PathBuf {
    if is_root() {
        return PathBuf::from("/var/lib/skiff");
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(x).join("skiff");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/skiff")
}

/// This host's name, for leader-election identities.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "skiff".to_string())
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// A client of this server's API for a component running inside it (the same identity as
/// its kubeconfig under `server/cred/`, without going through TLS).
fn in_process_client(running: &skiff_apiserver::Running, user: &str) -> kube::Client {
    let loopback = skiff_apiserver::loopback::Loopback::new(running.api.clone(), user, &[]);
    kube::Client::new(loopback, "default")
}

async fn server(args: ServerArgs) -> Result<()> {
    let started = std::time::Instant::now();
    skiff_controllers::node_ipam::CidrSet::new(&args.cluster_cidr, args.node_cidr_mask_size)?;
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let running = skiff_apiserver::start(skiff_apiserver::Config {
        data_dir: data_dir.clone(),
        bind_address: args.bind_address,
        https_port: args.https_port,
        tls_sans: args.tls_san,
    })
    .await
    .with_context(|| format!("starting the API server in {}", data_dir.display()))?;
    let identity = format!("{}_{}", hostname(), std::process::id());
    // the scheduler and the controllers share one watch and one cache per resource type
    let informers = skiff_client::SharedInformers::default();
    let mut electors = Vec::new();
    if !args.disable_scheduler {
        let client = in_process_client(&running, "system:kube-scheduler");
        let elector = skiff_client::LeaderElector::new(
            client.clone(),
            "kube-system",
            "kube-scheduler",
            &identity,
        );
        electors.push(elector.clone());
        let config = skiff_scheduler::Config {
            informers: informers.clone(),
            ..Default::default()
        };
        tokio::spawn(elector.run(skiff_scheduler::run(client, config)));
    }
    if !args.disable_controller_manager {
        let client = in_process_client(&running, "system:kube-controller-manager");
        let elector = skiff_client::LeaderElector::new(
            client.clone(),
            "kube-system",
            "kube-controller-manager",
            &identity,
        );
        electors.push(elector.clone());
        let config = skiff_controllers::Config {
            cluster_cidr: args.cluster_cidr.clone(),
            node_cidr_mask_size: args.node_cidr_mask_size,
            informers: informers.clone(),
            ..Default::default()
        };
        tokio::spawn(elector.run(skiff_controllers::run(client, config)));
    }
    tracing::info!(
        "skiff server ready on https://{} in {} ms; kubeconfig: {}",
        running.local_addr,
        started.elapsed().as_millis(),
        running.kubeconfig.display()
    );
    let local_agent = if args.disable_agent {
        None
    } else {
        let node = args.node.clone();
        let user = format!("system:node:{}", node.name());
        let client = in_process_client(&running, &user);
        let ca = std::fs::read_to_string(data_dir.join("server/tls/server-ca.crt"))
            .context("reading the cluster CA for the local agent")?;
        let agent = agent::start(client, &data_dir, &ca, &node)
            .await
            .context("starting the local node agent (use --disable-agent to run without one)")?;
        tracing::info!(
            "local node agent ready in {} ms",
            started.elapsed().as_millis()
        );
        Some(agent)
    };
    wait_for_signal().await?;
    tracing::info!("shutting down");
    // a restarted server need not wait for its own Leases to expire
    for e in &electors {
        if let Err(err) = e.release().await {
            tracing::warn!("releasing a Lease: {err}");
        }
    }
    if let Some(a) = local_agent {
        a.stop().await;
    }
    Ok(())
}

/// Waits for SIGINT or SIGTERM.
async fn wait_for_signal() -> Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    Ok(())
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SKIFF_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Server(args) => server(args).await,
            Command::Agent(args) => agent::run(args).await,
            Command::Killall { data_dir } => agent::killall(data_dir).await,
            Command::Image { what } => image::run(what).await,
            Command::Bench { what } => bench::run(what).await,
            Command::Sim { what } => sim::run(what).await,
        }
    })
}
