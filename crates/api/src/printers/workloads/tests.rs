use super::*;
use crate::printers::test_support::now;
use serde_json::json;

fn template() -> Value {
    json!({"metadata": {"labels": {"app": "web"}}, "spec": {
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "containers": [{"name": "web", "image": "nginx:1.25"}, {"name": "log", "image": "busybox"}]}})
}

#[test]
fn deployment_shows_ready_fraction_and_wide_selector() {
    let d = json!({"metadata": {"name": "web", "creationTimestamp": "2024-05-01T11:59:00Z"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template()},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
    assert_eq!(
        deployment_row(&d, now()),
        [
            json!("web"),
            json!("2/3"),
            json!(3),
            json!(2),
            json!("60s"),
            json!("web,log"),
            json!("nginx:1.25,busybox"),
            json!("app=web")
        ]
    );
    let fresh = json!({"metadata": {"name": "new"}, "spec": {}});
    assert_eq!(
        deployment_row(&fresh, now())[1..5],
        [json!("0/1"), json!(0), json!(0), json!("<unknown>")]
    );
    assert_eq!(deployment_row(&fresh, now())[7], json!(""));
}

#[test]
fn replica_set_and_replication_controller_counts() {
    let rs = json!({"metadata": {"name": "web-5d4f", "creationTimestamp": "2024-05-01T11:00:00Z"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d4f"}},
            "template": template()},
        "status": {"replicas": 2, "readyReplicas": 1}});
    assert_eq!(
        replica_set_row(&rs, now()),
        [
            json!("web-5d4f"),
            json!(2),
            json!(2),
            json!(1),
            json!("60m"),
            json!("web,log"),
            json!("nginx:1.25,busybox"),
            json!("app=web,pod-template-hash=5d4f")
        ]
    );
    let rc =
        json!({"metadata": {"name": "old"}, "spec": {"replicas": 0, "selector": {"app": "old"}}});
    assert_eq!(
        replication_controller_row(&rc, now())[1..4],
        [json!(0), json!(0), json!(0)]
    );
    assert_eq!(
        replication_controller_row(&rc, now())[5..],
        [json!(""), json!(""), json!("app=old")]
    );
}

#[test]
fn daemon_set_and_stateful_set_cells() {
    let ds = json!({"metadata": {"name": "proxy"}, "spec": {"template": template(),
            "selector": {"matchLabels": {"app": "proxy"}}},
        "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
            "updatedNumberScheduled": 3, "numberAvailable": 2}});
    let cells = daemon_set_row(&ds, now());
    assert_eq!(
        cells[1..7],
        [
            json!(3),
            json!(3),
            json!(2),
            json!(3),
            json!(2),
            json!("kubernetes.io/os=linux")
        ]
    );
    assert_eq!(cells[10], json!("app=proxy"));
    let sts = json!({"metadata": {"name": "db"}, "spec": {"replicas": 3, "template": template()},
        "status": {"readyReplicas": 3}});
    assert_eq!(stateful_set_row(&sts, now())[1], json!("3/3"));
    assert_eq!(
        stateful_set_row(&sts, now()).len(),
        STATEFUL_SET_COLUMNS.len()
    );
}

#[test]
fn controller_revision_names_its_owner() {
    let cr = json!({"metadata": {"name": "proxy-7c9", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "proxy", "controller": true}]},
        "revision": 2});
    assert_eq!(
        controller_revision_row(&cr, now())[1..3],
        [json!("daemonset.apps/proxy"), json!(2)]
    );
    let orphan = json!({"metadata": {"name": "x"}, "revision": 1});
    assert_eq!(controller_revision_row(&orphan, now())[1], json!("<none>"));
}

#[test]
fn pod_template_lists_containers_and_labels() {
    let pt = json!({"metadata": {"name": "tmpl"}, "template": template()});
    assert_eq!(
        pod_template_row(&pt, now()),
        [
            json!("tmpl"),
            json!("web,log"),
            json!("nginx:1.25,busybox"),
            json!("app=web")
        ]
    );
}
