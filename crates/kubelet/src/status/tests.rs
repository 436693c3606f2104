use super::*;
use crate::runtime::{ContainerMetadata, PodSandbox, PodSandboxMetadata, PodSandboxState};
use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

fn pod(policy: &str, inits: &[&str], containers: &[&str]) -> Pod {
    let c = |n: &&str| Container {
        name: n.to_string(),
        image: Some("busybox".into()),
        ..Default::default()
    };
    Pod {
        metadata: ObjectMeta {
            name: Some("p".into()),
            uid: Some("u".into()),
            ..Default::default()
        },
        spec: Some(PodSpec {
            restart_policy: Some(policy.into()),
            init_containers: Some(inits.iter().map(c).collect()),
            containers: containers.iter().map(c).collect(),
            ..Default::default()
        }),
        status: None,
    }
}

fn sandbox() -> PodSandbox {
    PodSandbox {
        id: "sb".into(),
        metadata: PodSandboxMetadata::default(),
        state: PodSandboxState::Ready,
        created_at: Timestamp::UNIX_EPOCH,
        ip: Some("10.42.0.9".into()),
        labels: BTreeMap::new(),
    }
}

/// A runtime container: `None` exit code means running.
fn ctr(name: &str, attempt: u32, exit: Option<i32>) -> RtStatus {
    let t = Timestamp::from_second(1_700_000_000 + i64::from(attempt) * 10).unwrap();
    RtStatus {
        id: format!("{name}-{attempt}"),
        pod_sandbox_id: "sb".into(),
        metadata: ContainerMetadata {
            name: name.into(),
            attempt,
        },
        state: if exit.is_some() {
            RtState::Exited
        } else {
            RtState::Running
        },
        created_at: t,
        started_at: Some(t),
        finished_at: exit.map(|_| t),
        exit_code: exit.unwrap_or(0),
        image: "busybox".into(),
        image_ref: "busybox@sha256:00".into(),
        reason: String::new(),
        message: String::new(),
        labels: BTreeMap::new(),
    }
}

fn state(containers: Vec<RtStatus>) -> PodRuntimeState {
    PodRuntimeState {
        sandbox: Some(sandbox()),
        sandboxes: vec![sandbox()],
        containers,
    }
}

fn status_of(pod: &Pod, st: &PodRuntimeState) -> PodStatus {
    let waiting = HashMap::new();
    let readiness = HashMap::new();
    let ctx = StatusContext {
        host_ip: "127.0.0.1",
        runtime_name: "containerd",
        waiting: &waiting,
        readiness: &readiness,
        started: &Default::default(),
        now: Timestamp::from_second(1_700_000_100).unwrap(),
    };
    pod_status(pod, st, &ctx)
}

fn phase_of(policy: &str, exits: &[Option<i32>]) -> String {
    let names: Vec<String> = (0..exits.len()).map(|i| format!("c{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let containers = exits
        .iter()
        .zip(&names)
        .map(|(e, n)| ctr(n, 0, *e))
        .collect();
    status_of(&pod(policy, &[], &refs), &state(containers))
        .phase
        .unwrap()
}

#[test]
fn phases_follow_the_restart_policy() {
    assert_eq!(phase_of("Always", &[None]), "Running");
    assert_eq!(
        phase_of("Always", &[Some(0)]),
        "Running",
        "Always restarts even on success"
    );
    assert_eq!(phase_of("Never", &[Some(0), Some(0)]), "Succeeded");
    assert_eq!(phase_of("Never", &[Some(0), Some(1)]), "Failed");
    assert_eq!(phase_of("Never", &[None, Some(1)]), "Running");
    assert_eq!(phase_of("OnFailure", &[Some(0)]), "Succeeded");
    assert_eq!(
        phase_of("OnFailure", &[Some(1)]),
        "Running",
        "OnFailure restarts a failure"
    );
}

#[test]
fn nothing_started_yet_is_pending_and_creating() {
    let p = pod("Always", &[], &["app"]);
    let mut st = state(vec![]);
    st.sandbox = None;
    let s = status_of(&p, &st);
    assert_eq!(s.phase.as_deref(), Some("Pending"));
    let cs = &s.container_statuses.unwrap()[0];
    assert_eq!(
        cs.state
            .as_ref()
            .unwrap()
            .waiting
            .as_ref()
            .unwrap()
            .reason
            .as_deref(),
        Some("ContainerCreating")
    );
    let conds = s.conditions.unwrap();
    let ready = conds.iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!(ready.reason.as_deref(), Some("ContainersNotReady"));
    assert_eq!(
        ready.message.as_deref(),
        Some("containers with unready status: [app]")
    );
    let sandbox = conds
        .iter()
        .find(|c| c.type_ == "PodReadyToStartContainers")
        .unwrap();
    assert_eq!(sandbox.status, "False");
    assert_eq!(s.pod_ip, None);
}

#[test]
fn init_containers_gate_initialized_and_a_failed_one_fails_a_never_pod() {
    let p = pod("Always", &["i1", "i2"], &["app"]);
    let s = status_of(&p, &state(vec![ctr("i1", 0, Some(0)), ctr("i2", 0, None)]));
    assert_eq!(s.phase.as_deref(), Some("Pending"));
    let init = s
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == "Initialized")
        .unwrap()
        .clone();
    assert_eq!(
        (init.status.as_str(), init.reason.as_deref()),
        ("False", Some("ContainersNotInitialized"))
    );
    assert_eq!(
        init.message.as_deref(),
        Some("containers with incomplete status: [i2]")
    );
    let app = &s.container_statuses.as_ref().unwrap()[0];
    assert_eq!(
        app.state
            .as_ref()
            .unwrap()
            .waiting
            .as_ref()
            .unwrap()
            .reason
            .as_deref(),
        Some("PodInitializing")
    );
    assert_eq!(s.init_container_statuses.as_ref().unwrap().len(), 2);

    let never = pod("Never", &["i1"], &["app"]);
    assert_eq!(
        status_of(&never, &state(vec![ctr("i1", 0, Some(1))]))
            .phase
            .as_deref(),
        Some("Failed")
    );
    let always = pod("Always", &["i1"], &["app"]);
    assert_eq!(
        status_of(&always, &state(vec![ctr("i1", 0, Some(1))]))
            .phase
            .as_deref(),
        Some("Pending")
    );
}

#[test]
fn a_running_pod_has_every_condition_true_in_upstream_order() {
    let p = pod("Always", &["i1"], &["b", "a"]);
    let s = status_of(
        &p,
        &state(vec![
            ctr("i1", 0, Some(0)),
            ctr("a", 0, None),
            ctr("b", 2, None),
            ctr("b", 1, Some(1)),
        ]),
    );
    assert_eq!(s.phase.as_deref(), Some("Running"));
    let conds = s.conditions.clone().unwrap();
    let types: Vec<&str> = conds.iter().map(|c| c.type_.as_str()).collect();
    assert_eq!(
        types,
        [
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled"
        ]
    );
    assert!(conds.iter().all(|c| c.status == "True"));
    let cs = s.container_statuses.clone().unwrap();
    assert_eq!(
        cs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"],
        "sorted by name"
    );
    assert_eq!(cs[1].restart_count, 2);
    assert_eq!(
        cs[1]
            .last_state
            .as_ref()
            .unwrap()
            .terminated
            .as_ref()
            .unwrap()
            .exit_code,
        1
    );
    assert_eq!(cs[0].container_id.as_deref(), Some("containerd://a-0"));
    assert_eq!(cs[0].image_id, "busybox@sha256:00");
    assert_eq!(s.pod_ip.as_deref(), Some("10.42.0.9"));
    assert_eq!(s.host_ips.as_ref().unwrap()[0].ip, "127.0.0.1");
    assert_eq!(s.qos_class.as_deref(), Some("BestEffort"));
    assert!(s.start_time.is_some());

    let mut later = p.clone();
    later.status = Some(s.clone());
    assert_eq!(
        status_of(
            &later,
            &state(vec![
                ctr("i1", 0, Some(0)),
                ctr("a", 0, None),
                ctr("b", 2, None),
                ctr("b", 1, Some(1))
            ])
        ),
        s,
        "recomputing an unchanged pod keeps transition times and start time"
    );
}

#[test]
fn a_succeeded_pod_reports_pod_completed_and_stays_terminal() {
    let p = pod("Never", &[], &["app"]);
    let s = status_of(&p, &state(vec![ctr("app", 0, Some(0))]));
    let ready = s
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap()
        .clone();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_deref()),
        ("False", Some("PodCompleted"))
    );
    let t = s.container_statuses.as_ref().unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(t.reason.as_deref(), Some("Completed"));
    let mut done = p.clone();
    done.status = Some(s);
    let mut st = state(vec![]);
    st.sandbox = None;
    assert_eq!(
        status_of(&done, &st).phase.as_deref(),
        Some("Succeeded"),
        "a terminal phase never goes back"
    );
}

#[test]
fn readiness_gates_hold_ready_until_their_condition_is_true() {
    let mut p = pod("Always", &[], &["app"]);
    p.spec.as_mut().unwrap().readiness_gates =
        Some(vec![k8s_openapi::api::core::v1::PodReadinessGate {
            condition_type: "example.com/lb".into(),
        }]);
    let s = status_of(&p, &state(vec![ctr("app", 0, None)]));
    let ready = s
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap()
        .clone();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_deref()),
        ("False", Some("ReadinessGatesNotReady"))
    );
    let cr = s
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == "ContainersReady")
        .unwrap()
        .clone();
    assert_eq!(cr.status, "True");
}
