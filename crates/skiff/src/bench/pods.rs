//! `skiff bench pods`: pod startup latency on one real node (containerd), create → Running as a
//! watch sees it, the agent's memory, and the raw containerd floor (`ctr run --rm`).

use super::{free_port, rss_kib, spawn_server};
use anyhow::{bail, Context, Result};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{PostParams, WatchEvent, WatchParams};
use kube::Api;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Options of `skiff bench pods`.
#[derive(clap::Args)]
pub struct PodsArgs {
    /// Replicas of the Deployment.
    #[arg(long, default_value_t = 30)]
    pods: usize,
    /// Runs of `ctr run --rm` for the containerd floor.
    #[arg(long, default_value_t = 5)]
    floor_runs: usize,
    /// Extra flags for the agent (e.g. --agent-arg=--pod-workers=8).
    #[arg(long = "agent-arg", allow_hyphen_values = true)]
    agent_args: Vec<String>,
    /// Seconds to wait for every pod to run.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

const IMAGE: &str = "skiff.local/busybox:1";

pub(super) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(super) fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// Kills a child process and the agent's pods on drop.
struct Agent {
    child: std::process::Child,
    dir: PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Ok(exe) = std::env::current_exe() {
            let _ = Command::new(exe)
                .args(["killall", "--data-dir"])
                .arg(&self.dir)
                .stdout(Stdio::null())
                .status();
        }
    }
}

/// Runs the benchmark.
pub async fn pods(args: PodsArgs) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let server_dir = tmp.path().join("server");
    let agent_dir = tmp.path().join("agent-node");
    std::fs::create_dir_all(agent_dir.join("agent/images"))?;
    let archive = skiff_kubelet::image::busybox_archive(
        IMAGE,
        std::path::Path::new(skiff_kubelet::image::HOST_BUSYBOX),
    )?;
    std::fs::write(agent_dir.join("agent/images/busybox.tar"), archive)?;
    let port = free_port()?;
    let (mut server, _) = spawn_server(&server_dir, port, &[]).await?;
    let token = std::fs::read_to_string(server_dir.join("node-token"))?;
    let kubelet_port = free_port()?;
    let agent_started = Instant::now();
    let child = Command::new(std::env::current_exe()?)
        .args(["agent", "--server", &format!("https://127.0.0.1:{port}")])
        .args(["--token", token.trim(), "--data-dir"])
        .arg(&agent_dir)
        .args(["--node-name", "bench-node", "--node-ip", "127.0.0.1"])
        .args([
            "--kubelet-port",
            &kubelet_port.to_string(),
            "--cni-bridge",
            "skbench0",
        ])
        .env("SKIFF_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .context("spawning skiff agent")?;
    let agent = Agent {
        child,
        dir: agent_dir.clone(),
    };
    let client =
        skiff_client::kubeconfig::client_from_kubeconfig(&server_dir.join("kubeconfig.yaml"))
            .await?;
    let nodes: Api<Node> = Api::all(client.clone());
    loop {
        if agent_started.elapsed() > Duration::from_secs(60) {
            bail!("the agent's node did not become Ready in 60 s");
        }
        if let Ok(Some(n)) = nodes.get_opt("bench-node").await {
            if skiff_kubelet::node::is_ready(&n)
                && n.spec.as_ref().and_then(|s| s.pod_cidr.as_ref()).is_some()
            {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "agent: node Ready {} after start (joined, containerd started, images imported)",
        ms(agent_started.elapsed())
    );
    // give the agent a moment to write its CNI configuration from the pod CIDR
    tokio::time::sleep(Duration::from_millis(500)).await;

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let mut stream = pods
        .watch(&WatchParams::default().labels("app=bench"), "0")
        .await?
        .boxed();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let deployment: Deployment = serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": "bench" },
        "spec": {
            "replicas": args.pods,
            "selector": { "matchLabels": { "app": "bench" } },
            "template": {
                "metadata": { "labels": { "app": "bench" } },
                "spec": {
                    "terminationGracePeriodSeconds": 0,
                    "containers": [{ "name": "c", "image": IMAGE, "command": ["sleep", "3600"] }],
                },
            },
        },
    }))?;
    let t0 = Instant::now();
    deployments
        .create(&PostParams::default(), &deployment)
        .await?;
    let mut added: HashMap<String, Instant> = HashMap::new();
    let mut running: HashMap<String, Instant> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    while running.len() < args.pods {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(ev)) = tokio::time::timeout(left, stream.next()).await else {
            bail!(
                "only {} of {} pods Running after {} s",
                running.len(),
                args.pods,
                args.timeout
            );
        };
        let now = Instant::now();
        let pod = match ev? {
            WatchEvent::Added(p) | WatchEvent::Modified(p) => p,
            _ => continue,
        };
        let name = pod.metadata.name.clone().unwrap_or_default();
        added.entry(name.clone()).or_insert(now);
        if pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running") {
            running.entry(name).or_insert(now);
        }
    }
    let all = running
        .values()
        .max()
        .map(|t| t.duration_since(t0))
        .unwrap_or_default();
    let mut lat: Vec<Duration> = running
        .iter()
        .map(|(n, t)| t.duration_since(added.get(n).copied().unwrap_or(t0)))
        .collect();
    lat.sort();
    let agent_rss = rss_kib(agent.child.id()).unwrap_or(0);
    let containerd_rss: u64 = containerd_pids(&agent_dir)
        .into_iter()
        .filter_map(rss_kib)
        .sum();
    println!(
        "pods: {} replicas of one Deployment on one node, image present",
        args.pods
    );
    println!(
        "  create → Running (watch): p50 {}, p99 {}, max {}",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(percentile(&lat, 1.0))
    );
    println!(
        "  Deployment created → all {} Running: {}",
        args.pods,
        ms(all)
    );
    println!(
        "  agent RSS with {} pods: {:.1} MB (containerd: {:.1} MB)",
        args.pods,
        agent_rss as f64 / 1024.0,
        containerd_rss as f64 / 1024.0
    );

    // the floor: containerd alone starting the same image (no sandbox, no CNI)
    let socket = skiff_kubelet::containerd::Layout::new(&agent_dir.join("agent")).socket;
    let mut floor = Vec::new();
    for i in 0..args.floor_runs {
        let t = Instant::now();
        let out = tokio::process::Command::new("ctr")
            .arg("--address")
            .arg(&socket)
            .args([
                "-n",
                "k8s.io",
                "run",
                "--rm",
                IMAGE,
                &format!("bench-floor-{i}"),
                "true",
            ])
            .output()
            .await?;
        if !out.status.success() {
            bail!("ctr run failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        floor.push(t.elapsed());
    }
    floor.sort();
    println!(
        "containerd floor (`ctr run --rm {IMAGE} true`, {} runs): median {}, min {}",
        args.floor_runs,
        ms(percentile(&floor, 0.5)),
        ms(percentile(&floor, 0.0))
    );
    // and as many containers as pods, all at once: what this machine's containerd manages
    let t = Instant::now();
    let runs = (0..args.pods).map(|i| {
        let socket = socket.clone();
        async move {
            tokio::process::Command::new("ctr")
                .arg("--address")
                .arg(&socket)
                .args([
                    "-n",
                    "k8s.io",
                    "run",
                    "--rm",
                    IMAGE,
                    &format!("bench-par-{i}"),
                    "true",
                ])
                .output()
                .await
                .map(|o| o.status.success())
        }
    });
    let ok = futures::future::join_all(runs)
        .await
        .into_iter()
        .filter(|r| matches!(r, Ok(true)))
        .count();
    println!(
        "containerd floor, {} `ctr run --rm` at once: {} ({ok} succeeded; no sandbox, no CNI)",
        args.pods,
        ms(t.elapsed())
    );
    drop(agent);
    let _ = server.child.kill();
    let _ = server.child.wait();
    Ok(())
}

/// Pids of the containerd the agent in `agent_dir` started.
fn containerd_pids(agent_dir: &std::path::Path) -> Vec<u32> {
    let config = skiff_kubelet::containerd::Layout::new(&agent_dir.join("agent")).config;
    crate::agent::processes_with_arg(&config.display().to_string())
}
