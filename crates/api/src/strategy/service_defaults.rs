//! Service defaults and cluster-IP bookkeeping.

use super::value::{arr, each_mut, obj_mut, s, set_default, set_default_str};
use serde_json::{json, Value};

/// Whether the Service is reachable from outside the cluster (NodePort, LoadBalancer, external IPs).
pub fn externally_accessible(spec: &Value) -> bool {
    let t = s(spec, "type");
    t == "LoadBalancer"
        || t == "NodePort"
        || (t == "ClusterIP" && !arr(spec, "externalIPs").is_empty())
}

/// Defaults a Service (`SetDefaults_Service` plus the single-stack IP family choice).
pub fn default_service(obj: &mut Value) {
    let Some(spec) = obj_mut(obj, "spec") else {
        return;
    };
    set_default_str(spec, "sessionAffinity", "None");
    if s(spec, "sessionAffinity") == "None" {
        if let Some(m) = spec.as_object_mut() {
            m.remove("sessionAffinityConfig");
        }
    } else if s(spec, "sessionAffinity") == "ClientIP"
        && spec
            .pointer("/sessionAffinityConfig/clientIP/timeoutSeconds")
            .is_none()
    {
        spec["sessionAffinityConfig"] = json!({"clientIP": {"timeoutSeconds": 10800}});
    }
    set_default_str(spec, "type", "ClusterIP");
    each_mut(spec, "ports", |p| {
        set_default_str(p, "protocol", "TCP");
        let unset = match p.get("targetPort") {
            None | Some(Value::Null) => true,
            Some(Value::String(t)) => t.is_empty(),
            Some(v) => v.as_i64() == Some(0),
        };
        if unset {
            if let Some(port) = p.get("port").cloned() {
                p["targetPort"] = port;
            }
        }
    });
    if externally_accessible(spec) {
        set_default_str(spec, "externalTrafficPolicy", "Cluster");
    }
    let t = s(spec, "type").to_string();
    if t != "ExternalName" {
        set_default_str(spec, "internalTrafficPolicy", "Cluster");
        set_default_str(spec, "ipFamilyPolicy", "SingleStack");
        set_default(spec, "ipFamilies", json!(["IPv4"]));
    }
    if t == "LoadBalancer" {
        set_default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
}

/// Keeps `clusterIP` and `clusterIPs` in step, as upstream's strategy does on create and update.
pub fn normalize_cluster_ips(new: &mut Value, old: Option<&Value>) {
    let Some(spec) = obj_mut(new, "spec") else {
        return;
    };
    let ip = s(spec, "clusterIP").to_string();
    let ips = spec.get("clusterIPs").cloned().unwrap_or(Value::Null);
    let ips_empty = ips.as_array().is_none_or(Vec::is_empty);
    match old {
        None if !ip.is_empty() && ips_empty => spec["clusterIPs"] = json!([ip]),
        None => {}
        Some(old) => {
            let old_ip = old
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .unwrap_or("");
            let old_ips = old
                .pointer("/spec/clusterIPs")
                .cloned()
                .unwrap_or(Value::Null);
            if old_ip != ip && ips == old_ips {
                if ip.is_empty() {
                    if let Some(m) = spec.as_object_mut() {
                        m.remove("clusterIPs");
                    }
                } else if let Some(first) = spec.pointer_mut("/clusterIPs/0") {
                    *first = json!(ip);
                }
            } else if old_ip == ip && !ip.is_empty() && ips_empty {
                spec["clusterIPs"] = json!([ip]);
            }
        }
    }
}
