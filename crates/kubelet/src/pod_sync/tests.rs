use super::*;
use crate::runtime::fake::{FakeRuntime, EXIT_CODE_ANNOTATION, RUN_SECONDS_ANNOTATION};
use crate::status::{pod_status, StatusContext};
use k8s_openapi::api::core::v1::{PodSpec, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;

fn pod(policy: &str, inits: &[&str], annotations: &[(&str, &str)]) -> Pod {
    let c = |n: &str| Container {
        name: n.into(),
        image: Some("busybox".into()),
        ..Default::default()
    };
    Pod {
        metadata: ObjectMeta {
            name: Some("p".into()),
            namespace: Some("ns".into()),
            uid: Some("uid-1".into()),
            annotations: Some(
                annotations
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..Default::default()
        },
        spec: Some(PodSpec {
            restart_policy: Some(policy.into()),
            init_containers: (!inits.is_empty()).then(|| inits.iter().map(|n| c(n)).collect()),
            containers: vec![c("app")],
            ..Default::default()
        }),
        status: None,
    }
}

async fn syncer() -> (FakeRuntime, PodSyncer) {
    let rt = FakeRuntime::new().recording();
    rt.update_runtime_config("10.42.1.0/24").await.unwrap();
    (rt.clone(), PodSyncer::new(Arc::new(rt)))
}

/// Syncs and folds the new status into the pod, as the API would.
async fn sync_status(s: &PodSyncer, pod: &mut Pod) -> (PodStatus, Option<Duration>) {
    let r = s.sync(pod).await.unwrap();
    let ctx = StatusContext {
        host_ip: "127.0.0.2",
        runtime_name: "fake",
        waiting: &r.waiting,
        readiness: &Default::default(),
        started: &Default::default(),
        now: Timestamp::now(),
    };
    let status = pod_status(pod, &r.state, &ctx);
    pod.status = Some(status.clone());
    (status, r.requeue_after)
}

fn waiting_reason(s: &PodStatus) -> Option<String> {
    s.container_statuses.as_ref()?[0]
        .state
        .as_ref()?
        .waiting
        .as_ref()?
        .reason
        .clone()
}

#[tokio::test]
async fn a_pod_runs_with_an_ip_from_the_cidr() {
    let (_rt, s) = syncer().await;
    let mut p = pod("Always", &[], &[]);
    let (st, _) = sync_status(&s, &mut p).await;
    assert_eq!(st.phase.as_deref(), Some("Running"));
    assert_eq!(st.pod_ip.as_deref(), Some("10.42.1.2"));
    assert_eq!(st.host_ip.as_deref(), Some("127.0.0.2"));
    let cs = &st.container_statuses.as_ref().unwrap()[0];
    assert!(cs.ready && cs.started == Some(true));
    assert!(cs.container_id.as_deref().unwrap().starts_with("fake://"));
    let (again, _) = sync_status(&s, &mut p).await;
    assert_eq!(again, st, "a second sync changes nothing");
}

#[tokio::test(start_paused = true)]
async fn never_and_on_failure_end_in_succeeded_or_failed() {
    for (policy, code, phase) in [
        ("Never", "0", "Succeeded"),
        ("Never", "2", "Failed"),
        ("OnFailure", "0", "Succeeded"),
    ] {
        let (rt, s) = syncer().await;
        let mut p = pod(
            policy,
            &[],
            &[(RUN_SECONDS_ANNOTATION, "1"), (EXIT_CODE_ANNOTATION, code)],
        );
        assert_eq!(
            sync_status(&s, &mut p).await.0.phase.as_deref(),
            Some("Running")
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (st, _) = sync_status(&s, &mut p).await;
        assert_eq!(st.phase.as_deref(), Some(phase), "{policy} exit {code}");
        assert_eq!(
            st.pod_ip.as_deref(),
            Some("10.42.1.2"),
            "the IP stays in the status"
        );
        let (st, _) = sync_status(&s, &mut p).await;
        assert_eq!(st.phase.as_deref(), Some(phase));
        assert_eq!(
            rt.calls()
                .iter()
                .filter(|c| matches!(c, crate::runtime::fake::Call::StartContainer(_)))
                .count(),
            1
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_crashing_container_restarts_then_backs_off() {
    let (_rt, s) = syncer().await;
    let mut p = pod("Always", &[], &[(EXIT_CODE_ANNOTATION, "1")]);
    sync_status(&s, &mut p).await;
    tokio::task::yield_now().await;
    let (st, _) = sync_status(&s, &mut p).await;
    let cs = &st.container_statuses.as_ref().unwrap()[0];
    assert_eq!(cs.restart_count, 1, "the first restart is immediate");
    tokio::task::yield_now().await;
    let (st, requeue) = sync_status(&s, &mut p).await;
    assert_eq!(waiting_reason(&st).as_deref(), Some("CrashLoopBackOff"));
    assert_eq!(st.phase.as_deref(), Some("Running"));
    let cs = &st.container_statuses.as_ref().unwrap()[0];
    assert_eq!(
        cs.last_state
            .as_ref()
            .unwrap()
            .terminated
            .as_ref()
            .unwrap()
            .exit_code,
        1
    );
    assert!(requeue.is_some_and(|d| d <= Duration::from_secs(10)));
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (st, _) = sync_status(&s, &mut p).await;
    assert_eq!(st.container_statuses.as_ref().unwrap()[0].restart_count, 2);
}

#[tokio::test(start_paused = true)]
async fn init_containers_run_in_order_before_the_app() {
    let (rt, s) = syncer().await;
    let mut p = pod("Always", &["one", "two"], &[]);
    let (st, _) = sync_status(&s, &mut p).await;
    assert_eq!(st.phase.as_deref(), Some("Pending"));
    assert_eq!(waiting_reason(&st).as_deref(), Some("PodInitializing"));
    for _ in 0..3 {
        tokio::task::yield_now().await;
        sync_status(&s, &mut p).await;
    }
    let (st, _) = sync_status(&s, &mut p).await;
    assert_eq!(st.phase.as_deref(), Some("Running"));
    let created: Vec<_> = rt
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            crate::runtime::fake::Call::CreateContainer(n) => Some(n),
            _ => None,
        })
        .collect();
    assert_eq!(created, ["one", "two", "app"]);
}

#[tokio::test(start_paused = true)]
async fn a_failed_init_container_fails_a_never_pod() {
    let (_rt, s) = syncer().await;
    let mut p = pod(
        "Never",
        &["setup"],
        &[("sim.skiff.io/exit-code.setup", "1")],
    );
    sync_status(&s, &mut p).await;
    tokio::task::yield_now().await;
    let (st, _) = sync_status(&s, &mut p).await;
    assert_eq!(st.phase.as_deref(), Some("Failed"));
}

#[tokio::test]
async fn terminate_removes_everything_of_the_pod() {
    let (rt, s) = syncer().await;
    let mut p = pod("Always", &[], &[]);
    sync_status(&s, &mut p).await;
    assert_eq!(rt.sandbox_count(), 1);
    s.terminate("uid-1", Duration::from_secs(30)).await.unwrap();
    assert_eq!(rt.sandbox_count(), 0);
}

#[tokio::test]
async fn without_a_pod_cidr_the_sync_fails_with_network_not_ready() {
    let s = PodSyncer::new(Arc::new(FakeRuntime::new()));
    let err = s.sync(&pod("Always", &[], &[])).await.unwrap_err();
    assert!(matches!(err, crate::runtime::Error::NetworkNotReady(_)));
}
