//! `skiff sim …`: simulated nodes for tests and benchmarks.

use anyhow::{Context, Result};
use std::path::PathBuf;

/// What to simulate.
#[derive(clap::Subcommand)]
pub enum Sim {
    /// Runs hollow nodes (fake runtime) that register, heartbeat and run bound pods.
    Nodes(NodesArgs),
}

/// Options of `skiff sim nodes`.
#[derive(clap::Args)]
pub struct NodesArgs {
    /// Kubeconfig of the cluster to join.
    #[arg(long)]
    kubeconfig: PathBuf,
    /// How many nodes.
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Node names are this prefix plus an index from 0.
    #[arg(long, default_value = "sim-")]
    name_prefix: String,
    /// CPU capacity of each node.
    #[arg(long, default_value = "8")]
    cpu: String,
    /// Memory capacity of each node.
    #[arg(long, default_value = "32Gi")]
    memory: String,
    /// Pod capacity of each node.
    #[arg(long, default_value_t = 110)]
    pods: u32,
}

/// Runs a simulation until SIGINT or SIGTERM (the Nodes stay; their Leases stop).
pub async fn run(what: Sim) -> Result<()> {
    let Sim::Nodes(args) = what;
    let client = skiff_client::client_from_kubeconfig(&args.kubeconfig).await?;
    let config = skiff_sim::NodesConfig {
        count: args.count,
        name_prefix: args.name_prefix,
        cpu: args.cpu,
        memory: args.memory,
        pods: args.pods,
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let nodes = skiff_sim::HollowNodes::start(client, config)
        .await
        .context("starting hollow nodes")?;
    tracing::info!(
        "{} hollow nodes registered in {} ms",
        nodes.names().len(),
        started.elapsed().as_millis()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = nodes.run() => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("stopping hollow nodes");
    Ok(())
}
