//! Workload controllers against an in-process API server; the test plays scheduler and
//! kubelet (binds pods, sets their phase and readiness).

use anyhow::{bail, Result};
use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Binding, Node, ObjectReference, PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::json;
use std::future::Future;
use std::time::Duration;

struct Cluster {
    client: kube::Client,
    _dir: tempfile::TempDir,
}

async fn cluster() -> Result<Cluster> {
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
    tokio::spawn(skiff_controllers::run(controllers, Default::default()));
    let client = skiff_client::client_from_kubeconfig(&running.kubeconfig).await?;
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

async fn add_node(client: &kube::Client, name: &str) -> Result<()> {
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
    }))?;
    Api::<Node>::all(client.clone())
        .create(&PostParams::default(), &node)
        .await?;
    Ok(())
}

async fn pods(client: &kube::Client, selector: &str) -> Result<Vec<Pod>> {
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    Ok(api
        .list(&ListParams::default().labels(selector))
        .await?
        .items)
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

async fn bind(client: &kube::Client, pod: &str, node: &str) -> Result<()> {
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let binding = Binding {
        metadata: ObjectMeta {
            name: Some(pod.into()),
            ..Default::default()
        },
        target: ObjectReference {
            kind: Some("Node".into()),
            name: Some(node.into()),
            ..Default::default()
        },
    };
    let _: serde_json::Value = api
        .create_subresource("binding", pod, &PostParams::default(), &binding)
        .await?;
    Ok(())
}

/// Sets the pod's phase; `Running` pods also become Ready.
async fn set_phase(client: &kube::Client, pod: &str, phase: &str) -> Result<()> {
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let ready = if phase == "Running" { "True" } else { "False" };
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let patch = json!({"status": {"phase": phase, "conditions": [
        {"type": "Ready", "status": ready, "lastTransitionTime": now},
    ]}});
    api.patch_status(pod, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

fn container() -> serde_json::Value {
    json!([{"name": "c", "image": "busybox"}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemonset_runs_one_pod_per_node_and_a_new_node_gets_one() -> Result<()> {
    let c = cluster().await?;
    add_node(&c.client, "n1").await?;
    add_node(&c.client, "n2").await?;
    let ds: DaemonSet = serde_json::from_value(json!({
        "metadata": {"name": "agent", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": container()}},
        },
    }))?;
    let api: Api<DaemonSet> = Api::namespaced(c.client.clone(), "default");
    api.create(&PostParams::default(), &ds).await?;
    let targets = |pods: &[Pod]| {
        let mut nodes: Vec<String> = pods
            .iter()
            .filter_map(|p| skiff_controllers::daemonset::eligibility::target_node(p.spec.as_ref()))
            .collect();
        nodes.sort();
        nodes
    };
    let two = eventually(20, "a pod on each of two nodes", || async {
        let p = pods(&c.client, "app=agent").await?;
        Ok((targets(&p) == ["n1", "n2"]).then_some(p))
    })
    .await?;
    let pod = &two[0];
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    assert!(
        labels.contains_key("controller-revision-hash"),
        "{labels:?}"
    );
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.clone())
        .unwrap_or_default();
    assert!(tolerations.iter().any(
        |t| t.key.as_deref() == Some("node.kubernetes.io/unreachable")
            && t.effect.as_deref() == Some("NoExecute")
    ));

    add_node(&c.client, "n3").await?;
    let three = eventually(20, "a pod on the new node", || async {
        let p = pods(&c.client, "app=agent").await?;
        Ok((targets(&p) == ["n1", "n2", "n3"]).then_some(p))
    })
    .await?;
    assert_eq!(three.len(), 3, "exactly one pod per node");
    for p in &three {
        let name = p.metadata.name.clone().unwrap_or_default();
        let node = skiff_controllers::daemonset::eligibility::target_node(p.spec.as_ref())
            .unwrap_or_default();
        bind(&c.client, &name, &node).await?;
        set_phase(&c.client, &name, "Running").await?;
    }
    eventually(20, "status counts three available pods", || async {
        let ds = api.get("agent").await?;
        let s = ds.status.unwrap_or_default();
        Ok((s.desired_number_scheduled == 3
            && s.current_number_scheduled == 3
            && s.number_ready == 3
            && s.number_available == Some(3)
            && s.updated_number_scheduled == Some(3)
            && s.observed_generation == ds.metadata.generation)
            .then_some(()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_creates_web_0_before_web_1_with_claims() -> Result<()> {
    let c = cluster().await?;
    let sts: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": container()}},
            "volumeClaimTemplates": [{
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            }],
        },
    }))?;
    let api: Api<StatefulSet> = Api::namespaced(c.client.clone(), "default");
    api.create(&PostParams::default(), &sts).await?;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(c.client.clone(), "default");
    let pods_api: Api<Pod> = Api::namespaced(c.client.clone(), "default");
    let web0 = eventually(20, "web-0", || async {
        Ok(pods_api.get_opt("web-0").await?)
    })
    .await?;
    assert!(
        claims.get_opt("data-web-0").await?.is_some(),
        "claim made before the pod"
    );
    let spec = web0.spec.clone().unwrap_or_default();
    assert_eq!(spec.hostname.as_deref(), Some("web-0"));
    assert_eq!(spec.subdomain.as_deref(), Some("web"));
    let labels = web0.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels
            .get("statefulset.kubernetes.io/pod-name")
            .map(String::as_str),
        Some("web-0")
    );
    assert_eq!(
        labels
            .get("apps.kubernetes.io/pod-index")
            .map(String::as_str),
        Some("0")
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        pods_api.get_opt("web-1").await?.is_none(),
        "web-1 waits for web-0 to be Ready"
    );

    add_node(&c.client, "n1").await?;
    bind(&c.client, "web-0", "n1").await?;
    set_phase(&c.client, "web-0", "Running").await?;
    eventually(20, "web-1", || async {
        Ok(pods_api.get_opt("web-1").await?)
    })
    .await?;
    assert!(claims.get_opt("data-web-1").await?.is_some());
    bind(&c.client, "web-1", "n1").await?;
    set_phase(&c.client, "web-1", "Running").await?;
    eventually(20, "two ready replicas on one revision", || async {
        let s = api.get("web").await?.status.unwrap_or_default();
        Ok((s.ready_replicas == Some(2)
            && s.current_revision.is_some()
            && s.current_revision == s.update_revision)
            .then_some(()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_with_five_completions_never_runs_more_than_two() -> Result<()> {
    let c = cluster().await?;
    add_node(&c.client, "n1").await?;
    let job: Job = serde_json::from_value(json!({
        "metadata": {"name": "pi", "namespace": "default"},
        "spec": {
            "completions": 5,
            "parallelism": 2,
            "template": {"spec": {"restartPolicy": "Never", "containers": container()}},
        },
    }))?;
    let api: Api<Job> = Api::namespaced(c.client.clone(), "default");
    api.create(&PostParams::default(), &job).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut finished = 0;
    loop {
        let job = api.get("pi").await?;
        let complete = job
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == "Complete" && c.status == "True")
            });
        if complete {
            break;
        }
        let all = pods(&c.client, "batch.kubernetes.io/job-name=pi").await?;
        let running: Vec<&Pod> = all
            .iter()
            .filter(|p| !matches!(phase(p), "Succeeded" | "Failed"))
            .collect();
        assert!(running.len() <= 2, "{} pods active at once", running.len());
        if let Some(p) = running.first() {
            let name = p.metadata.name.clone().unwrap_or_default();
            let finalizers = p.metadata.finalizers.clone().unwrap_or_default();
            assert!(finalizers
                .iter()
                .any(|f| f == "batch.kubernetes.io/job-tracking"));
            if p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none() {
                bind(&c.client, &name, "n1").await?;
            }
            set_phase(&c.client, &name, "Succeeded").await?;
            finished += 1;
        }
        if tokio::time::Instant::now() > deadline {
            bail!("job did not complete; {finished} pods finished");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = api.get("pi").await?.status.unwrap_or_default();
    assert_eq!(status.succeeded, Some(5));
    assert_eq!(status.active.unwrap_or(0), 0);
    assert!(status.completion_time.is_some());
    let conditions: Vec<String> = status
        .conditions
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.type_)
        .collect();
    assert!(
        conditions.contains(&"SuccessCriteriaMet".to_string()),
        "{conditions:?}"
    );
    eventually(20, "finalizers removed", || async {
        let all = pods(&c.client, "batch.kubernetes.io/job-name=pi").await?;
        Ok(all
            .iter()
            .all(|p| p.metadata.finalizers.as_ref().is_none_or(|f| f.is_empty()))
            .then_some(()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cronjob_every_minute_creates_a_job() -> Result<()> {
    let c = cluster().await?;
    let cj: CronJob = serde_json::from_value(json!({
        "metadata": {"name": "tick", "namespace": "default"},
        "spec": {
            "schedule": "*/1 * * * *",
            "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": container()}}}},
        },
    }))?;
    let api: Api<CronJob> = Api::namespaced(c.client.clone(), "default");
    api.create(&PostParams::default(), &cj).await?;
    let jobs: Api<Job> = Api::namespaced(c.client.clone(), "default");
    let job = eventually(75, "a Job from the CronJob", || async {
        Ok(jobs
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .find(|j| {
                j.metadata
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with("tick-"))
            }))
    })
    .await?;
    let annotations = job.metadata.annotations.clone().unwrap_or_default();
    let stamp = annotations
        .get("batch.kubernetes.io/cronjob-scheduled-timestamp")
        .cloned()
        .unwrap_or_default();
    let scheduled: k8s_openapi::jiff::Timestamp = stamp.parse()?;
    assert_eq!(scheduled.as_second() % 60, 0);
    assert_eq!(
        job.metadata.name,
        Some(format!("tick-{}", scheduled.as_second() / 60))
    );
    let owner = job.metadata.owner_references.clone().unwrap_or_default();
    assert!(owner
        .iter()
        .any(|o| o.kind == "CronJob" && o.controller == Some(true)));
    eventually(10, "status lists the active job", || async {
        let s = api.get("tick").await?.status.unwrap_or_default();
        let active = s.active.unwrap_or_default();
        Ok(
            (s.last_schedule_time.is_some() && active.iter().any(|r| r.name == job.metadata.name))
                .then_some(()),
        )
    })
    .await
}
