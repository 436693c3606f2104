//! `skiff bench net --cluster`: the data path of a running cluster with at least two nodes
//! (e.g. one made by `scripts/cluster-up`). A sink pod on one node and a client pod on another
//! run this very binary (mounted from the host with its libraries, on a busybox root file
//! system): the client sends the same number of bytes to the sink's pod IP and to its
//! ClusterIP, alternating, and times each transfer until the sink has read everything; then
//! it queries cluster DNS through the kube-dns Service, one query at a time (latency) and
//! from several sockets at once (queries per second). The bench reads the client's log and
//! removes its namespace.

use super::pods::percentile;
use anyhow::{bail, Context, Result};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Service};
use kube::api::{Api, DeleteParams, LogParams, PostParams};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NAMESPACE: &str = "skiff-bench-net";
const SINK_PORT: u16 = 5001;

/// The two ends of the measurement, run inside pods (`skiff bench net-peer …`).
#[derive(clap::Subcommand)]
pub enum Peer {
    /// Reads every connection to its end, then closes it.
    Sink {
        #[arg(long, default_value_t = SINK_PORT)]
        port: u16,
    },
    /// Sends to each target in turn and queries DNS; prints one line per measurement.
    Source {
        /// `name=ip:port`, sent to alternately.
        #[arg(long, required = true)]
        target: Vec<String>,
        /// Bytes per transfer.
        #[arg(long)]
        bytes: u64,
        /// Transfers per target.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// The DNS server to query.
        #[arg(long)]
        dns: SocketAddr,
        /// The name to look up (A).
        #[arg(long, default_value = "kubernetes.default.svc.cluster.local")]
        dns_name: String,
        /// Seconds of each DNS phase.
        #[arg(long, default_value_t = 5)]
        dns_seconds: u64,
        /// Sockets querying at once in the throughput phase.
        #[arg(long, default_value_t = 16)]
        dns_concurrency: usize,
    },
}

/// Runs one end.
pub async fn peer(what: Peer) -> Result<()> {
    match what {
        Peer::Sink { port } => sink(port).await,
        Peer::Source {
            target,
            bytes,
            runs,
            dns,
            dns_name,
            dns_seconds,
            dns_concurrency,
        } => {
            let mut targets = Vec::new();
            for t in &target {
                let (name, addr) = t.split_once('=').context("--target name=ip:port")?;
                targets.push((name.to_string(), addr.parse::<SocketAddr>()?));
            }
            for run in 0..runs {
                for (name, addr) in &targets {
                    let took = send(*addr, bytes).await?;
                    println!(
                        "tcp {name} run {run} bytes {bytes} seconds {:.4}",
                        took.as_secs_f64()
                    );
                }
            }
            let seconds = Duration::from_secs(dns_seconds);
            let (n, lat) = query_dns(dns, &dns_name, 1, seconds).await?;
            println!(
                "dns sequential queries {n} p50_us {} p99_us {}",
                lat.0, lat.1
            );
            let (n, lat) = query_dns(dns, &dns_name, dns_concurrency, seconds).await?;
            println!(
                "dns concurrent {dns_concurrency} queries {n} seconds {dns_seconds} p50_us {} p99_us {}",
                lat.0, lat.1
            );
            Ok(())
        }
    }
}

async fn sink(port: u16) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    loop {
        let (mut s, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut buf = vec![0u8; 256 * 1024];
            while let Ok(n) = s.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        });
    }
}

/// Sends `bytes` to `addr` and waits until the far end has read them all and closed.
async fn send(addr: SocketAddr, bytes: u64) -> Result<Duration> {
    let buf = vec![0x5au8; 256 * 1024];
    // the sink may still be starting (Running comes before it listens): retry for a while
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(_) => break,
            Err(e) if Instant::now() > deadline => {
                return Err(e).with_context(|| format!("connecting to {addr}"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let started = Instant::now();
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let mut left = bytes;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        s.write_all(&buf[..n]).await?;
        left -= n as u64;
    }
    s.shutdown().await?;
    let mut rest = [0u8; 16];
    while s.read(&mut rest).await? > 0 {}
    Ok(started.elapsed())
}

/// Queries `name` from `sockets` sockets at once, each one query at a time, for `seconds`:
/// answered queries and their p50/p99 latency in µs.
async fn query_dns(
    server: SocketAddr,
    name: &str,
    sockets: usize,
    seconds: Duration,
) -> Result<(usize, (u128, u128))> {
    use hickory_proto::op::{Message, MessageType, OpCode, Query};
    use hickory_proto::rr::{Name, RecordType};
    let name = Name::from_ascii(name)?;
    let deadline = Instant::now() + seconds;
    let mut tasks = Vec::new();
    for k in 0..sockets {
        let name = name.clone();
        tasks.push(tokio::spawn(async move {
            let socket = tokio::net::UdpSocket::bind("0.0.0.0:0").await?;
            socket.connect(server).await?;
            let mut latencies = Vec::new();
            let mut id = (k as u16).wrapping_mul(4099);
            let mut buf = [0u8; 1500];
            while Instant::now() < deadline {
                id = id.wrapping_add(1);
                let mut m = Message::new();
                m.set_id(id)
                    .set_message_type(MessageType::Query)
                    .set_op_code(OpCode::Query)
                    .set_recursion_desired(true)
                    .add_query(Query::query(name.clone(), RecordType::A));
                let bytes = m.to_vec()?;
                let started = Instant::now();
                socket.send(&bytes).await?;
                // wait for this query's answer; a lost one is given up after a second
                let answered = tokio::time::timeout(Duration::from_secs(1), async {
                    loop {
                        let n = socket.recv(&mut buf).await?;
                        if n >= 2 && u16::from_be_bytes([buf[0], buf[1]]) == id {
                            return Ok::<_, std::io::Error>(());
                        }
                    }
                })
                .await;
                if matches!(answered, Ok(Ok(()))) {
                    latencies.push(started.elapsed());
                }
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort();
    if all.is_empty() {
        bail!("no DNS answer from {server}");
    }
    let us = |p| percentile(&all, p).as_micros();
    Ok((all.len(), (us(0.5), us(0.99))))
}

fn pod(name: &str, node: &str, image: &str, args: &[String]) -> Result<Pod> {
    let exe = std::env::current_exe()?.display().to_string();
    let mut command = vec!["/skiff".to_string(), "bench".into(), "net-peer".into()];
    command.extend(args.iter().cloned());
    // this binary and the host's libraries, on the image's root file system
    let mounts = [
        ("exe", exe.as_str(), "/skiff"),
        ("lib", "/lib", "/lib"),
        ("lib64", "/lib64", "/lib64"),
        ("usr", "/usr", "/usr"),
    ];
    Ok(serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": name}},
        "spec": {
            "nodeName": node,
            "restartPolicy": "Never",
            "containers": [{
                "name": name, "image": image, "command": command,
                "ports": [{"containerPort": SINK_PORT}],
                "volumeMounts": mounts.iter().map(|(n, _, at)| serde_json::json!({"name": n, "mountPath": at, "readOnly": true})).collect::<Vec<_>>(),
            }],
            "volumes": mounts.iter().map(|(n, path, _)| serde_json::json!({"name": n, "hostPath": {"path": path}})).collect::<Vec<_>>(),
        },
    }))?)
}

async fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut f: impl AsyncFnMut() -> Option<T>,
) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs the measurement on the cluster `client` reaches.
pub async fn cluster(client: kube::Client, image: &str, bytes: u64, runs: usize) -> Result<()> {
    let nodes: Vec<Node> = Api::<Node>::all(client.clone())
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .filter(|n| {
            n.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .collect();
    if nodes.len() < 2 {
        bail!("--cluster needs two Ready nodes (scripts/cluster-up 2 makes them)");
    }
    let (near, far) = (
        nodes[0].metadata.name.clone().unwrap_or_default(),
        nodes[1].metadata.name.clone().unwrap_or_default(),
    );
    let namespaces: Api<Namespace> = Api::all(client.clone());
    // a previous run's namespace may still be going away
    wait_for(
        "the last run's namespace to go",
        Duration::from_secs(120),
        async || match namespaces.get_opt(NAMESPACE).await {
            Ok(Some(ns)) if ns.metadata.deletion_timestamp.is_some() => None,
            _ => Some(()),
        },
    )
    .await?;
    let ns: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": NAMESPACE}}))?;
    let _ = namespaces.create(&PostParams::default(), &ns).await;
    let result = measure(client.clone(), image, bytes, runs, &near, &far).await;
    let _ = namespaces.delete(NAMESPACE, &DeleteParams::default()).await;
    result
}

async fn measure(
    client: kube::Client,
    image: &str,
    bytes: u64,
    runs: usize,
    near: &str,
    far: &str,
) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let services: Api<Service> = Api::namespaced(client.clone(), NAMESPACE);
    let pp = PostParams::default();
    pods.create(&pp, &pod("sink", far, image, &["sink".into()])?)
        .await?;
    let svc: Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "sink", "namespace": NAMESPACE},
        "spec": {"selector": {"app": "sink"}, "ports": [{"port": SINK_PORT}]},
    }))?;
    let svc = services.create(&pp, &svc).await?;
    let cluster_ip = svc
        .spec
        .and_then(|s| s.cluster_ip)
        .context("the Service has no ClusterIP")?;
    let sink_ip = wait_for("the sink pod", Duration::from_secs(120), async || {
        let p = pods.get("sink").await.ok()?;
        let s = p.status?;
        (s.phase.as_deref() == Some("Running"))
            .then_some(s.pod_ip)
            .flatten()
    })
    .await?;
    let dns = format!("{}:53", skiff_apiserver::bootstrap::CLUSTER_DNS);
    let args: Vec<String> = [
        "source",
        "--target",
        &format!("pod={sink_ip}:{SINK_PORT}"),
        "--target",
        &format!("clusterip={cluster_ip}:{SINK_PORT}"),
        "--bytes",
        &bytes.to_string(),
        "--runs",
        &runs.to_string(),
        "--dns",
        &dns,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    println!(
        "data path: client pod on {near} → sink pod {sink_ip} on {far} and its ClusterIP {cluster_ip}, {} MiB per transfer",
        bytes >> 20
    );
    pods.create(&pp, &pod("client", near, image, &args)?)
        .await?;
    let phase = wait_for(
        "the client to finish",
        Duration::from_secs(600),
        async || {
            let p = pods.get("client").await.ok()?;
            let phase = p.status?.phase?;
            matches!(phase.as_str(), "Succeeded" | "Failed").then_some(phase)
        },
    )
    .await?;
    let log = pods.logs("client", &LogParams::default()).await?;
    if phase != "Succeeded" {
        bail!("the client pod failed:\n{log}");
    }
    report(&log);
    Ok(())
}

/// Prints the client's measurements: per-target throughput (each run and the median), the
/// ClusterIP's share of direct, and the DNS numbers.
fn report(log: &str) {
    let mut rates: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for line in log.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.first() == Some(&"tcp") && f.len() >= 8 {
            let bytes: f64 = f[5].parse().unwrap_or(0.0);
            let secs: f64 = f[7].parse().unwrap_or(f64::INFINITY);
            rates
                .entry(f[1].to_string())
                .or_default()
                .push(bytes * 8.0 / secs / 1e9);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let mut medians = std::collections::BTreeMap::new();
    for (name, v) in &mut rates {
        let runs: Vec<String> = v.iter().map(|r| format!("{r:.2}")).collect();
        let m = median(v);
        medians.insert(name.clone(), m);
        println!(
            "  TCP to {name}: median {m:.2} Gbit/s (runs {})",
            runs.join(", ")
        );
    }
    if let (Some(svc), Some(pod)) = (medians.get("clusterip"), medians.get("pod")) {
        println!("  ClusterIP / pod IP: {:.1} %", svc / pod * 100.0);
    }
    for line in log.lines().filter(|l| l.starts_with("dns ")) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let get = |k: &str| {
            f.iter()
                .position(|x| *x == k)
                .and_then(|i| f.get(i + 1))
                .copied()
                .unwrap_or("?")
        };
        let p = |k: &str| {
            let us: f64 = get(k).parse().unwrap_or(0.0);
            format!("{:.2} ms", us / 1000.0)
        };
        if f.get(1) == Some(&"sequential") {
            println!(
                "  DNS one query at a time: {} answered, p50 {}, p99 {}",
                get("queries"),
                p("p50_us"),
                p("p99_us")
            );
        } else {
            let n: f64 = get("queries").parse().unwrap_or(0.0);
            let s: f64 = get("seconds").parse().unwrap_or(1.0);
            println!(
                "  DNS from {} sockets: {:.0} queries/s, p50 {}, p99 {}",
                f.get(2).unwrap_or(&"?"),
                n / s,
                p("p50_us"),
                p("p99_us")
            );
        }
    }
}
