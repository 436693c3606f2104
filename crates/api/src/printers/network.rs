//! Tables for Ingresses, IngressClasses, NetworkPolicies and EndpointSlices.

use super::format::{age, format_label_selector, list_at, list_with_more, name, str_at, text};
use super::service::load_balancer_ingress;
use super::{col, Column, Printer, AGE, NAME};
use chrono::{DateTime, Utc};
use serde_json::Value;

static INGRESS_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Class",
        "string",
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    col(
        "Hosts",
        "string",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    col(
        "Address",
        "string",
        "Address is a list containing ingress points for the load-balancer",
    ),
    col("Ports", "string", "Ports of TLS configurations that open"),
    AGE,
];

/// Upstream's `formatHosts`: up to three rule hosts, `+ N more...`, or `*`.
fn hosts(rules: &[Value]) -> String {
    const MAX: usize = 3;
    let mut list = Vec::new();
    let mut more = false;
    for rule in rules {
        more |= list.len() == MAX;
        let host = str_at(rule, "/host");
        if !more && !host.is_empty() {
            list.push(host);
        }
    }
    if list.is_empty() {
        return "*".to_string();
    }
    let shown = list.join(",");
    if more {
        format!("{shown} + {} more...", rules.len() - MAX)
    } else {
        shown
    }
}

fn ingress_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let class = obj
        .pointer("/spec/ingressClassName")
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    let ports = if list_at(obj, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        name(obj),
        text(class),
        text(hosts(list_at(obj, "/spec/rules"))),
        text(load_balancer_ingress(obj)),
        text(ports),
        age(obj, now),
    ]
}

/// The Ingress printer.
pub(crate) static INGRESS: Printer = Printer {
    columns: INGRESS_COLUMNS,
    row: ingress_row,
};

static INGRESS_CLASS_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Controller",
        "string",
        "Controller that is responsible for handling this class",
    ),
    col(
        "Parameters",
        "string",
        "A reference to a resource with additional parameters",
    ),
    AGE,
];

fn ingress_class_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let parameters = match obj.pointer("/spec/parameters") {
        Some(p) if p.is_object() => {
            let mut kind = str_at(p, "/kind").to_string();
            if let Some(group) = p.get("apiGroup").and_then(Value::as_str) {
                kind = format!("{kind}.{group}");
            }
            format!("{kind}/{}", str_at(p, "/name"))
        }
        _ => "<none>".to_string(),
    };
    vec![
        name(obj),
        text(str_at(obj, "/spec/controller")),
        text(parameters),
        age(obj, now),
    ]
}

/// The IngressClass printer.
pub(crate) static INGRESS_CLASS: Printer = Printer {
    columns: INGRESS_CLASS_COLUMNS,
    row: ingress_class_row,
};

static NETWORK_POLICY_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Pod-Selector",
        "string",
        "Selects the pods to which this NetworkPolicy object applies.",
    ),
    AGE,
];

fn network_policy_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let selector = obj
        .pointer("/spec/podSelector")
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    vec![
        name(obj),
        text(format_label_selector(Some(&selector))),
        age(obj, now),
    ]
}

/// The NetworkPolicy printer.
pub(crate) static NETWORK_POLICY: Printer = Printer {
    columns: NETWORK_POLICY_COLUMNS,
    row: network_policy_row,
};

static ENDPOINT_SLICE_COLUMNS: &[Column] = &[
    NAME,
    col(
        "AddressType",
        "string",
        "addressType specifies the type of address carried by this EndpointSlice.",
    ),
    col(
        "Ports",
        "string",
        "ports specifies the list of network ports exposed by each endpoint in this slice.",
    ),
    col(
        "Endpoints",
        "string",
        "endpoints is a list of unique endpoints in this slice.",
    ),
    AGE,
];

fn endpoint_slice_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let ports: Vec<String> = list_at(obj, "/ports")
        .iter()
        .map(|p| {
            match (
                p.get("port").and_then(Value::as_i64),
                p.get("name").and_then(Value::as_str),
            ) {
                (Some(port), _) => port.to_string(),
                (None, Some(name)) => name.to_string(),
                (None, None) => "*".to_string(),
            }
        })
        .collect();
    let addresses: Vec<String> = list_at(obj, "/endpoints")
        .iter()
        .flat_map(|e| list_at(e, "/addresses"))
        .map(|a| a.as_str().unwrap_or_default().to_string())
        .collect();
    vec![
        name(obj),
        text(str_at(obj, "/addressType")),
        text(list_with_more(&ports, 3)),
        text(list_with_more(&addresses, 3)),
        age(obj, now),
    ]
}

/// The EndpointSlice printer.
pub(crate) static ENDPOINT_SLICE: Printer = Printer {
    columns: ENDPOINT_SLICE_COLUMNS,
    row: endpoint_slice_row,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::test_support::now;
    use serde_json::json;

    #[test]
    fn ingress_lists_class_hosts_address_and_ports() {
        let ing = json!({"metadata": {"name": "web", "creationTimestamp": "2024-05-01T11:59:00Z"},
            "spec": {"ingressClassName": "traefik", "tls": [{"hosts": ["a.example"]}],
                "rules": [{"host": "a.example"}, {}, {"host": "c.example"}, {"host": "d.example"}, {"host": "e"}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.168.1.20"}, {"hostname": "lb.local"}]}}});
        assert_eq!(
            ingress_row(&ing, now()),
            [
                json!("web"),
                json!("traefik"),
                json!("a.example,c.example,d.example + 2 more..."),
                json!("192.168.1.20,lb.local"),
                json!("80, 443"),
                json!("60s")
            ]
        );
        let bare = json!({"metadata": {"name": "x"}, "spec": {"rules": [{}]}});
        assert_eq!(
            ingress_row(&bare, now())[1..5],
            [json!("<none>"), json!("*"), json!(""), json!("80")]
        );
    }

    #[test]
    fn ingress_class_and_network_policy_cells() {
        let ic = json!({"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"}}});
        assert_eq!(
            ingress_class_row(&ic, now())[1..3],
            [
                json!("k8s.io/ingress-nginx"),
                json!("IngressParameters.k8s.example.com/external-lb")
            ]
        );
        let np = json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {}}});
        assert_eq!(network_policy_row(&np, now())[1], json!("<none>"));
        let np = json!({"metadata": {"name": "db"}, "spec": {"podSelector": {"matchLabels": {"role": "db"}}}});
        assert_eq!(network_policy_row(&np, now())[1], json!("role=db"));
    }

    #[test]
    fn endpoint_slice_summarises_ports_and_addresses() {
        let eps = json!({"metadata": {"name": "web-abc"}, "addressType": "IPv4",
            "ports": [{"name": "http", "port": 80}, {"name": "metrics"}],
            "endpoints": [{"addresses": ["10.42.0.5"]}, {"addresses": ["10.42.0.6", "10.42.0.7"]},
                {"addresses": ["10.42.0.8"]}]});
        assert_eq!(
            endpoint_slice_row(&eps, now())[1..4],
            [
                json!("IPv4"),
                json!("80,metrics"),
                json!("10.42.0.5,10.42.0.6,10.42.0.7 + 1 more...")
            ]
        );
        let empty = json!({"metadata": {"name": "e"}, "addressType": "IPv4"});
        assert_eq!(
            endpoint_slice_row(&empty, now())[2..4],
            [json!("<unset>"), json!("<unset>")]
        );
    }
}
