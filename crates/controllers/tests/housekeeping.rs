//! Housekeeping controllers against an in-process API server: garbage collection, namespace
//! deletion, node IPAM and lifecycle with taint eviction, disruption budgets, quotas and
//! service accounts. The test plays kubelet (creates Nodes and Leases, patches pod status).

use anyhow::{bail, Result};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod, ResourceQuota, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, PropagationPolicy};
use kube::Api;
use serde_json::{json, Value};
use std::future::Future;
use std::time::Duration;

struct Cluster {
    client: kube::Client,
    _dir: tempfile::TempDir,
}

async fn cluster(settings: skiff_controllers::Config) -> Result<Cluster> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir()?;
    let running = skiff_apiserver::start(skiff_apiserver::Config {
        data_dir: dir.path().to_path_buf(),
        bind_address: "127.0.0.1".parse()?,
        https_port: 0,
        tls_sans: vec![],
    })
    .await?;
    let controllers = skiff_client::client_from_kubeconfig(&running.controllers_kubeconfig).await?;
    tokio::spawn(skiff_controllers::run(controllers, settings));
    // the test client reports 429s instead of retrying them, as kubectl drain expects to see them
    let kubeconfig = kube::config::Kubeconfig::read_from(&running.kubeconfig)?;
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?;
    config.default_retry = false;
    let client = kube::Client::try_from(config)?;
    Ok(Cluster { client, _dir: dir })
}

/// Polls `f` every 100 ms until it yields `Some`, for at most `secs` seconds.
async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await? {
            return Ok(v);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn object<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("test object")
}

async fn config_map(
    api: &Api<ConfigMap>,
    name: &str,
    owner: Option<(&ConfigMap, bool)>,
) -> Result<ConfigMap> {
    let refs = owner.map(|(o, block)| {
        json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": o.metadata.name, "uid": o.metadata.uid, "blockOwnerDeletion": block}])
    });
    let cm = object(json!({"metadata": {"name": name, "ownerReferences": refs}}));
    Ok(api.create(&PostParams::default(), &cm).await?)
}

#[tokio::test]
async fn garbage_collector_background_foreground_and_orphan() -> Result<()> {
    let c = cluster(Default::default()).await?;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    // background: the dependent of a deleted owner goes
    let owner = config_map(&cms, "bg-owner", None).await?;
    config_map(&cms, "bg-dep", Some((&owner, false))).await?;
    cms.delete("bg-owner", &DeleteParams::background()).await?;
    eventually(20, "background dependent deleted", || async {
        Ok(cms.get_opt("bg-dep").await?.is_none().then_some(()))
    })
    .await?;
    // a dependent whose owner never existed goes too
    let ghost: ConfigMap = object(
        json!({"metadata": {"name": "ghost", "uid": "00000000-0000-0000-0000-000000000000"}}),
    );
    config_map(&cms, "dangling", Some((&ghost, false))).await?;
    eventually(20, "dangling dependent deleted", || async {
        Ok(cms.get_opt("dangling").await?.is_none().then_some(()))
    })
    .await?;
    // foreground: dependents go first, then the owner
    let owner = config_map(&cms, "fg-owner", None).await?;
    config_map(&cms, "fg-dep", Some((&owner, true))).await?;
    cms.delete("fg-owner", &DeleteParams::foreground()).await?;
    eventually(20, "foreground owner and dependent deleted", || async {
        let dep = cms.get_opt("fg-dep").await?;
        let owner = cms.get_opt("fg-owner").await?;
        if dep.is_some() {
            assert!(
                owner.is_some(),
                "the owner went before its blocking dependent"
            );
        }
        Ok((dep.is_none() && owner.is_none()).then_some(()))
    })
    .await?;
    // orphan: the dependent stays, without its owner reference
    let owner = config_map(&cms, "or-owner", None).await?;
    config_map(&cms, "or-dep", Some((&owner, true))).await?;
    let orphan = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Orphan),
        ..Default::default()
    };
    cms.delete("or-owner", &orphan).await?;
    eventually(20, "orphaning owner deleted", || async {
        Ok(cms.get_opt("or-owner").await?.is_none().then_some(()))
    })
    .await?;
    let dep = cms.get("or-dep").await?;
    assert!(dep.metadata.owner_references.unwrap_or_default().is_empty());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(cms.get_opt("or-dep").await?.is_some(), "orphan survives");
    Ok(())
}

#[tokio::test]
async fn deleting_a_namespace_empties_and_removes_it() -> Result<()> {
    let c = cluster(Default::default()).await?;
    let namespaces: Api<Namespace> = Api::all(c.client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "doomed"}})),
        )
        .await?;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "doomed");
    config_map(&cms, "c", None).await?;
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), "doomed");
    let pod = object(
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
    );
    pods.create(&PostParams::default(), &pod).await?;
    namespaces
        .delete("doomed", &DeleteParams::default())
        .await?;
    eventually(30, "namespace removed", || async {
        Ok(namespaces.get_opt("doomed").await?.is_none().then_some(()))
    })
    .await?;
    Ok(())
}

async fn ready_node(client: &kube::Client, name: &str) -> Result<()> {
    let nodes: Api<Node> = Api::all(client.clone());
    nodes
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": name}})),
        )
        .await?;
    heartbeat(client, name).await?;
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let lease = object(
        json!({"metadata": {"name": name}, "spec": {"holderIdentity": name, "leaseDurationSeconds": 40}}),
    );
    leases.create(&PostParams::default(), &lease).await?;
    renew(client, name).await
}

async fn heartbeat(client: &kube::Client, name: &str) -> Result<()> {
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let status = json!({"status": {"conditions": [
        {"type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": now, "lastTransitionTime": now}
    ]}});
    Api::<Node>::all(client.clone())
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    Ok(())
}

async fn renew(client: &kube::Client, name: &str) -> Result<()> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let patch = json!({"spec": {"renewTime": now}});
    leases
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

async fn bound_pod(
    client: &kube::Client,
    name: &str,
    node: &str,
    tolerations: Value,
) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pod = object(json!({"metadata": {"name": name}, "spec": {
        "nodeName": node, "tolerations": tolerations, "containers": [{"name": "c", "image": "busybox"}]}}));
    pods.create(&PostParams::default(), &pod).await?;
    let status = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
    pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    Ok(())
}

fn taints(node: &Node) -> Vec<(String, String)> {
    node.spec
        .iter()
        .flat_map(|s| s.taints.iter().flatten())
        .map(|t| (t.key.clone(), t.effect.clone()))
        .collect()
}

#[tokio::test]
async fn nodes_get_pod_cidrs_and_silent_nodes_are_tainted_and_drained() -> Result<()> {
    let config = skiff_controllers::Config {
        node_monitor_grace_period: Some(Duration::from_secs(3)),
        ..Default::default()
    };
    let c = cluster(config).await?;
    let nodes: Api<Node> = Api::all(c.client.clone());
    ready_node(&c.client, "n1").await?;
    ready_node(&c.client, "n2").await?;
    let cidrs = eventually(20, "pod CIDRs", || async {
        let a = nodes.get("n1").await?.spec.and_then(|s| s.pod_cidr);
        let b = nodes.get("n2").await?.spec.and_then(|s| s.pod_cidr);
        Ok(a.zip(b))
    })
    .await?;
    assert_ne!(cidrs.0, cidrs.1);
    for cidr in [&cidrs.0, &cidrs.1] {
        assert!(
            cidr.starts_with("10.42.") && cidr.ends_with(".0/24"),
            "{cidr}"
        );
    }
    let n1 = nodes.get("n1").await?;
    assert_eq!(
        n1.spec.and_then(|s| s.pod_cidrs),
        Some(vec![cidrs.0.clone()])
    );
    // n2 keeps its heartbeat; n1 goes silent
    let client = c.client.clone();
    let keep_alive = tokio::spawn(async move {
        loop {
            let _ = renew(&client, "n2").await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    let unreachable = json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2}]);
    bound_pod(&c.client, "short", "n1", unreachable).await?;
    bound_pod(&c.client, "forever", "n1", json!([{"operator": "Exists"}])).await?;
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), "default");
    let defaulted = pods
        .get("short")
        .await?
        .spec
        .and_then(|s| s.tolerations)
        .unwrap_or_default();
    assert!(
        defaulted
            .iter()
            .any(|t| t.key.as_deref() == Some("node.kubernetes.io/not-ready")
                && t.toleration_seconds == Some(300)),
        "DefaultTolerationSeconds adds not-ready: {defaulted:?}"
    );
    let n1 = eventually(20, "n1 Unknown and tainted", || async {
        let n = nodes.get("n1").await?;
        let t = taints(&n);
        let unknown = n
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.type_ == "Ready"
                        && c.status == "Unknown"
                        && c.reason.as_deref() == Some("NodeStatusUnknown")
                })
            });
        Ok((unknown && t.len() == 2).then_some(n))
    })
    .await?;
    let ready = n1
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(
        ready.message.as_deref(),
        Some("Kubelet stopped posting node status.")
    );
    assert!(taints(&nodes.get("n1").await?)
        .contains(&("node.kubernetes.io/unreachable".into(), "NoExecute".into())));
    let tainted_at = tokio::time::Instant::now();
    eventually(15, "the pod tolerating 2 s evicted", || async {
        let gone = pods
            .get_opt("short")
            .await?
            .is_none_or(|p| p.metadata.deletion_timestamp.is_some());
        Ok(gone.then_some(()))
    })
    .await?;
    assert!(
        tainted_at.elapsed() >= Duration::from_millis(500),
        "evicted after its toleration, not at once"
    );
    let forever = pods.get("forever").await?;
    assert!(
        forever.metadata.deletion_timestamp.is_none(),
        "a pod tolerating forever stays"
    );
    assert!(
        !skiff_controllers::pods::is_ready(&forever),
        "pods of an Unknown node are not ready"
    );
    let n2 = nodes.get("n2").await?;
    assert!(
        taints(&n2).is_empty(),
        "a node with a fresh Lease is untouched"
    );
    // n1 comes back: its taints go
    heartbeat(&c.client, "n1").await?;
    renew(&c.client, "n1").await?;
    eventually(20, "n1 untainted", || async {
        Ok(taints(&nodes.get("n1").await?).is_empty().then_some(()))
    })
    .await?;
    keep_alive.abort();
    Ok(())
}

#[tokio::test]
async fn disruption_budgets_report_status_and_evictions_spend_it() -> Result<()> {
    let c = cluster(Default::default()).await?;
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), "default");
    let ready_pod = |name: &'static str| {
        let pods = pods.clone();
        async move {
            let pod = object(
                json!({"metadata": {"name": name, "labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
            );
            pods.create(&PostParams::default(), &pod).await?;
            let status = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
            pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
                .await?;
            anyhow::Ok(())
        }
    };
    for name in ["a", "b", "c"] {
        ready_pod(name).await?;
    }
    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(c.client.clone(), "default");
    let pdb = object(
        json!({"metadata": {"name": "web"}, "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}}),
    );
    pdbs.create(&PostParams::default(), &pdb).await?;
    let status = |want: i32| {
        let pdbs = pdbs.clone();
        async move {
            eventually(20, "budget status", || async {
                let s = pdbs.get("web").await?.status.unwrap_or_default();
                Ok((s.observed_generation == Some(1)
                    && s.disruptions_allowed == want
                    && s.current_healthy >= 2)
                    .then_some(s))
            })
            .await
        }
    };
    let s = status(1).await?;
    assert_eq!(
        (s.expected_pods, s.current_healthy, s.desired_healthy),
        (3, 3, 2)
    );
    let cond = s
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "DisruptionAllowed")
        .unwrap();
    assert_eq!(
        (cond.status.as_str(), cond.reason.as_str()),
        ("True", "SufficientPods")
    );
    let evict = |name: &'static str| {
        let pods = pods.clone();
        async move { pods.evict(name, &Default::default()).await }
    };
    evict("a").await?;
    match evict("b").await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 429, "{s:?}"),
        other => bail!("a second eviction must wait for the budget: {other:?}"),
    }
    let s = status(0).await?;
    assert_eq!(s.conditions.unwrap()[0].reason, "InsufficientPods");
    ready_pod("d").await?;
    status(1).await?;
    evict("b").await?;
    Ok(())
}

#[tokio::test]
async fn namespaces_get_a_default_service_account_and_quotas_are_enforced() -> Result<()> {
    let c = cluster(Default::default()).await?;
    let namespaces: Api<Namespace> = Api::all(c.client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "q"}})),
        )
        .await?;
    let accounts: Api<ServiceAccount> = Api::namespaced(c.client.clone(), "q");
    eventually(20, "default ServiceAccount", || async {
        Ok(accounts.get_opt("default").await?)
    })
    .await?;
    accounts.delete("default", &DeleteParams::default()).await?;
    eventually(20, "default ServiceAccount recreated", || async {
        Ok(accounts.get_opt("default").await?)
    })
    .await?;
    let quotas: Api<ResourceQuota> = Api::namespaced(c.client.clone(), "q");
    let quota = object(
        json!({"metadata": {"name": "q"}, "spec": {"hard": {"pods": "2", "configmaps": "10"}}}),
    );
    quotas.create(&PostParams::default(), &quota).await?;
    eventually(20, "quota status", || async {
        let s = quotas.get("q").await?.status.unwrap_or_default();
        Ok(s.hard.is_some().then_some(()))
    })
    .await?;
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), "q");
    let pod = |name: &str| {
        object::<Pod>(
            json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
        )
    };
    let (pp, p1, p2) = (PostParams::default(), pod("p1"), pod("p2"));
    let (a, b) = tokio::join!(pods.create(&pp, &p1), pods.create(&pp, &p2));
    let created = pods.get("p1").await?;
    assert_eq!(
        created.spec.and_then(|s| s.service_account_name).as_deref(),
        Some("default")
    );
    a?;
    b?;
    match pods.create(&PostParams::default(), &pod("p3")).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
            assert_eq!(s.message, "pods \"p3\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2");
        }
        other => bail!("a third pod must exceed the quota: {other:?}"),
    }
    let used = eventually(20, "quota usage", || async {
        let s = quotas.get("q").await?.status.unwrap_or_default();
        let used = s.used.unwrap_or_default();
        let pods = used.get("pods").map(|q| q.0.clone());
        Ok((pods.as_deref() == Some("2") && used.contains_key("configmaps")).then_some(used))
    })
    .await?;
    assert!(used["configmaps"].0.parse::<u32>().is_ok());
    // once a pod is deleted, the controller gives its share back
    pods.delete("p1", &DeleteParams::default()).await?;
    eventually(20, "usage released", || async {
        let s = quotas.get("q").await?.status.unwrap_or_default();
        Ok(
            (s.used.unwrap_or_default().get("pods").map(|q| q.0.as_str()) == Some("1"))
                .then_some(()),
        )
    })
    .await?;
    if let Err(e) = pods.create(&PostParams::default(), &pod("p3")).await {
        let q = quotas.get("q").await?;
        let list = pods.list(&Default::default()).await?;
        let names: Vec<_> = list.items.iter().map(|p| p.metadata.name.clone()).collect();
        bail!(
            "{e}: {:?} {:?} {names:?}",
            q.status,
            q.metadata.resource_version
        );
    }
    Ok(())
}
