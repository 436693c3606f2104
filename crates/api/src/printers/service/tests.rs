use super::*;
use crate::printers::test_support::now;
use serde_json::json;

fn service(spec: Value, status: Value) -> Value {
    json!({"metadata": {"name": "web", "creationTimestamp": "2024-05-01T11:55:00Z"}, "spec": spec, "status": status})
}

#[test]
fn cluster_ip_service_row() {
    let svc = service(
        json!({"type": "ClusterIP", "clusterIP": "10.43.0.12", "clusterIPs": ["10.43.0.12"],
        "selector": {"app": "web"}, "ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}),
        json!({}),
    );
    assert_eq!(
        service_row(&svc, now()),
        [
            json!("web"),
            json!("ClusterIP"),
            json!("10.43.0.12"),
            json!("<none>"),
            json!("80/TCP,53/UDP"),
            json!("5m"),
            json!("app=web")
        ]
    );
}

#[test]
fn node_port_and_load_balancer_services() {
    let np = service(
        json!({"type": "NodePort", "clusterIPs": ["10.43.0.5"], "externalIPs": ["192.168.1.9"],
        "ports": [{"port": 80, "nodePort": 30080}]}),
        json!({}),
    );
    assert_eq!(
        service_row(&np, now())[3..5],
        [json!("192.168.1.9"), json!("80:30080/TCP")]
    );

    let pending = service(
        json!({"type": "LoadBalancer", "clusterIPs": ["10.43.0.6"],
        "ports": [{"port": 443, "nodePort": 31443, "protocol": "TCP"}]}),
        json!({"loadBalancer": {}}),
    );
    assert_eq!(service_row(&pending, now())[3], json!("<pending>"));

    let ready = service(
        json!({"type": "LoadBalancer", "externalIPs": ["203.0.113.9"]}),
        json!({"loadBalancer": {"ingress": [{"ip": "192.168.1.50"}, {"ip": "192.168.1.40"}]}}),
    );
    assert_eq!(
        service_row(&ready, now())[3],
        json!("192.168.1.40,192.168.1.50,203.0.113.9")
    );
    assert_eq!(service_row(&ready, now())[4], json!("<none>"));
}

#[test]
fn headless_and_external_name_services() {
    let headless = service(
        json!({"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"]}),
        json!({}),
    );
    assert_eq!(service_row(&headless, now())[2], json!("None"));
    let ext = service(
        json!({"type": "ExternalName", "externalName": "db.example.com"}),
        json!({}),
    );
    assert_eq!(
        service_row(&ext, now())[2..4],
        [json!("<none>"), json!("db.example.com")]
    );
    assert_eq!(service_row(&ext, now())[6], json!("<none>"));
}

#[test]
fn endpoints_show_first_three_addresses() {
    let ep = json!({"metadata": {"name": "web"}, "subsets": [
        {"addresses": [{"ip": "10.42.0.5"}, {"ip": "10.42.1.5"}], "ports": [{"port": 80}, {"port": 443}]},
        {"addresses": [{"ip": "fd00::5"}]}]});
    assert_eq!(
        endpoints_row(&ep, now())[1],
        json!("10.42.0.5:80,10.42.1.5:80,10.42.0.5:443 + 2 more...")
    );
    let v6 = json!({"subsets": [{"addresses": [{"ip": "fd00::5"}], "ports": [{"port": 80}]}]});
    assert_eq!(endpoints_row(&v6, now())[1], json!("[fd00::5]:80"));
    assert_eq!(
        endpoints_row(&json!({"metadata": {"name": "e"}}), now())[1],
        json!("<none>")
    );
    assert_eq!(
        endpoints_row(&json!({"subsets": [{}]}), now())[1],
        json!("")
    );
}
