//! `skiff bench density`: a server with its scheduler and controllers, hollow nodes in this
//! process, and many pods; prints how fast they are bound and running.

use super::{free_port, rss_kib, spawn_server, ServerProcess};
use crate::client::ApiClient;
use anyhow::{bail, Context, Result};
use futures::StreamExt;
use hdrhistogram::Histogram;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of `skiff bench density`.
#[derive(clap::Args)]
pub struct DensityArgs {
    /// Hollow nodes.
    #[arg(long, default_value_t = 1000)]
    nodes: usize,
    /// Pods to create.
    #[arg(long, default_value_t = 30_000)]
    pods: usize,
    /// Concurrent pod creates.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Give up after this many seconds of waiting for pods.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// An extra flag for the server (repeatable), e.g. `--server-arg=--disable-controller-manager`.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    server_args: Vec<String>,
}

const NAMESPACE: &str = "density";

/// Kills the server child when dropped (errors included).
struct Child(ServerProcess);

impl Drop for Child {
    fn drop(&mut self) {
        self.0.child.kill().ok();
        self.0.child.wait().ok();
    }
}

/// When each pod was first seen bound and Running.
#[derive(Default)]
struct Seen {
    bound: HashMap<String, Instant>,
    running: HashMap<String, Instant>,
}

fn pod(i: usize) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("density-{i}"), "labels": {"app": "density"}},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}],
        },
    })
}

/// Watches the namespace's pods, recording first bind and first Running per name.
fn watch_pods(
    client: ApiClient,
    rv: String,
    seen: Arc<Mutex<Seen>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let path = format!("/api/v1/namespaces/{NAMESPACE}/pods?watch=true&resourceVersion={rv}");
        let Ok(resp) = client.http.get(client.url(&path)).send().await else {
            eprintln!("pod watch failed to start");
            return;
        };
        let mut body = resp.bytes_stream();
        let mut buf = Vec::new();
        while let Some(Ok(chunk)) = body.next().await {
            let now = Instant::now();
            buf.extend_from_slice(&chunk);
            let mut start = 0;
            while let Some(pos) = buf[start..].iter().position(|b| *b == b'\n') {
                let line = &buf[start..start + pos];
                start += pos + 1;
                let Ok(ev) = serde_json::from_slice::<Value>(line) else {
                    continue;
                };
                let obj = &ev["object"];
                let Some(name) = obj.pointer("/metadata/name").and_then(Value::as_str) else {
                    continue;
                };
                let mut s = seen.lock();
                if obj
                    .pointer("/spec/nodeName")
                    .and_then(Value::as_str)
                    .is_some_and(|n| !n.is_empty())
                {
                    s.bound.entry(name.to_string()).or_insert(now);
                }
                if obj.pointer("/status/phase").and_then(Value::as_str) == Some("Running") {
                    s.running.entry(name.to_string()).or_insert(now);
                }
            }
            buf.drain(..start);
        }
    })
}

/// Sends a request, recording its latency; the body parsed as JSON on success.
async fn timed(hist: &Mutex<Histogram<u64>>, req: reqwest::RequestBuilder) -> Result<Value> {
    let t0 = Instant::now();
    let r = req.send().await?;
    let status = r.status();
    let bytes = r.bytes().await?;
    hist.lock().record(t0.elapsed().as_micros() as u64).ok();
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes);
        bail!("{status}: {}", text.chars().take(200).collect::<String>());
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn is_ready(node: &Value) -> bool {
    node.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// Waits until every hollow node is Ready and the pod CIDRs stop coming; returns how many
/// nodes have one (a /16 cluster CIDR holds only 256 /24s).
async fn wait_nodes_ready(
    client: &ApiClient,
    hist: &Mutex<Histogram<u64>>,
    want: usize,
) -> Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(120 + want as u64 / 20);
    let mut last = (0, Instant::now());
    loop {
        let list = timed(
            hist,
            client
                .http
                .get(client.url("/api/v1/nodes?labelSelector=node.skiff.io%2Fhollow%3Dtrue")),
        )
        .await?;
        let items = list["items"].as_array().cloned().unwrap_or_default();
        let ready = items.iter().filter(|n| is_ready(n)).count();
        let cidr = items
            .iter()
            .filter(|n| n.pointer("/spec/podCIDR").and_then(Value::as_str).is_some())
            .count();
        if cidr != last.0 {
            last = (cidr, Instant::now());
        }
        let settled = cidr >= want || (cidr > 0 && last.1.elapsed() > Duration::from_secs(5));
        if ready >= want && settled {
            return Ok(cidr);
        }
        if Instant::now() > deadline {
            bail!("only {ready} of {want} nodes Ready and {cidr} with a pod CIDR");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Creates `n` pods from `clients` tasks; returns how many failed.
async fn create_pods(
    client: &ApiClient,
    hist: Arc<Mutex<Histogram<u64>>>,
    n: usize,
    clients: usize,
) -> usize {
    let path = format!("/api/v1/namespaces/{NAMESPACE}/pods");
    futures::stream::iter(0..n)
        .map(|i| {
            let (client, hist, path) = (client.clone(), hist.clone(), path.clone());
            async move {
                let req = client.http.post(client.url(&path)).json(&pod(i));
                match timed(&hist, req).await {
                    Ok(_) => 0,
                    Err(e) => {
                        eprintln!("create density-{i}: {e}");
                        1
                    }
                }
            }
        })
        .buffer_unordered(clients.max(1))
        .fold(0, |acc, e| async move { acc + e })
        .await
}

/// Pods per second between the first and last instant, and the best one-second window.
fn rates(times: &mut [Instant]) -> (f64, usize) {
    times.sort();
    let (Some(first), Some(last)) = (times.first(), times.last()) else {
        return (0.0, 0);
    };
    let span = last.duration_since(*first).as_secs_f64().max(1e-3);
    let mut peak = 0;
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi].duration_since(times[lo]) >= Duration::from_secs(1) {
            lo += 1;
        }
        peak = peak.max(hi - lo + 1);
    }
    (times.len() as f64 / span, peak)
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Runs the density benchmark.
pub async fn density(args: DensityArgs) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let port = free_port()?;
    // 10.42.0.0/16 holds 256 node /24s; a /10 holds 16,384.
    let mut server_args = vec!["--cluster-cidr", "10.64.0.0/10"];
    server_args.extend(args.server_args.iter().map(String::as_str));
    let (server, ready) = spawn_server(tmp.path(), port, &server_args).await?;
    let server = Child(server);
    println!("server ready in {:.1} ms", ready.as_secs_f64() * 1000.0);
    let client = server.0.client.clone();
    let hist = Arc::new(Mutex::new(Histogram::<u64>::new(3)?));
    let kube = skiff_client::client_from_kubeconfig(&tmp.path().join("kubeconfig.yaml")).await?;

    let t0 = Instant::now();
    let config = skiff_sim::NodesConfig {
        count: args.nodes,
        ..Default::default()
    };
    let nodes = skiff_sim::HollowNodes::start(kube, config)
        .await
        .context("starting hollow nodes")?;
    println!(
        "{} hollow nodes registered in {:.1} s",
        args.nodes,
        t0.elapsed().as_secs_f64()
    );
    wait_nodes_ready(&client, &hist, args.nodes).await?;
    println!(
        "all nodes Ready with a pod CIDR after {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}});
    timed(
        &hist,
        client.http.post(client.url("/api/v1/namespaces")).json(&ns),
    )
    .await?;
    let list = timed(
        &hist,
        client
            .http
            .get(client.url(&format!("/api/v1/namespaces/{NAMESPACE}/pods"))),
    )
    .await?;
    let rv = list
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("0")
        .to_string();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let watch_client = ApiClient::from_kubeconfig(&tmp.path().join("kubeconfig.yaml"))?;
    let watcher = watch_pods(watch_client, rv, seen.clone());
    *hist.lock() = Histogram::new(3)?;

    let start = Instant::now();
    let failed = create_pods(&client, hist.clone(), args.pods, args.clients).await;
    let created = args.pods - failed;
    println!(
        "created {created} pods in {:.1} s ({:.0}/s), {failed} failed",
        start.elapsed().as_secs_f64(),
        created as f64 / start.elapsed().as_secs_f64()
    );
    let deadline = start + Duration::from_secs(args.timeout);
    let mut last_print = Instant::now();
    loop {
        let (bound, running) = {
            let s = seen.lock();
            (s.bound.len(), s.running.len())
        };
        if running >= created {
            break;
        }
        if last_print.elapsed() > Duration::from_secs(5) {
            println!(
                "  {:.0} s: {bound} bound, {running} running",
                start.elapsed().as_secs_f64()
            );
            last_print = Instant::now();
        }
        if Instant::now() > deadline {
            println!(
                "gave up after {} s: {bound} bound, {running} running of {created}",
                args.timeout
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    watcher.abort();
    let (mut bound, mut running) = {
        let s = seen.lock();
        (
            s.bound.values().copied().collect::<Vec<_>>(),
            s.running.values().copied().collect::<Vec<_>>(),
        )
    };
    let all_running = running.iter().max().map(|t| t.duration_since(start));
    let (bind_rate, bind_peak) = rates(&mut bound);
    let (run_rate, run_peak) = rates(&mut running);
    let h = hist.lock().clone();
    let rss = rss_kib(server.0.child.id()).unwrap_or(0);
    let own = rss_kib(std::process::id()).unwrap_or(0);
    println!("--- density: {} nodes, {} pods", args.nodes, args.pods);
    match all_running {
        Some(t) if running.len() >= created => {
            println!("all {created} pods Running after {:.2} s", t.as_secs_f64())
        }
        _ => println!("{} of {created} pods Running", running.len()),
    }
    println!("scheduler: {} bound, {bind_rate:.0} pods/s first to last bind, peak {bind_peak} pods in 1 s", bound.len());
    println!("pods reaching Running: {run_rate:.0} pods/s, peak {run_peak} in 1 s");
    println!(
        "API latency of the bench's {} requests: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        h.len(),
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    );
    println!(
        "server RSS at the end: {:.1} MB (this process with the hollow nodes: {:.1} MB)",
        rss as f64 / 1024.0,
        own as f64 / 1024.0
    );
    drop(nodes);
    drop(server);
    Ok(())
}
