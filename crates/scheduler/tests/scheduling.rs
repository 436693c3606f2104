//! In-process: an API server on loopback, nodes and pods created through the API, the
//! scheduler binding them, or explaining why not.

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use std::time::Duration;

async fn cluster() -> Result<(tempfile::TempDir, kube::Client, kube::Client)> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir()?;
    let running = skiff_apiserver::start(skiff_apiserver::Config {
        data_dir: dir.path().to_path_buf(),
        bind_address: "127.0.0.1".parse()?,
        https_port: 0,
        tls_sans: vec![],
    })
    .await?;
    let admin = skiff_client::client_from_kubeconfig(&running.kubeconfig).await?;
    let sched = skiff_client::client_from_kubeconfig(&running.scheduler_kubeconfig).await?;
    Ok((dir, admin, sched))
}

async fn add_node(client: &kube::Client, name: &str, cpu: &str, taint: Option<&str>) -> Result<()> {
    let nodes: Api<Node> = Api::all(client.clone());
    let mut node = json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
    });
    if let Some(key) = taint {
        node["spec"]["taints"] = json!([{"key": key, "effect": "NoSchedule"}]);
    }
    nodes
        .create(&PostParams::default(), &serde_json::from_value(node)?)
        .await?;
    let status = json!({"status": {
        "capacity": {"cpu": cpu, "memory": "4Gi", "pods": "110"},
        "allocatable": {"cpu": cpu, "memory": "4Gi", "pods": "110"},
        "conditions": [{"type": "Ready", "status": "True"}],
    }});
    nodes
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    Ok(())
}

fn pod(name: &str, cpu: &str, extra: serde_json::Value) -> Result<Pod> {
    let mut p = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "busybox",
            "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]},
    });
    if let (Some(spec), Some(extra)) = (p["spec"].as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    Ok(serde_json::from_value(p)?)
}

async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Result<Option<T>>) -> Result<T> {
    for _ in 0..200 {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("timed out waiting for {what}")
}

fn condition_message(p: &Pod) -> Option<String> {
    let cs = p.status.as_ref()?.conditions.as_ref()?;
    let c = cs
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")?;
    c.message.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_are_bound_spread_and_unschedulable_pods_explained() -> Result<()> {
    let (_dir, admin, sched) = cluster().await?;
    for n in ["n1", "n2", "n3"] {
        add_node(&admin, n, "2", None).await?;
    }
    tokio::spawn(skiff_scheduler::run(
        sched,
        skiff_scheduler::Config::default(),
    ));
    let pods: Api<Pod> = Api::namespaced(admin.clone(), "default");
    for i in 0..6 {
        pods.create(
            &PostParams::default(),
            &pod(&format!("web-{i}"), "500m", json!({}))?,
        )
        .await?;
    }
    let placed = eventually("six bindings", async || {
        let list = pods.list(&ListParams::default()).await?;
        let nodes: Vec<String> = list
            .items
            .iter()
            .filter_map(|p| p.spec.as_ref()?.node_name.clone())
            .collect();
        Ok((nodes.len() == 6).then_some(nodes))
    })
    .await?;
    for n in ["n1", "n2", "n3"] {
        let count = placed.iter().filter(|p| *p == n).count();
        assert_eq!(
            count, 2,
            "least allocated spreads 6 pods evenly: {placed:?}"
        );
    }

    pods.create(&PostParams::default(), &pod("huge", "3", json!({}))?)
        .await?;
    let message = eventually("an unschedulable condition", async || {
        Ok(condition_message(&pods.get("huge").await?))
    })
    .await?;
    assert_eq!(
        message,
        "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.."
    );

    add_node(&admin, "big", "4", None).await?;
    let node = eventually("the big pod bound to the new node", async || {
        Ok(pods.get("huge").await?.spec.and_then(|s| s.node_name))
    })
    .await?;
    assert_eq!(node, "big");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_high_priority_pod_preempts_and_others_schedulers_pods_are_left_alone() -> Result<()> {
    let (_dir, admin, sched) = cluster().await?;
    add_node(&admin, "only", "1", None).await?;
    add_node(&admin, "tainted", "8", Some("dedicated")).await?;
    tokio::spawn(skiff_scheduler::run(
        sched,
        skiff_scheduler::Config::default(),
    ));
    let pods: Api<Pod> = Api::namespaced(admin.clone(), "default");
    let classes: Api<k8s_openapi::api::scheduling::v1::PriorityClass> = Api::all(admin.clone());
    let high = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
        "metadata": {"name": "high"}, "value": 1000});
    classes
        .create(&PostParams::default(), &serde_json::from_value(high)?)
        .await?;
    pods.create(&PostParams::default(), &pod("low", "1", json!({}))?)
        .await?;
    pods.create(
        &PostParams::default(),
        &pod("theirs", "100m", json!({"schedulerName": "other"}))?,
    )
    .await?;
    eventually("low bound", async || {
        Ok(pods.get("low").await?.spec.and_then(|s| s.node_name))
    })
    .await?;
    pods.create(
        &PostParams::default(),
        &pod("vip", "1", json!({"priorityClassName": "high"}))?,
    )
    .await?;
    let nominated = eventually("vip nominated", async || {
        Ok(pods
            .get("vip")
            .await?
            .status
            .and_then(|s| s.nominated_node_name))
    })
    .await?;
    assert_eq!(nominated, "only");
    let low = pods.get("low").await?;
    assert!(
        low.metadata.deletion_timestamp.is_some(),
        "the victim is being deleted"
    );
    let message = condition_message(&pods.get("vip").await?).context("condition")?;
    assert_eq!(
        message,
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: }."
    );
    let theirs = pods.get("theirs").await?;
    assert!(theirs
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_ref())
        .is_none());
    assert!(condition_message(&theirs).is_none());
    Ok(())
}
