use super::*;
use crate::runtime::{ContainerMetadata, PodSandboxMetadata, CONTAINER_TYPE_LABEL};
use std::collections::BTreeMap;

fn sandbox(annotations: &[(&str, &str)]) -> PodSandboxConfig {
    PodSandboxConfig {
        metadata: PodSandboxMetadata {
            name: "p".into(),
            namespace: "ns".into(),
            uid: "u".into(),
            attempt: 0,
        },
        annotations: annotations
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

fn container(name: &str, init: bool) -> ContainerConfig {
    ContainerConfig {
        metadata: ContainerMetadata {
            name: name.into(),
            attempt: 0,
        },
        image: "busybox:1.36".into(),
        labels: BTreeMap::from([(
            CONTAINER_TYPE_LABEL.to_string(),
            if init { "init" } else { "regular" }.to_string(),
        )]),
        ..Default::default()
    }
}

#[tokio::test]
async fn sandboxes_need_a_pod_cidr_and_get_addresses_from_it() {
    let rt = FakeRuntime::new();
    let err = rt.run_pod_sandbox(&sandbox(&[])).await.unwrap_err();
    assert!(matches!(err, Error::NetworkNotReady(_)));
    rt.update_runtime_config("10.42.5.0/24").await.unwrap();
    let id = rt.run_pod_sandbox(&sandbox(&[])).await.unwrap();
    let s = rt.pod_sandbox_status(&id).await.unwrap();
    assert_eq!(s.ip.as_deref(), Some("10.42.5.2"));
    assert_eq!(s.state, PodSandboxState::Ready);
    rt.stop_pod_sandbox(&id).await.unwrap();
    assert_eq!(rt.pod_sandbox_status(&id).await.unwrap().ip, None);
    rt.remove_pod_sandbox(&id).await.unwrap();
    assert_eq!(rt.sandbox_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn containers_exit_after_the_annotated_time_with_the_annotated_code() {
    let rt = FakeRuntime::new().recording();
    rt.update_runtime_config("10.42.0.0/24").await.unwrap();
    let sb = sandbox(&[(RUN_SECONDS_ANNOTATION, "5"), (EXIT_CODE_ANNOTATION, "3")]);
    let sid = rt.run_pod_sandbox(&sb).await.unwrap();
    let mut events = rt.container_events();
    let id = rt
        .create_container(&sid, &container("app", false), &sb)
        .await
        .unwrap();
    rt.start_container(&id).await.unwrap();
    assert_eq!(
        events.next().await.unwrap().kind,
        ContainerEventType::Created
    );
    assert_eq!(
        events.next().await.unwrap().kind,
        ContainerEventType::Started
    );
    assert_eq!(
        rt.container_status(&id).await.unwrap().state,
        ContainerState::Running
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        rt.container_status(&id).await.unwrap().state,
        ContainerState::Running
    );
    let stopped = events.next().await.unwrap();
    assert_eq!(
        (stopped.kind, stopped.pod.name.as_str()),
        (ContainerEventType::Stopped, "p")
    );
    let st = rt.container_status(&id).await.unwrap();
    assert_eq!(
        (st.state, st.exit_code, st.reason.as_str()),
        (ContainerState::Exited, 3, "Error")
    );
    assert!(st.image_ref.starts_with("busybox@sha256:"));
    assert_eq!(
        rt.calls(),
        vec![
            Call::RunPodSandbox("ns/p".into()),
            Call::CreateContainer("app".into()),
            Call::StartContainer(id.clone()),
        ]
    );
}

#[tokio::test]
async fn init_containers_exit_zero_at_once_and_regular_ones_run_until_stopped() {
    let sb = sandbox(&[]);
    assert_eq!(
        behaviour(&container("init", true), &sb),
        Some((Duration::ZERO, 0))
    );
    assert_eq!(behaviour(&container("app", false), &sb), None);
    let per_container = sandbox(&[
        (EXIT_CODE_ANNOTATION, "0"),
        ("sim.skiff.io/exit-code.app", "7"),
    ]);
    assert_eq!(
        behaviour(&container("app", false), &per_container),
        Some((Duration::ZERO, 7))
    );
    assert_eq!(
        behaviour(&container("other", false), &per_container),
        Some((Duration::ZERO, 0))
    );
    assert_eq!(
        behaviour(&container("init", true), &per_container),
        Some((Duration::ZERO, 0))
    );
    let bad = sandbox(&[(RUN_SECONDS_ANNOTATION, "-1"), (EXIT_CODE_ANNOTATION, "x")]);
    assert_eq!(behaviour(&container("app", false), &bad), None);
}

#[tokio::test]
async fn stopping_a_sandbox_stops_its_containers_and_lists_filter_by_label() {
    let rt = FakeRuntime::new();
    rt.update_runtime_config("10.42.0.0/24").await.unwrap();
    let sb = sandbox(&[]);
    let sid = rt.run_pod_sandbox(&sb).await.unwrap();
    let mut c = container("app", false);
    c.labels.insert("x".into(), "y".into());
    let id = rt.create_container(&sid, &c, &sb).await.unwrap();
    rt.start_container(&id).await.unwrap();
    assert!(rt.start_container(&id).await.is_err(), "started twice");
    let by_label = ContainerFilter {
        label_selector: BTreeMap::from([("x".to_string(), "y".to_string())]),
        ..Default::default()
    };
    assert_eq!(rt.list_containers(&by_label).await.unwrap().len(), 1);
    rt.stop_pod_sandbox(&sid).await.unwrap();
    let st = rt.container_status(&id).await.unwrap();
    assert_eq!((st.state, st.exit_code), (ContainerState::Exited, 137));
    assert!(
        rt.create_container(&sid, &c, &sb).await.is_err(),
        "sandbox not ready"
    );
    assert!(matches!(
        rt.container_status("nope").await,
        Err(Error::NotFound { .. })
    ));
}
