use super::*;
use crate::daemonset::eligibility::{pin_to_node, target_node};
use serde_json::json;

fn ds(strategy: serde_json::Value) -> DaemonSet {
    serde_json::from_value(json!({
        "metadata": {"name": "agent", "namespace": "default", "uid": "ds-uid", "generation": 2},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {
                "containers": [{"name": "c"}],
                "nodeSelector": {"role": "worker"},
            }},
            "updateStrategy": strategy,
        },
    }))
    .unwrap()
}

fn node(name: &str, taints: serde_json::Value) -> Arc<Node> {
    Arc::new(
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"role": "worker"}},
            "spec": {"taints": taints},
        }))
        .unwrap(),
    )
}

fn pod(name: &str, node: &str, hash: &str, phase: &str, ready: bool) -> Arc<Pod> {
    let mut spec = PodSpec::default();
    pin_to_node(&mut spec, node);
    Arc::new(
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"controller-revision-hash": hash},
                "creationTimestamp": format!("2024-05-01T10:00:0{}Z", name.len() % 10)},
            "spec": spec,
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"},
                "lastTransitionTime": "2024-05-01T10:00:00Z"}]},
        }))
        .unwrap(),
    )
}

fn by_node(pods: &[Arc<Pod>]) -> PodsByNode {
    let mut out = PodsByNode::new();
    for p in pods {
        out.entry(target_node(p.spec.as_ref()).unwrap())
            .or_default()
            .push(p.clone());
    }
    out
}

fn now() -> Timestamp {
    "2024-05-01T11:00:00Z".parse().unwrap()
}

fn names(pods: &[Arc<Pod>]) -> Vec<String> {
    pods.iter()
        .map(|p| p.metadata.name.clone().unwrap())
        .collect()
}

#[test]
fn eligibility_follows_selector_and_taints_with_automatic_tolerations() {
    let d = ds(json!({"type": "OnDelete"}));
    let spec = d.spec.as_ref().unwrap().template.spec.clone().unwrap();
    assert_eq!(should_run(&spec, &node("a", json!([]))), (true, true));
    let not_ready = json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]);
    assert_eq!(
        should_run(&spec, &node("a", not_ready)),
        (true, true),
        "tolerated automatically"
    );
    let cordoned = json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]);
    assert_eq!(should_run(&spec, &node("a", cordoned)), (true, true));
    let dedicated = json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]);
    assert_eq!(
        should_run(&spec, &node("a", dedicated)),
        (false, true),
        "existing pod may stay"
    );
    let evict = json!([{"key": "dedicated", "value": "db", "effect": "NoExecute"}]);
    assert_eq!(should_run(&spec, &node("a", evict)), (false, false));
    let mut other = (*node("b", json!([]))).clone();
    other.metadata.labels = None;
    assert_eq!(should_run(&spec, &other), (false, false), "node selector");
    let mut host_net = spec.clone();
    host_net.host_network = Some(true);
    let net = json!([{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]);
    assert_eq!(should_run(&spec, &node("a", net.clone())), (false, true));
    assert_eq!(should_run(&host_net, &node("a", net)), (true, true));
}

#[test]
fn manage_creates_on_empty_nodes_and_deletes_failed_surplus_and_misplaced_pods() {
    let d = ds(json!({"type": "OnDelete"}));
    let nodes = vec![
        node("a", json!([])),
        node("b", json!([])),
        node("c", json!([])),
        node("d", json!([{"key": "x", "effect": "NoExecute"}])),
    ];
    let pods = [
        pod("b-fail", "b", "h", "Failed", false),
        pod("c-1", "c", "h", "Running", true),
        pod("c-22", "c", "h", "Running", true),
        pod("d-1", "d", "h", "Running", true),
    ];
    let changes = manage(&d, &nodes, &by_node(&pods), "h", now(), |_| false);
    assert_eq!(changes.create_on, ["a"]);
    assert_eq!(names(&changes.delete), ["b-fail", "c-22", "d-1"]);
    assert_eq!(names(&changes.failed), ["b-fail"]);
    let held = manage(&d, &nodes, &by_node(&pods), "h", now(), |n| n == "b");
    assert!(
        !names(&held.delete).contains(&"b-fail".to_string()),
        "failed pod in backoff"
    );
}

#[test]
fn rolling_update_replaces_at_most_max_unavailable_pods() {
    let d = ds(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}));
    let nodes = vec![
        node("a", json!([])),
        node("b", json!([])),
        node("c", json!([])),
    ];
    let pods = [
        pod("a1", "a", "old", "Running", true),
        pod("b1", "b", "old", "Running", true),
        pod("c1", "c", "old", "Running", true),
    ];
    let step = rolling_update(&d, &nodes, &by_node(&pods), "new", now());
    assert_eq!(step.delete.len(), 1);
    // One node is already on the new revision but not ready: no more room.
    let pods = [
        pod("a2", "a", "new", "Pending", false),
        pod("b1", "b", "old", "Running", true),
        pod("c1", "c", "old", "Running", true),
    ];
    assert!(rolling_update(&d, &nodes, &by_node(&pods), "new", now())
        .delete
        .is_empty());
    // Unavailable old pods are replaced regardless.
    let pods = [
        pod("a1", "a", "old", "Running", false),
        pod("b1", "b", "old", "Running", true),
    ];
    assert_eq!(
        names(&rolling_update(&d, &nodes, &by_node(&pods), "new", now()).delete),
        ["a1", "b1"]
    );
}

#[test]
fn surge_creates_new_pods_before_deleting_old_ones() {
    let d =
        ds(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}));
    let nodes = vec![node("a", json!([])), node("b", json!([]))];
    let pods = [
        pod("a1", "a", "old", "Running", true),
        pod("b1", "b", "old", "Running", true),
    ];
    let step = rolling_update(&d, &nodes, &by_node(&pods), "new", now());
    assert_eq!(step.create_on, ["a"]);
    assert!(step.delete.is_empty());
    let pods = [
        pod("a1", "a", "old", "Running", true),
        pod("a22", "a", "new", "Running", true),
        pod("b1", "b", "old", "Running", true),
    ];
    let step = rolling_update(&d, &nodes, &by_node(&pods), "new", now());
    assert_eq!(names(&step.delete), ["a1"]);
    assert_eq!(step.create_on, ["b"]);
}

#[test]
fn status_counts_scheduled_ready_updated_and_misscheduled() {
    let d = ds(json!({"type": "OnDelete"}));
    let nodes = vec![
        node("a", json!([])),
        node("b", json!([])),
        node("c", json!([{"key": "x", "effect": "NoSchedule"}])),
    ];
    let pods = [
        pod("a1", "a", "new", "Running", true),
        pod("b1", "b", "old", "Pending", false),
        pod("c1", "c", "new", "Running", true),
    ];
    let s = status(&d, &nodes, &by_node(&pods), "new", now());
    assert_eq!(
        (
            s.desired_number_scheduled,
            s.current_number_scheduled,
            s.number_misscheduled
        ),
        (2, 2, 1)
    );
    assert_eq!(
        (
            s.number_ready,
            s.number_available,
            s.updated_number_scheduled
        ),
        (1, Some(1), Some(1))
    );
    assert_eq!(
        (s.number_unavailable, s.observed_generation),
        (Some(1), Some(2))
    );
}

#[test]
fn percentages_round_up_and_zero_limits_allow_one() {
    let d = ds(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}}));
    assert_eq!(limits(&d, 15), (2, 0));
    let d =
        ds(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}));
    assert_eq!(limits(&d, 15), (1, 0));
}
