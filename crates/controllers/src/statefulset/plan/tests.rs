use super::*;
use serde_json::json;

fn set(policy: &str, replicas: i32, strategy: serde_json::Value) -> StatefulSet {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "sts-uid", "generation": 1},
        "spec": {
            "replicas": replicas,
            "podManagementPolicy": policy,
            "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}},
            "updateStrategy": strategy,
        },
    }))
    .unwrap()
}

fn pod(ordinal: i32, revision: &str, phase: &str, ready: bool) -> (i32, Arc<Pod>) {
    let name = format!("web-{ordinal}");
    let p: Pod = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {
            "controller-revision-hash": revision,
            "statefulset.kubernetes.io/pod-name": name,
            "apps.kubernetes.io/pod-index": ordinal.to_string(),
        }},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"},
            "lastTransitionTime": "2024-05-01T10:00:00Z"}]},
    }))
    .unwrap();
    (ordinal, Arc::new(p))
}

fn now() -> Timestamp {
    "2024-05-01T11:00:00Z".parse().unwrap()
}

fn rolling() -> serde_json::Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
}

fn summary(plan: &Plan) -> Vec<String> {
    plan.actions
        .iter()
        .map(|a| match a {
            Action::Create { ordinal, update } => format!(
                "create {ordinal} {}",
                if *update { "update" } else { "current" }
            ),
            Action::Delete { pod, .. } => format!("delete {}", pod.metadata.name.clone().unwrap()),
            Action::Relabel { ordinal, .. } => format!("relabel {ordinal}"),
            Action::Claims { ordinal } => format!("claims {ordinal}"),
        })
        .collect()
}

#[test]
fn ordered_ready_creates_one_pod_at_a_time() {
    let s = set("OrderedReady", 3, rolling());
    assert_eq!(
        summary(&plan(&s, &BTreeMap::new(), "r1", "r1", now())),
        ["create 0 update"]
    );
    let pods = BTreeMap::from([pod(0, "r1", "Pending", false)]);
    assert_eq!(
        summary(&plan(&s, &pods, "r1", "r1", now())),
        ["claims 0"],
        "wait for web-0"
    );
    let pods = BTreeMap::from([pod(0, "r1", "Running", true)]);
    assert_eq!(
        summary(&plan(&s, &pods, "r1", "r1", now())),
        ["create 1 update"]
    );
}

#[test]
fn parallel_creates_every_missing_pod() {
    let s = set("Parallel", 3, rolling());
    let pods = BTreeMap::from([pod(1, "r1", "Pending", false)]);
    assert_eq!(
        summary(&plan(&s, &pods, "r1", "r1", now())),
        ["create 0 update", "claims 1", "create 2 update"]
    );
}

#[test]
fn scale_down_deletes_the_highest_ordinal_first() {
    let s = set("OrderedReady", 1, rolling());
    let pods = BTreeMap::from([
        pod(0, "r1", "Running", true),
        pod(1, "r1", "Running", true),
        pod(2, "r1", "Running", true),
    ]);
    assert_eq!(
        summary(&plan(&s, &pods, "r1", "r1", now())),
        ["delete web-2"]
    );
    let s = set("Parallel", 1, rolling());
    assert_eq!(
        summary(&plan(&s, &pods, "r1", "r1", now())),
        ["delete web-2", "delete web-1"]
    );
}

#[test]
fn failed_pods_are_deleted_to_be_recreated() {
    let s = set("OrderedReady", 2, rolling());
    let pods = BTreeMap::from([pod(0, "r1", "Failed", false), pod(1, "r1", "Running", true)]);
    assert_eq!(
        summary(&plan(&s, &pods, "r1", "r1", now())),
        ["delete web-0"]
    );
}

#[test]
fn rolling_update_goes_from_the_highest_ordinal_down_to_the_partition() {
    let s = set("OrderedReady", 3, rolling());
    let pods = BTreeMap::from([
        pod(0, "r1", "Running", true),
        pod(1, "r1", "Running", true),
        pod(2, "r1", "Running", true),
    ]);
    assert_eq!(
        summary(&plan(&s, &pods, "r1", "r2", now())),
        ["delete web-2"]
    );
    let pods = BTreeMap::from([
        pod(0, "r1", "Running", true),
        pod(1, "r1", "Running", true),
        pod(2, "r2", "Running", false),
    ]);
    assert!(
        plan(&s, &pods, "r1", "r2", now()).actions.is_empty(),
        "waits for web-2 to be Ready"
    );
    let partitioned = set(
        "OrderedReady",
        3,
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}),
    );
    let pods = BTreeMap::from([
        pod(0, "r1", "Running", true),
        pod(1, "r1", "Running", true),
        pod(2, "r2", "Running", true),
    ]);
    assert!(
        plan(&partitioned, &pods, "r1", "r2", now())
            .actions
            .is_empty(),
        "ordinals below the partition stay"
    );
    let pods = BTreeMap::from([pod(0, "r1", "Running", true), pod(2, "r2", "Running", true)]);
    assert_eq!(
        summary(&plan(&partitioned, &pods, "r1", "r2", now())),
        ["create 1 current"]
    );
    let on_delete = set("OrderedReady", 3, json!({"type": "OnDelete"}));
    let pods = BTreeMap::from([
        pod(0, "r1", "Running", true),
        pod(1, "r1", "Running", true),
        pod(2, "r1", "Running", true),
    ]);
    assert!(plan(&on_delete, &pods, "r1", "r2", now())
        .actions
        .is_empty());
}

#[test]
fn status_moves_current_revision_once_every_pod_is_updated_and_ready() {
    let s = set("OrderedReady", 2, rolling());
    let pods = BTreeMap::from([pod(0, "r1", "Running", true), pod(1, "r2", "Running", true)]);
    let st = status(&s, &pods, "r1", "r2", now());
    assert_eq!(
        (
            st.replicas,
            st.ready_replicas,
            st.current_replicas,
            st.updated_replicas
        ),
        (2, Some(2), Some(1), Some(1))
    );
    assert_eq!(st.current_revision.as_deref(), Some("r1"));
    let pods = BTreeMap::from([pod(0, "r2", "Running", true), pod(1, "r2", "Running", true)]);
    let st = status(&s, &pods, "r1", "r2", now());
    assert_eq!(st.current_revision.as_deref(), Some("r2"));
    assert_eq!(st.current_replicas, Some(2));
}

#[test]
fn ordinals_come_from_pod_names() {
    let s = set("OrderedReady", 2, rolling());
    let (_, p) = pod(12, "r1", "Running", true);
    assert_eq!(crate::statefulset::identity::ordinal_of(&s, &p), Some(12));
    let mut other = (*p).clone();
    other.metadata.name = Some("webby-1".into());
    assert_eq!(crate::statefulset::identity::ordinal_of(&s, &other), None);
    other.metadata.name = Some("web-01".into());
    assert_eq!(crate::statefulset::identity::ordinal_of(&s, &other), None);
}
