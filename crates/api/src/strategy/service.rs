//! Service checks.

use super::labels::validate_labels;
use super::names::{dns1123_subdomain, port_num, qualified_name};
use super::net::{app_protocol, cidr, ip, non_special_ip, port_name_label, port_number, protocol};
use super::probe::port_num_or_name;
use super::service_defaults::externally_accessible;
use super::value::{arr, has, int, s, str_list, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

const TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const LB_ONLY: &str = "may only be used when `type` is 'LoadBalancer'";

fn headless(spec: &Value) -> bool {
    let ips = str_list(spec, "clusterIPs");
    ips.len() == 1 && ips[0] == "None"
}

/// Validates a Service spec.
pub fn validate_service(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let sp = Path::new("spec");
    let t = s(spec, "type");
    let ports = arr(spec, "ports");
    if ports.is_empty() && !headless(spec) && t != "ExternalName" {
        errs.push(FieldError::required(&sp.child("ports"), ""));
    }
    match t {
        "LoadBalancer" | "NodePort" if headless(spec) => errs.push(FieldError::invalid(
            &sp.child("clusterIPs").index(0),
            json!("None"),
            format!("may not be set to 'None' for {t} services"),
        )),
        "ExternalName" => {
            for field in ["clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
                let set = spec
                    .get(field)
                    .is_some_and(|v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()));
                if set {
                    errs.push(FieldError::forbidden(
                        &sp.child(field),
                        "may not be set for ExternalName services",
                    ));
                }
            }
            let name = s(spec, "externalName");
            let cname = name.strip_suffix('.').unwrap_or(name);
            if cname.is_empty() {
                errs.push(FieldError::required(&sp.child("externalName"), ""));
            } else {
                for msg in dns1123_subdomain(cname) {
                    let p = sp.child("externalName");
                    errs.push(FieldError::invalid(&p, json!(cname), msg));
                }
            }
        }
        _ => {}
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let p = sp.child("ports").index(i);
        let name = port_name_label(port, &p, ports.len() > 1, errs);
        if !name.is_empty() {
            if names.contains(&name) {
                errs.push(FieldError::duplicate(&p.child("name"), json!(name)));
            } else {
                names.push(name);
            }
        }
        port_number(int(port, "port").unwrap_or(0), &p, errs);
        protocol(port, &p, errs);
        port_num_or_name(
            port.get("targetPort").unwrap_or(&Value::Null),
            &p.child("targetPort"),
            errs,
        );
        app_protocol(port, &p, errs);
    }
    if let Some(sel) = spec.get("selector").filter(|v| !v.is_null()) {
        validate_labels(Some(sel), &sp.child("selector"), errs);
    }
    match s(spec, "sessionAffinity") {
        "" => errs.push(FieldError::required(&sp.child("sessionAffinity"), "")),
        "ClientIP" => {
            let cp = sp
                .child("sessionAffinityConfig")
                .child("clientIP")
                .child("timeoutSeconds");
            match spec
                .pointer("/sessionAffinityConfig/clientIP/timeoutSeconds")
                .and_then(Value::as_i64)
            {
                None => errs.push(FieldError::required(
                    &cp,
                    "when session affinity type is ClientIP",
                )),
                Some(t) if !(1..=86400).contains(&t) => errs.push(FieldError::invalid(
                    &cp,
                    json!(t),
                    "must be greater than 0 and less than 86400",
                )),
                Some(_) => {}
            }
        }
        "None" if has(spec, "sessionAffinityConfig") => errs.push(FieldError::forbidden(
            &sp.child("sessionAffinityConfig"),
            "must not be set when session affinity is None",
        )),
        "None" => {}
        a => errs.push(FieldError::not_supported(
            &sp.child("sessionAffinity"),
            json!(a),
            &["ClientIP", "None"],
        )),
    }
    super::service_ips::validate_cluster_ips(spec, &sp, errs);
    for (i, ext) in str_list(spec, "externalIPs").into_iter().enumerate() {
        let p = sp.child("externalIPs").index(i);
        let msgs = ip(ext);
        if msgs.is_empty() {
            non_special_ip(ext, &p, errs);
        }
        for msg in msgs {
            errs.push(FieldError::invalid(&p, json!(ext), msg));
        }
    }
    match t {
        "" => errs.push(FieldError::required(&sp.child("type"), "")),
        _ if TYPES.contains(&t) => {}
        _ => errs.push(FieldError::not_supported(
            &sp.child("type"),
            json!(t),
            TYPES,
        )),
    }
    let mut seen_node_ports: Vec<(&str, i64)> = Vec::new();
    let mut seen_ports: Vec<(&str, i64)> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let p = sp.child("ports").index(i);
        let np = int(port, "nodePort").unwrap_or(0);
        if t == "ClusterIP" && np != 0 {
            errs.push(FieldError::forbidden(
                &p.child("nodePort"),
                "may not be used when `type` is 'ClusterIP'",
            ));
        }
        let proto = s(port, "protocol");
        if np != 0 {
            if seen_node_ports.contains(&(proto, np)) {
                errs.push(FieldError::duplicate(&p.child("nodePort"), json!(np)));
            }
            seen_node_ports.push((proto, np));
        }
        let key = (proto, int(port, "port").unwrap_or(0));
        if seen_ports.contains(&key) {
            errs.push(FieldError::duplicate(
                &p,
                json!({"port": key.1, "protocol": key.0}),
            ));
        }
        seen_ports.push(key);
    }
    let ranges = str_list(spec, "loadBalancerSourceRanges");
    if !ranges.is_empty() {
        let rp = sp.child("LoadBalancerSourceRanges");
        if t != "LoadBalancer" {
            errs.push(FieldError::forbidden(&rp, LB_ONLY));
        }
        for (i, r) in ranges.iter().enumerate() {
            for msg in cidr(r.trim()) {
                errs.push(FieldError::invalid(&rp.index(i), json!(r.trim()), msg));
            }
        }
    }
    if has(spec, "allocateLoadBalancerNodePorts") && t != "LoadBalancer" {
        errs.push(FieldError::forbidden(
            &sp.child("allocateLoadBalancerNodePorts"),
            LB_ONLY,
        ));
    }
    if t == "LoadBalancer" && !has(spec, "allocateLoadBalancerNodePorts") {
        errs.push(FieldError::required(
            &Path::new("allocateLoadBalancerNodePorts"),
            "",
        ));
    }
    match (t, spec.get("loadBalancerClass").and_then(Value::as_str)) {
        ("LoadBalancer", Some(c)) => {
            for msg in qualified_name(c) {
                errs.push(FieldError::invalid(
                    &sp.child("loadBalancerClass"),
                    json!(c),
                    msg,
                ));
            }
        }
        (_, Some(_)) => errs.push(FieldError::forbidden(
            &sp.child("loadBalancerClass"),
            LB_ONLY,
        )),
        _ => {}
    }
    traffic_policies(spec, &sp, errs);
}

fn traffic_policies(spec: &Value, sp: &Path, errs: &mut Errs) {
    let etp = s(spec, "externalTrafficPolicy");
    if !externally_accessible(spec) {
        if !etp.is_empty() {
            errs.push(FieldError::invalid(
                &sp.child("externalTrafficPolicy"),
                json!(etp),
                "may only be set for externally-accessible services",
            ));
        }
    } else if etp.is_empty() {
        errs.push(FieldError::required(&sp.child("externalTrafficPolicy"), ""));
    } else if etp != "Cluster" && etp != "Local" {
        errs.push(FieldError::not_supported(
            &sp.child("externalTrafficPolicy"),
            json!(etp),
            &["Cluster", "Local"],
        ));
    }
    let needs_health_check = s(spec, "type") == "LoadBalancer" && etp == "Local";
    let hc = int(spec, "healthCheckNodePort").unwrap_or(0);
    if !needs_health_check && hc != 0 {
        errs.push(FieldError::invalid(
            &sp.child("healthCheckNodePort"),
            json!(hc),
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ));
    } else if needs_health_check && hc != 0 {
        for msg in port_num(hc) {
            errs.push(FieldError::invalid(
                &sp.child("healthCheckNodePort"),
                json!(hc),
                msg,
            ));
        }
    }
    match spec.get("internalTrafficPolicy").and_then(Value::as_str) {
        None if ["NodePort", "LoadBalancer", "ClusterIP"].contains(&s(spec, "type")) => {
            errs.push(FieldError::required(&sp.child("internalTrafficPolicy"), ""))
        }
        Some(p) if p != "Cluster" && p != "Local" => errs.push(FieldError::not_supported(
            &sp.child("internalTrafficPolicy"),
            json!(p),
            &["Cluster", "Local"],
        )),
        _ => {}
    }
    if let Some(td) = spec.get("trafficDistribution").and_then(Value::as_str) {
        if td != "PreferClose" {
            errs.push(FieldError::not_supported(
                &sp.child("trafficDistribution"),
                json!(td),
                &["PreferClose"],
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::service_defaults::{default_service, normalize_cluster_ips};

    fn svc(spec: Value) -> Value {
        let mut o = json!({"metadata": {"name": "s", "namespace": "default"}, "spec": spec});
        default_service(&mut o);
        normalize_cluster_ips(&mut o, None);
        o
    }

    fn errs_of(o: &Value) -> Vec<String> {
        let mut errs = Errs::new();
        validate_service(o, &mut errs);
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn defaults_fill_policies_and_target_ports() {
        let o = svc(json!({"type": "NodePort", "ports": [{"port": 80}], "clusterIP": "10.43.0.5"}));
        let spec = &o["spec"];
        assert_eq!(spec["sessionAffinity"], "None");
        assert_eq!(spec["ports"][0]["protocol"], "TCP");
        assert_eq!(spec["ports"][0]["targetPort"], 80);
        assert_eq!(spec["externalTrafficPolicy"], "Cluster");
        assert_eq!(spec["internalTrafficPolicy"], "Cluster");
        assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
        assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
        assert_eq!(spec["clusterIPs"], json!(["10.43.0.5"]));
        assert!(errs_of(&o).is_empty(), "{:?}", errs_of(&o));
    }

    #[test]
    fn ports_are_required_and_named_when_several() {
        assert_eq!(errs_of(&svc(json!({}))), vec!["spec.ports: Required value"]);
        let o = svc(json!({"ports": [{"port": 80}, {"port": 0, "name": "b", "protocol": "ICMP"}]}));
        assert_eq!(errs_of(&o), vec![
            "spec.ports[0].name: Required value",
            "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
            "spec.ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            "spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
        ]);
    }

    #[test]
    fn external_name_services() {
        let o = svc(json!({"type": "ExternalName", "externalName": "db.example.com."}));
        assert!(o["spec"].get("ipFamilies").is_none());
        assert!(errs_of(&o).is_empty(), "{:?}", errs_of(&o));
        let bad = svc(json!({"type": "ExternalName"}));
        assert_eq!(errs_of(&bad), vec!["spec.externalName: Required value"]);
    }

    #[test]
    fn cluster_ip_services_may_not_set_node_ports() {
        let o = svc(json!({"ports": [{"port": 80, "nodePort": 30080}], "type": "ClusterIP"}));
        assert_eq!(
            errs_of(&o),
            vec!["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]
        );
    }
}
