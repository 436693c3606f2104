//! Hollow nodes against an in-process API server: registration, leases, pods through their
//! lifecycle, graceful deletion, and a stopped node going silent.

use anyhow::{bail, Result};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::json;
use skiff_sim::{HollowNodes, NodesConfig, EXIT_CODE_ANNOTATION, RUN_SECONDS_ANNOTATION};
use std::future::Future;
use std::time::Duration;

async fn eventually<T, F, Fut>(what: &str, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f().await {
            return Ok(v);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn pod(name: &str, policy: &str, annotations: serde_json::Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "annotations": annotations},
        "spec": {
            "restartPolicy": policy,
            "containers": [{"name": "app", "image": "busybox",
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}],
        },
    }))
    .unwrap()
}

async fn bind(pods: &Api<Pod>, name: &str, node: &str) -> Result<()> {
    let binding = json!({
        "apiVersion": "v1", "kind": "Binding",
        "metadata": {"name": name},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    });
    pods.create_subresource::<_, serde_json::Value>(
        "binding",
        name,
        &PostParams::default(),
        &binding,
    )
    .await?;
    Ok(())
}

async fn create_bound(pods: &Api<Pod>, p: Pod, node: &str) -> Result<()> {
    let name = p.metadata.name.clone().unwrap();
    pods.create(&PostParams::default(), &p).await?;
    bind(pods, &name, node).await
}

async fn phase(pods: &Api<Pod>, name: &str) -> Option<String> {
    pods.get(name).await.ok()?.status?.phase
}

async fn renew_time(leases: &Api<Lease>, node: &str) -> Option<k8s_openapi::jiff::Timestamp> {
    Some(leases.get(node).await.ok()?.spec?.renew_time?.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hollow_nodes_run_pods_through_their_lifecycle() -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir()?;
    let running = skiff_apiserver::start(skiff_apiserver::Config {
        data_dir: dir.path().to_path_buf(),
        bind_address: "127.0.0.1".parse().unwrap(),
        https_port: 0,
        tls_sans: vec![],
    })
    .await?;
    let client = skiff_client::client_from_kubeconfig(&running.kubeconfig).await?;
    let config = NodesConfig {
        count: 2,
        lease_interval: Duration::from_secs(1),
        ..Default::default()
    };
    let nodes = HollowNodes::start(client.clone(), config).await?;
    assert_eq!(nodes.names(), ["sim-0", "sim-1"]);

    let node_api: Api<Node> = Api::all(client.clone());
    let n0 = node_api.get("sim-0").await?;
    let labels = n0.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels.get("kubernetes.io/hostname").map(String::as_str),
        Some("sim-0")
    );
    assert!(skiff_kubelet::node::is_ready(&n0));
    assert_eq!(n0.status.unwrap().capacity.unwrap()["cpu"].0, "8");

    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let first = eventually("a lease", || renew_time(&leases, "sim-0")).await?;
    eventually("a renewal", || async {
        renew_time(&leases, "sim-0").await.filter(|t| *t > first)
    })
    .await?;

    // A bound pod waits for the node's pod CIDR, then runs with an IP from it.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    create_bound(&pods, pod("web", "Always", json!({})), "sim-0").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        phase(&pods, "web").await.as_deref(),
        Some("Pending"),
        "no CIDR yet"
    );
    for (node, cidr) in [("sim-0", "10.42.7.0/24"), ("sim-1", "10.42.8.0/24")] {
        let patch = json!({"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}});
        node_api
            .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    let web = eventually("web Running", || async {
        let p = pods.get("web").await.ok()?;
        (p.status.as_ref()?.phase.as_deref() == Some("Running")).then_some(p)
    })
    .await?;
    let status = web.status.unwrap();
    assert!(
        status.pod_ip.as_deref().unwrap().starts_with("10.42.7."),
        "{:?}",
        status.pod_ip
    );
    let ready = status
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.status, "True");
    assert!(status.container_statuses.unwrap()[0].ready);

    // Pods that exit: restartPolicy Never ends in Succeeded or Failed.
    let exits = |code: &str| json!({RUN_SECONDS_ANNOTATION: "1", EXIT_CODE_ANNOTATION: code});
    create_bound(&pods, pod("ok", "Never", exits("0")), "sim-1").await?;
    create_bound(&pods, pod("bad", "Never", exits("3")), "sim-1").await?;
    eventually("ok Succeeded", || async {
        (phase(&pods, "ok").await.as_deref() == Some("Succeeded")).then_some(())
    })
    .await?;
    eventually("bad Failed", || async {
        (phase(&pods, "bad").await.as_deref() == Some("Failed")).then_some(())
    })
    .await?;
    let bad = pods
        .get("bad")
        .await?
        .status
        .unwrap()
        .container_statuses
        .unwrap();
    let term = bad[0].state.clone().unwrap().terminated.unwrap();
    assert_eq!((term.exit_code, term.reason.as_deref()), (3, Some("Error")));

    // A crashing pod under Always restarts and backs off.
    create_bound(
        &pods,
        pod("crash", "Always", json!({EXIT_CODE_ANNOTATION: "1"})),
        "sim-1",
    )
    .await?;
    eventually("CrashLoopBackOff", || async {
        let cs = pods.get("crash").await.ok()?.status?.container_statuses?;
        let waiting = cs[0].state.clone()?.waiting?;
        (waiting.reason.as_deref() == Some("CrashLoopBackOff") && cs[0].restart_count >= 1)
            .then_some(())
    })
    .await?;

    // Settled pods see no more writes (no status ping-pong with the informer).
    let rv = |p: Pod| p.metadata.resource_version;
    let (web_rv, ok_rv) = (rv(pods.get("web").await?), rv(pods.get("ok").await?));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rv(pods.get("web").await?), web_rv);
    assert_eq!(rv(pods.get("ok").await?), ok_rv);

    // Graceful deletion: the node stops the pod and finalizes it.
    pods.delete("web", &DeleteParams::default()).await?;
    eventually("web gone", || async {
        pods.get_opt("web").await.ok()?.is_none().then_some(())
    })
    .await?;
    eventually("web's sandbox removed", || async {
        (nodes.sandbox_count() == 3).then_some(())
    })
    .await?;

    // A stopped node renews its Lease no more.
    assert!(nodes.stop_node("sim-1"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped_at = renew_time(&leases, "sim-1").await.unwrap();
    let alive_at = renew_time(&leases, "sim-0").await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(renew_time(&leases, "sim-1").await.unwrap(), stopped_at);
    assert!(renew_time(&leases, "sim-0").await.unwrap() > alive_at);
    drop(nodes);
    Ok(())
}
