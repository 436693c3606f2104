//! `skiff bench net`: the node data plane's programming cost at scale. With N Services of M
//! endpoints each, every sync changes one endpoint and measures working out the changed rules
//! and applying them with `nft`, as the proxy does (the work between a change reaching a
//! node's proxy and its rules being live; the watch that brings the change adds the API's watch latency, measured by
//! `skiff bench api`). Needs root and nftables; uses a table of its own and removes it.

use super::pods::{ms, percentile};
use anyhow::{Context, Result};
use skiff_proxy::rules::{teardown, Endpoint, Model, ServicePort};
use skiff_proxy::Rules;
use std::time::{Duration, Instant};

/// Options of `skiff bench net`.
#[derive(clap::Args)]
pub struct NetArgs {
    /// Services (one port each).
    #[arg(long, default_value_t = 1000)]
    services: usize,
    /// Ready endpoints per Service.
    #[arg(long, default_value_t = 10)]
    endpoints: usize,
    /// Syncs measured, each after one endpoint change.
    #[arg(long, default_value_t = 20)]
    syncs: usize,
    /// Instead, measure the data path of the running cluster that KUBECONFIG (or
    /// --kubeconfig) reaches, which needs two Ready nodes: TCP throughput from a pod to a pod
    /// on another node, by pod IP and by ClusterIP, and cluster DNS queries/s and latency.
    #[arg(long)]
    cluster: bool,
    /// The cluster's kubeconfig (with --cluster).
    #[arg(long, env = "KUBECONFIG")]
    kubeconfig: Option<std::path::PathBuf>,
    /// The image the bench pods run on (with --cluster; its nodes must have it).
    #[arg(long, default_value = "skiff.local/busybox:1")]
    image: String,
    /// MiB per transfer (with --cluster).
    #[arg(long, default_value_t = 1024)]
    mib: u64,
    /// Transfers per target (with --cluster).
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

fn port(i: usize, endpoints: usize) -> ServicePort {
    ServicePort {
        name: format!("bench/svc-{i}:http"),
        protocol: "tcp".into(),
        cluster_ip: format!("10.43.{}.{}", 1 + i / 250, 1 + i % 250),
        external_ips: Vec::new(),
        port: 80,
        node_port: None,
        endpoints: (0..endpoints)
            .map(|k| Endpoint {
                ip: format!(
                    "10.42.{}.{}",
                    (i * endpoints + k) / 250,
                    1 + (i * endpoints + k) % 250
                ),
                port: 8080,
                local: true,
            })
            .collect(),
        internal_local: false,
        external_local: false,
        affinity_timeout: None,
    }
}

/// Runs the benchmark.
pub async fn net(args: NetArgs) -> Result<()> {
    if args.cluster {
        let kubeconfig = args
            .kubeconfig
            .clone()
            .context("--cluster needs KUBECONFIG or --kubeconfig")?;
        let client = skiff_client::kubeconfig::client_from_kubeconfig(&kubeconfig).await?;
        return super::datapath::cluster(client, &args.image, args.mib << 20, args.runs).await;
    }
    let table = format!("skiff-bench-{}", std::process::id());
    let mut ports: Vec<ServicePort> = (0..args.services)
        .map(|i| port(i, args.endpoints))
        .collect();
    let mut rules = Rules::new(&table);
    let started = Instant::now();
    let want = Model::new(&ports);
    let chains = want.chain_count();
    let script = rules.script(&want);
    rules.apply(&script, want).await?;
    println!(
        "data plane: {} Services × {} endpoints, {chains} chains, ruleset {} KiB; first apply (whole table) {}",
        args.services,
        args.endpoints,
        script.len() / 1024,
        ms(started.elapsed())
    );
    let (mut build, mut apply, mut total) = (Vec::new(), Vec::new(), Vec::new());
    let mut bytes = 0;
    for s in 0..args.syncs {
        let n = ports.len().max(1);
        if let Some(e) = ports.get_mut(s % n).and_then(|p| p.endpoints.first_mut()) {
            e.ip = format!("10.41.{}.{}", s / 250, 1 + s % 250);
        }
        let t0 = Instant::now();
        let want = rules.model(&ports);
        let script = rules.script(&want);
        let t1 = Instant::now();
        let result = rules.apply(&script, want).await;
        let t2 = Instant::now();
        if let Err(e) = result {
            skiff_proxy::apply(&teardown(&table)).await.ok();
            return Err(e.into());
        }
        bytes = bytes.max(script.len());
        build.push(t1 - t0);
        apply.push(t2 - t1);
        total.push(t2 - t0);
    }
    skiff_proxy::apply(&teardown(&table)).await?;
    for v in [&mut build, &mut apply, &mut total] {
        v.sort();
    }
    let line = |name: &str, v: &[Duration]| {
        println!(
            "  {name}: p50 {}, p99 {}, max {}",
            ms(percentile(v, 0.5)),
            ms(percentile(v, 0.99)),
            ms(percentile(v, 1.0))
        );
    };
    println!(
        "per sync after one endpoint change ({} syncs, at most {bytes} bytes of nft commands):",
        args.syncs
    );
    line("work out the changes", &build);
    line("apply with nft", &apply);
    line("change → rules live on the node", &total);
    Ok(())
}
