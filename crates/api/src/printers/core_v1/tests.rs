use super::*;
use crate::printers::test_support::now;
use serde_json::json;

#[test]
fn ready_control_plane_node() {
    let node = json!({"metadata": {"name": "node-1", "creationTimestamp": "2024-04-28T09:00:00Z",
            "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/master": "",
                "kubernetes.io/role": "worker"}},
        "spec": {"unschedulable": true},
        "status": {"conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}, {"type": "Hostname", "address": "node-1"}],
            "nodeInfo": {"kubeletVersion": "v1.33.0-skiff", "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.1.0-18-amd64", "containerRuntimeVersion": "containerd://1.6.20"}}});
    assert_eq!(
        node_row(&node, now()),
        [
            json!("node-1"),
            json!("Ready,SchedulingDisabled"),
            json!("control-plane,master,worker"),
            json!("3d3h"),
            json!("v1.33.0-skiff"),
            json!("192.168.1.10"),
            json!("<none>"),
            json!("Debian GNU/Linux 12 (bookworm)"),
            json!("6.1.0-18-amd64"),
            json!("containerd://1.6.20")
        ]
    );
}

#[test]
fn not_ready_and_unknown_nodes() {
    let node = json!({"metadata": {"name": "n2"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
    let cells = node_row(&node, now());
    assert_eq!(cells[1..3], [json!("NotReady"), json!("<none>")]);
    assert_eq!(cells[7], json!("<unknown>"));
    assert_eq!(
        node_row(&json!({"metadata": {"name": "n3"}}), now())[1],
        json!("Unknown")
    );
}

#[test]
fn namespace_config_map_secret_and_service_account_cells() {
    let ns = json!({"metadata": {"name": "kube-system", "creationTimestamp": "2024-05-01T11:59:55Z"},
        "status": {"phase": "Active"}});
    assert_eq!(
        namespace_row(&ns, now()),
        [json!("kube-system"), json!("Active"), json!("5s")]
    );
    let cm = json!({"metadata": {"name": "cfg"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
    assert_eq!(config_map_row(&cm, now())[1], json!(3));
    let secret = json!({"metadata": {"name": "tls"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
    assert_eq!(
        secret_row(&secret, now())[1..3],
        [json!("kubernetes.io/tls"), json!(2)]
    );
    let sa = json!({"metadata": {"name": "default"}});
    assert_eq!(service_account_row(&sa, now())[1], json!(0));
}

#[test]
fn resource_quota_splits_requests_and_limits() {
    let rq = json!({"metadata": {"name": "compute"},
        "status": {"hard": {"pods": "10", "requests.cpu": "2", "limits.memory": "2Gi", "limits.cpu": "4"},
            "used": {"pods": "3", "requests.cpu": "500m", "limits.cpu": "1"}}});
    assert_eq!(
        resource_quota_row(&rq, now())[1..3],
        [
            json!("pods: 3/10, requests.cpu: 500m/2"),
            json!("limits.cpu: 1/4, limits.memory: 0/2Gi")
        ]
    );
}
