//! `skiff bench …`: benchmarks that print numbers (never pass/fail on timing).

use crate::client::ApiClient;
use anyhow::{bail, Context, Result};
use futures::StreamExt;
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

mod datapath;
mod density;
mod net;
mod pods;

/// What to benchmark.
#[derive(clap::Subcommand)]
pub enum Bench {
    /// API server: create throughput and latency, watch latency, memory, crash durability.
    Api(ApiArgs),
    /// Scheduler and hollow nodes: pods bound and Running per second, API latency, memory.
    Density(density::DensityArgs),
    /// One real node (containerd): pod startup latency, agent memory, containerd floor.
    Pods(pods::PodsArgs),
    /// The node data plane: programming nftables for N Services × M endpoints; with
    /// `--cluster`, TCP throughput and DNS on a running cluster.
    Net(net::NetArgs),
    /// One end of `skiff bench net --cluster`, run inside its pods.
    #[command(subcommand, hide = true)]
    NetPeer(datapath::Peer),
}

/// Options of `skiff bench api`.
#[derive(clap::Args)]
pub struct ApiArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Seconds of create load.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// ConfigMaps held when memory is measured.
    #[arg(long, default_value_t = 10_000)]
    objects: usize,
    /// Data folder for the server under test (default: a fresh temporary folder).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// Runs a benchmark.
pub async fn run(what: Bench) -> Result<()> {
    match what {
        Bench::Api(args) => api(args).await,
        Bench::Density(args) => density::density(args).await,
        Bench::Pods(args) => pods::pods(args).await,
        Bench::Net(args) => net::net(args).await,
        Bench::NetPeer(what) => datapath::peer(what).await,
    }
}

/// A `skiff server` child process.
struct ServerProcess {
    child: Child,
    client: ApiClient,
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn spawn_server(dir: &Path, port: u16, extra: &[&str]) -> Result<(ServerProcess, Duration)> {
    let started = Instant::now();
    let child = Command::new(std::env::current_exe()?)
        .args([
            "server",
            "--disable-agent",
            "--bind-address",
            "127.0.0.1",
            "--https-port",
            &port.to_string(),
            "--data-dir",
        ])
        .arg(dir)
        .args(extra)
        .env("SKIFF_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .context("spawning skiff server")?;
    let kubeconfig = dir.join("kubeconfig.yaml");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if Instant::now() > deadline {
            bail!("server did not become ready in 30 s");
        }
        if let Ok(client) = ApiClient::from_kubeconfig(&kubeconfig) {
            if client.base.ends_with(&format!(":{port}")) {
                if let Ok(r) = client.http.get(client.url("/readyz")).send().await {
                    if r.status().is_success() {
                        return Ok((ServerProcess { child, client }, started.elapsed()));
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn proc_status(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn rss_kib(pid: u32) -> Option<u64> {
    proc_status(pid, "VmRSS:")
}

fn configmap(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": { "name": name, "labels": { "bench": "api" } },
        "data": { "payload": "x".repeat(200) },
    })
}

const CM_PATH: &str = "/api/v1/namespaces/default/configmaps";

/// Creates ConfigMaps from `clients` tasks until `stop`; returns latencies and acknowledged names.
async fn create_load(
    client: &ApiClient,
    clients: usize,
    prefix: &str,
    until: Instant,
    max: Option<usize>,
    acks: Option<Arc<Mutex<HashMap<String, Instant>>>>,
) -> (Histogram<u64>, Vec<String>, usize) {
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = client.clone();
        let prefix = prefix.to_string();
        let acks = acks.clone();
        let per_client = max.map(|m| m.div_ceil(clients));
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new(3).expect("histogram");
            let mut ok = Vec::new();
            let mut errors = 0usize;
            let mut i = 0usize;
            while Instant::now() < until && per_client.is_none_or(|m| i < m) {
                let name = format!("{prefix}-{c}-{i}");
                i += 1;
                let t0 = Instant::now();
                match client
                    .http
                    .post(client.url(CM_PATH))
                    .json(&configmap(&name))
                    .send()
                    .await
                {
                    Ok(r) if r.status().as_u16() == 201 => {
                        // read the body: a dropped response cancels its stream
                        let _ = r.bytes().await;
                        let done = Instant::now();
                        hist.record((done - t0).as_micros() as u64).ok();
                        if let Some(a) = &acks {
                            a.lock().await.insert(name.clone(), done);
                        }
                        ok.push(name);
                    }
                    Ok(r) => {
                        errors += 1;
                        if errors <= 2 {
                            let code = r.status();
                            let body = r.text().await.unwrap_or_default();
                            eprintln!(
                                "create {name}: {code} {}",
                                body.chars().take(200).collect::<String>()
                            );
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if errors <= 2 {
                            eprintln!("create {name}: {e:?}");
                        }
                    }
                }
            }
            (hist, ok, errors)
        }));
    }
    let mut hist = Histogram::<u64>::new(3).expect("histogram");
    let mut names = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((h, ok, e)) = t.await {
            hist.add(h).ok();
            names.extend(ok);
            errors += e;
        }
    }
    (hist, names, errors)
}

/// Watches ConfigMaps from `rv`, recording when each ADDED name arrives.
fn watch_arrivals(
    client: ApiClient,
    rv: String,
) -> (
    tokio::task::JoinHandle<HashMap<String, Instant>>,
    Arc<tokio::sync::Notify>,
) {
    let stop = Arc::new(tokio::sync::Notify::new());
    let stop2 = stop.clone();
    let handle = tokio::spawn(async move {
        let mut seen = HashMap::new();
        let url = client.url(&format!("{CM_PATH}?watch=true&resourceVersion={rv}"));
        let Ok(resp) = client.http.get(url).send().await else {
            return seen;
        };
        let mut body = resp.bytes_stream();
        let mut buf = Vec::new();
        loop {
            tokio::select! {
                _ = stop2.notified() => return seen,
                chunk = body.next() => {
                    let Some(Ok(chunk)) = chunk else { return seen };
                    let now = Instant::now();
                    buf.extend_from_slice(&chunk);
                    while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = buf.drain(..=pos).collect();
                        if let Ok(ev) = serde_json::from_slice::<Value>(&line) {
                            if let Some(n) = ev.pointer("/object/metadata/name").and_then(Value::as_str) {
                                seen.insert(n.to_string(), now);
                            }
                        }
                    }
                }
            }
        }
    });
    (handle, stop)
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

async fn list_configmaps(client: &ApiClient) -> Result<Value> {
    Ok(client
        .http
        .get(client.url(CM_PATH))
        .send()
        .await?
        .json()
        .await?)
}

async fn count_configmaps(client: &ApiClient) -> Result<HashSet<String>> {
    let list = list_configmaps(client).await?;
    Ok(list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            i.pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect())
}

async fn api(args: ApiArgs) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let port = free_port()?;
    let (mut server, ready) = spawn_server(&dir, port, &[]).await?;
    println!(
        "server ready (fresh data dir): {:.1} ms",
        ready.as_secs_f64() * 1000.0
    );
    let client = server.client.clone();

    // 1. memory of a fresh server holding N ConfigMaps
    create_load(
        &client,
        args.clients,
        "fill",
        Instant::now() + Duration::from_secs(600),
        Some(args.objects),
        None,
    )
    .await;
    let before_list = rss_kib(server.child.id()).unwrap_or(0);
    println!(
        "memory: server RSS {:.1} MB after the creates, before any list",
        before_list as f64 / 1024.0
    );
    let stored = count_configmaps(&client).await?.len();
    let rss = rss_kib(server.child.id()).unwrap_or(0);
    let threads = proc_status(server.child.id(), "Threads:").unwrap_or(0);
    println!(
        "memory: server RSS {:.1} MB holding {stored} ConfigMaps ({threads} threads)",
        rss as f64 / 1024.0
    );

    // 2. create throughput and latency, with a watcher timing event delivery
    let list = list_configmaps(&client).await?;
    let rv = list
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("0")
        .to_string();
    let watch_client = ApiClient::from_kubeconfig(&dir.join("kubeconfig.yaml"))?;
    let (watcher, stop_watch) = watch_arrivals(watch_client, rv);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let acks = Arc::new(Mutex::new(HashMap::new()));
    let t0 = Instant::now();
    let (hist, names, errors) = create_load(
        &client,
        args.clients,
        "load",
        t0 + Duration::from_secs(args.seconds),
        None,
        Some(acks.clone()),
    )
    .await;
    let elapsed = t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_watch.notify_one();
    let seen = watcher.await.unwrap_or_default();
    println!(
        "creates: {} in {:.1} s from {} clients = {:.0}/s; errors {}; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        names.len(), elapsed, args.clients, names.len() as f64 / elapsed, errors,
        ms(hist.value_at_quantile(0.5)), ms(hist.value_at_quantile(0.99)), ms(hist.max()),
    );
    let acks = acks.lock().await;
    let mut lag = Histogram::<u64>::new(3)?;
    let mut missing = 0;
    for (name, acked) in acks.iter() {
        match seen.get(name) {
            Some(at) => {
                lag.record(at.saturating_duration_since(*acked).as_micros() as u64)
                    .ok();
            }
            None => missing += 1,
        }
    }
    println!(
        "watch: {} of {} events seen; delivery after the 201: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        acks.len() - missing, acks.len(), ms(lag.value_at_quantile(0.5)), ms(lag.value_at_quantile(0.99)), ms(lag.max()),
    );
    drop(acks);

    let rss = rss_kib(server.child.id()).unwrap_or(0);
    println!(
        "memory after the load: server RSS {:.1} MB",
        rss as f64 / 1024.0
    );

    // 3. kill -9 under load, restart, check every acknowledged create
    let until = Instant::now() + Duration::from_secs(30);
    let load_client = client.clone();
    let load =
        tokio::spawn(
            async move { create_load(&load_client, 32, "crash", until, None, None).await },
        );
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.child.kill()?;
    server.child.wait()?;
    let (_, acked, _) = load.await?;
    let (mut server2, ready2) = spawn_server(&dir, port, &[]).await?;
    let present = count_configmaps(&server2.client).await?;
    let lost: Vec<&String> = acked.iter().filter(|n| !present.contains(*n)).collect();
    println!(
        "kill -9: {} creates acknowledged before the kill; {} present after restart; {} lost; restart ready in {:.1} ms with {} ConfigMaps",
        acked.len(), acked.len() - lost.len(), lost.len(), ready2.as_secs_f64() * 1000.0, present.len(),
    );
    server2.child.kill().ok();
    server2.child.wait().ok();
    if !lost.is_empty() {
        bail!("{} acknowledged creates were lost", lost.len());
    }
    Ok(())
}
