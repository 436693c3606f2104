//! Tables for Services (type, cluster and external IPs, ports) and Endpoints.

use super::format::{age, format_labels, list_at, name, or_none, str_at, text};
use super::{col, wide, Column, Printer, AGE, NAME};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeSet;

static SERVICE_COLUMNS: &[Column] = &[
    NAME,
    col("Type", "string", "type determines how the Service is exposed. Defaults to ClusterIP."),
    col("Cluster-IP", "string", "clusterIP is the IP address of the service and is usually assigned randomly."),
    col("External-IP", "string", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
    col("Port(s)", "string", "The list of ports that are exposed by this service."),
    AGE,
    wide("Selector", "string", "Route service traffic to pods with label keys and values matching this selector."),
];

/// Load-balancer ingress IPs (or hostnames), sorted and de-duplicated, comma-joined.
pub(super) fn load_balancer_ingress(obj: &Value) -> String {
    let ingress = list_at(obj, "/status/loadBalancer/ingress");
    let addrs: BTreeSet<&str> = ingress
        .iter()
        .map(|i| match str_at(i, "/ip") {
            "" => str_at(i, "/hostname"),
            ip => ip,
        })
        .filter(|a| !a.is_empty())
        .collect();
    addrs.into_iter().collect::<Vec<_>>().join(",")
}

fn external_ip(obj: &Value, service_type: &str) -> String {
    let external: Vec<&str> = list_at(obj, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match service_type {
        "ClusterIP" | "NodePort" if external.is_empty() => "<none>".to_string(),
        "ClusterIP" | "NodePort" => external.join(","),
        "LoadBalancer" => {
            let lb = load_balancer_ingress(obj);
            let mut all: Vec<&str> = lb.split(',').filter(|s| !s.is_empty()).collect();
            all.extend(external);
            if all.is_empty() {
                "<pending>".to_string()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => str_at(obj, "/spec/externalName").to_string(),
        _ => "<unknown>".to_string(),
    }
}

/// `80/TCP`, `80:30080/TCP`, comma-joined, or `<none>`.
fn ports(obj: &Value) -> String {
    let pieces: Vec<String> = list_at(obj, "/spec/ports")
        .iter()
        .map(|p| {
            let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
            let protocol = match str_at(p, "/protocol") {
                "" => "TCP",
                proto => proto,
            };
            match p.get("nodePort").and_then(Value::as_i64).unwrap_or(0) {
                node_port if node_port > 0 => format!("{port}:{node_port}/{protocol}"),
                _ => format!("{port}/{protocol}"),
            }
        })
        .collect();
    if pieces.is_empty() {
        "<none>".to_string()
    } else {
        pieces.join(",")
    }
}

fn service_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let service_type = match str_at(obj, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    };
    let cluster_ip = match str_at(obj, "/spec/clusterIPs/0") {
        "" => str_at(obj, "/spec/clusterIP"),
        ip => ip,
    };
    vec![
        name(obj),
        text(service_type),
        or_none(cluster_ip),
        text(external_ip(obj, service_type)),
        text(ports(obj)),
        age(obj, now),
        text(format_labels(obj.pointer("/spec/selector"))),
    ]
}

/// The Service printer.
pub(crate) static SERVICE: Printer = Printer {
    columns: SERVICE_COLUMNS,
    row: service_row,
};

static ENDPOINTS_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Endpoints",
        "string",
        "The set of all endpoints is the union of all subsets.",
    ),
    AGE,
];

/// `ip:port` as Go's `net.JoinHostPort` writes it (brackets for IPv6).
pub(super) fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Upstream's `formatEndpoints`: up to three `ip:port` entries and `+ N more...`.
fn format_endpoints(obj: &Value) -> String {
    let subsets = list_at(obj, "/subsets");
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 3;
    let mut list = Vec::new();
    let mut count = 0;
    for subset in subsets {
        let addrs: Vec<&str> = list_at(subset, "/addresses")
            .iter()
            .map(|a| str_at(a, "/ip"))
            .collect();
        let ports = list_at(subset, "/ports");
        if ports.is_empty() {
            count += addrs.len();
            list.extend(addrs.iter().map(|a| a.to_string()));
            continue;
        }
        for port in ports {
            let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
            count += addrs.len();
            list.extend(addrs.iter().map(|a| join_host_port(a, number)));
        }
    }
    let shown = list[..list.len().min(MAX)].join(",");
    if list.len() > MAX {
        format!("{shown} + {} more...", count - MAX)
    } else {
        shown
    }
}

fn endpoints_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![name(obj), text(format_endpoints(obj)), age(obj, now)]
}

/// The Endpoints printer.
pub(crate) static ENDPOINTS: Printer = Printer {
    columns: ENDPOINTS_COLUMNS,
    row: endpoints_row,
};

#[cfg(test)]
mod tests;
