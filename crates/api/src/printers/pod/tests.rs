use super::*;
use crate::printers::test_support::now;
use serde_json::json;

fn pod(spec: Value, status: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "default", "creationTimestamp": "2024-05-01T11:50:00Z"},
        "spec": spec, "status": status
    })
}

fn one_container() -> Value {
    json!({"containers": [{"name": "app", "image": "nginx"}]})
}

fn cells(obj: &Value) -> Vec<String> {
    row(obj, now())
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect()
}

/// Ready, Status and Restarts.
fn summary(obj: &Value) -> (String, String, String) {
    let c = cells(obj);
    (c[1].clone(), c[2].clone(), c[3].clone())
}

fn s(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.into(), b.into(), c.into())
}

#[test]
fn running_pod_shows_ready_containers_and_wide_cells() {
    let spec = json!({"nodeName": "node-1", "containers": [{"name": "a"}, {"name": "b"}],
        "readinessGates": [{"conditionType": "lb/ready"}, {"conditionType": "x/ok"}]});
    let running = json!({"ready": true, "restartCount": 0, "state": {"running": {}}});
    let status = json!({"phase": "Running", "podIPs": [{"ip": "10.42.0.7"}],
        "conditions": [{"type": "lb/ready", "status": "True"}, {"type": "x/ok", "status": "False"}],
        "containerStatuses": [running.clone(), running]});
    let c = cells(&pod(spec, status));
    assert_eq!(
        c,
        [
            "web-0",
            "2/2",
            "Running",
            "0",
            "10m",
            "10.42.0.7",
            "node-1",
            "<none>",
            "1/2"
        ]
    );
}

#[test]
fn crash_looping_container_shows_restarts_with_last_restart_age() {
    let status = json!({"phase": "Running", "containerStatuses": [{
        "ready": false, "restartCount": 5,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-05-01T11:55:00Z"}}
    }]});
    assert_eq!(
        summary(&pod(one_container(), status)),
        s("0/1", "CrashLoopBackOff", "5 (5m ago)")
    );
}

#[test]
fn pending_and_creating_pods() {
    assert_eq!(
        summary(&pod(one_container(), json!({"phase": "Pending"}))),
        s("0/1", "Pending", "0")
    );
    let creating = json!({"phase": "Pending", "containerStatuses": [{"ready": false, "restartCount": 0,
        "state": {"waiting": {"reason": "ContainerCreating"}}}]});
    assert_eq!(
        summary(&pod(one_container(), creating)).1,
        "ContainerCreating"
    );
    let gated = json!({"phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]});
    assert_eq!(summary(&pod(one_container(), gated)).1, "SchedulingGated");
}

#[test]
fn init_containers_report_progress_and_failures() {
    let spec = json!({"initContainers": [{"name": "i1"}, {"name": "i2"}],
        "containers": [{"name": "app"}]});
    let done = json!({"name": "i1", "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}});
    let running = json!({"name": "i2", "restartCount": 0, "state": {"running": {}}});
    let progress = json!({"phase": "Pending", "initContainerStatuses": [done, running]});
    assert_eq!(summary(&pod(spec.clone(), progress)).1, "Init:1/2");

    let failed = json!({"name": "i1", "restartCount": 3,
        "state": {"terminated": {"exitCode": 1, "reason": "Error"}}});
    let status = json!({"phase": "Pending", "initContainerStatuses": [failed]});
    assert_eq!(
        summary(&pod(spec.clone(), status)),
        s("0/1", "Init:Error", "3")
    );

    let looping = json!({"name": "i1", "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}}});
    let status = json!({"phase": "Pending", "initContainerStatuses": [looping]});
    assert_eq!(
        summary(&pod(spec.clone(), status)).1,
        "Init:CrashLoopBackOff"
    );

    let killed = json!({"name": "i1", "state": {"terminated": {"exitCode": 137, "signal": 9}}});
    let status = json!({"phase": "Pending", "initContainerStatuses": [killed]});
    assert_eq!(summary(&pod(spec, status)).1, "Init:Signal:9");
}

#[test]
fn sidecar_init_containers_count_towards_readiness() {
    let spec = json!({"initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
        "containers": [{"name": "app"}]});
    let status = json!({"phase": "Running",
        "conditions": [{"type": "Initialized", "status": "True"}],
        "initContainerStatuses": [{"name": "proxy", "started": true, "ready": true, "restartCount": 1,
            "state": {"running": {}},
            "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-05-01T11:59:00Z"}}}],
        "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}}]});
    assert_eq!(
        summary(&pod(spec, status)),
        s("2/2", "Running", "1 (60s ago)")
    );
}

#[test]
fn finished_and_terminating_pods() {
    let completed = json!({"phase": "Succeeded", "containerStatuses": [{"ready": false, "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]});
    assert_eq!(
        summary(&pod(one_container(), completed)),
        s("0/1", "Completed", "0")
    );

    let oom = json!({"phase": "Failed", "containerStatuses": [{"state": {"terminated": {"exitCode": 137}}}]});
    assert_eq!(summary(&pod(one_container(), oom)).1, "ExitCode:137");

    let mut deleting = pod(one_container(), json!({"phase": "Running"}));
    deleting["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:59:00Z");
    assert_eq!(summary(&deleting).1, "Terminating");

    let mut lost = pod(
        one_container(),
        json!({"phase": "Running", "reason": "NodeLost"}),
    );
    lost["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:59:00Z");
    assert_eq!(summary(&lost).1, "Unknown");
}

#[test]
fn completed_container_beside_running_one_is_running_or_not_ready() {
    let spec = json!({"containers": [{"name": "a"}, {"name": "b"}]});
    let statuses = json!([
        {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
        {"name": "b", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    ]);
    let ready = json!({"phase": "Running", "containerStatuses": statuses,
        "conditions": [{"type": "Ready", "status": "True"}]});
    assert_eq!(summary(&pod(spec.clone(), ready)), s("1/2", "Running", "0"));
    let not_ready = json!({"phase": "Running", "containerStatuses": statuses});
    assert_eq!(summary(&pod(spec, not_ready)).1, "NotReady");
}

#[test]
fn garbage_input_still_yields_one_cell_per_column() {
    for obj in [
        json!(null),
        json!("pod"),
        json!({"spec": 1, "status": {"containerStatuses": "x"}}),
        json!({"status": {"initContainerStatuses": [1, null, {"state": {"terminated": null}}]}}),
        json!({"status": {"containerStatuses": [{"restartCount": i64::MAX}, {"restartCount": 9}]}}),
    ] {
        assert_eq!(row(&obj, now()).len(), COLUMNS.len());
    }
}
