//! Service cluster IPs and IP families: consistency on create, stability on update.

use super::net::{ip, is_ipv6};
use super::value::{int, s, str_list, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

const FAMILIES: &[&str] = &["IPv4", "IPv6"];
const POLICIES: &[&str] = &["PreferDualStack", "RequireDualStack", "SingleStack"];

fn headless(spec: &Value) -> bool {
    let ips = str_list(spec, "clusterIPs");
    ips.len() == 1 && ips[0] == "None"
}

/// Validates `clusterIP`, `clusterIPs`, `ipFamilies` and `ipFamilyPolicy` together.
pub fn validate_cluster_ips(spec: &Value, sp: &Path, errs: &mut Errs) {
    if s(spec, "type") == "ExternalName" {
        return;
    }
    let ips_path = sp.child("clusterIPs");
    let ips = str_list(spec, "clusterIPs");
    let shown = spec.get("clusterIPs").cloned().unwrap_or(Value::Null);
    let cluster_ip = s(spec, "clusterIP");
    if !cluster_ip.is_empty() {
        if ips.is_empty() {
            errs.push(FieldError::required(&ips_path, ""));
        } else if ips[0] != cluster_ip {
            errs.push(FieldError::invalid(
                &ips_path,
                shown.clone(),
                "first value must match `clusterIP`",
            ));
        }
    } else if !ips.is_empty() {
        errs.push(FieldError::invalid(
            &ips_path,
            shown.clone(),
            "must be empty when `clusterIP` is not specified",
        ));
    }
    let families = str_list(spec, "ipFamilies");
    for (i, f) in families.iter().enumerate() {
        let p = sp.child("ipFamilies").index(i);
        if !FAMILIES.contains(f) {
            errs.push(FieldError::not_supported(&p, json!(f), FAMILIES));
        }
        if families[..i].contains(f) {
            errs.push(FieldError::duplicate(&p, json!(f)));
        }
    }
    if let Some(policy) = spec.get("ipFamilyPolicy").filter(|v| !v.is_null()) {
        if !POLICIES.contains(&policy.as_str().unwrap_or("")) {
            errs.push(FieldError::not_supported(
                &sp.child("ipFamilyPolicy"),
                policy.clone(),
                POLICIES,
            ));
        }
    }
    let mut bad = false;
    for (i, addr) in ips.iter().enumerate() {
        if i == 0 && *addr == "None" {
            if ips.len() > 1 {
                bad = true;
                errs.push(FieldError::invalid(
                    &ips_path,
                    shown.clone(),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        for msg in ip(addr) {
            bad = true;
            errs.push(FieldError::invalid(&ips_path.index(i), json!(addr), msg));
        }
    }
    if ips.len() > 2 {
        errs.push(FieldError::invalid(
            &ips_path,
            shown.clone(),
            "may only hold up to 2 values",
        ));
    }
    if bad {
        return;
    }
    if ips.len() > 1 && is_ipv6(ips[0]) == is_ipv6(ips[1]) {
        errs.push(FieldError::invalid(
            &ips_path,
            shown,
            "may specify no more than one IP for each IP family",
        ));
    }
    if !headless(spec) {
        for (i, (addr, family)) in ips.iter().zip(&families).enumerate() {
            let v6 = is_ipv6(addr);
            if *family == "IPv4" && v6 {
                errs.push(FieldError::invalid(
                    &ips_path.index(i),
                    json!(addr),
                    format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
            if *family == "IPv6" && !v6 {
                errs.push(FieldError::invalid(
                    &ips_path.index(i),
                    json!(addr),
                    format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
        }
    }
}

/// Checks a Service update: assigned cluster IPs, families and load-balancer class stay put.
pub fn validate_service_update(new: &Value, old: &Value, errs: &mut Errs) {
    let (ns, os) = (&new["spec"], &old["spec"]);
    let sp = Path::new("spec");
    let external = s(ns, "type") == "ExternalName" || s(os, "type") == "ExternalName";
    let (new_ips, old_ips) = (str_list(ns, "clusterIPs"), str_list(os, "clusterIPs"));
    let shown = ns.get("clusterIPs").cloned().unwrap_or(Value::Null);
    let first = sp.child("clusterIPs").index(0);
    let both_headless = headless(ns) && headless(os);
    if !external && !both_headless {
        if new_ips.len() == old_ips.len() {
            for (i, addr) in old_ips.iter().enumerate() {
                if new_ips[i] != *addr {
                    errs.push(FieldError::invalid(
                        &sp.child("clusterIPs").index(i),
                        shown.clone(),
                        "may not change once set",
                    ));
                }
            }
        } else if old_ips.len() > new_ips.len() {
            if new_ips.is_empty() {
                errs.push(FieldError::invalid(
                    &first,
                    shown.clone(),
                    "primary clusterIP can not be unset",
                ));
            } else if new_ips[0] != old_ips[0] {
                errs.push(FieldError::invalid(
                    &first,
                    shown.clone(),
                    "may not change once set",
                ));
            }
            if new_ips.len() == 1 && s(ns, "ipFamilyPolicy") != "SingleStack" {
                errs.push(FieldError::invalid(
                    &sp.child("ipFamilyPolicy"),
                    ns.get("ipFamilyPolicy").cloned().unwrap_or(Value::Null),
                    "must be set to 'SingleStack' when releasing the secondary clusterIP",
                ));
            }
        } else if !old_ips.is_empty() && new_ips[0] != old_ips[0] {
            errs.push(FieldError::invalid(
                &first,
                shown.clone(),
                "may not change once set",
            ));
        }
    }
    let (nf, of) = (str_list(ns, "ipFamilies"), str_list(os, "ipFamilies"));
    let families_path = sp.child("ipFamilies").index(0);
    if !external && headless(ns) == headless(os) && !headless(ns) && !of.is_empty() {
        let changed = if nf.len() == of.len() {
            nf != of
        } else {
            nf.first() != of.first() && !nf.is_empty()
        };
        if changed {
            errs.push(FieldError::invalid(
                &families_path,
                json!(nf),
                "may not change once set",
            ));
        }
    }
    if s(ns, "type") == "LoadBalancer"
        && s(os, "type") == "LoadBalancer"
        && ns.get("loadBalancerClass") != os.get("loadBalancerClass")
    {
        errs.push(FieldError::invalid(
            &sp.child("loadBalancerClass"),
            ns.get("loadBalancerClass").cloned().unwrap_or(Value::Null),
            "may not change once set",
        ));
    }
    let needs_hc = |spec: &Value| {
        s(spec, "type") == "LoadBalancer" && s(spec, "externalTrafficPolicy") == "Local"
    };
    if needs_hc(ns)
        && needs_hc(os)
        && int(ns, "healthCheckNodePort") != int(os, "healthCheckNodePort")
    {
        errs.push(FieldError::forbidden(
            &sp.child("healthCheckNodePort"),
            "field is immutable",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(spec: Value) -> Vec<String> {
        let mut errs = Errs::new();
        validate_cluster_ips(&spec, &Path::new("spec"), &mut errs);
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn cluster_ips_follow_cluster_ip() {
        assert!(run(
            json!({"clusterIP": "10.43.0.1", "clusterIPs": ["10.43.0.1"], "ipFamilies": ["IPv4"]})
        )
        .is_empty());
        assert_eq!(
            run(json!({"clusterIP": "10.43.0.1"})),
            vec!["spec.clusterIPs: Required value"]
        );
        assert_eq!(run(json!({"clusterIPs": ["10.43.0.1"]})), vec!["spec.clusterIPs: Invalid value: []string{\"10.43.0.1\"}: must be empty when `clusterIP` is not specified"]);
        assert_eq!(run(json!({"clusterIP": "x", "clusterIPs": ["x"]})), vec!["spec.clusterIPs[0]: Invalid value: \"x\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]);
        assert_eq!(run(json!({"clusterIP": "fd00::1", "clusterIPs": ["fd00::1"], "ipFamilies": ["IPv4"]})), vec!["spec.clusterIPs[0]: Invalid value: \"fd00::1\": expected an IPv4 value as indicated by `ipFamilies[0]`"]);
    }

    #[test]
    fn assigned_cluster_ip_cannot_change() {
        let old = json!({"spec": {"type": "ClusterIP", "clusterIP": "10.43.0.1", "clusterIPs": ["10.43.0.1"], "ipFamilies": ["IPv4"]}});
        let mut errs = Errs::new();
        validate_service_update(
            &json!({"spec": {"type": "ClusterIP", "ipFamilies": ["IPv4"]}}),
            &old,
            &mut errs,
        );
        assert_eq!(
            errs[0].to_string(),
            "spec.clusterIPs[0]: Invalid value: null: primary clusterIP can not be unset"
        );
        errs.clear();
        validate_service_update(
            &json!({"spec": {"type": "ClusterIP", "clusterIP": "10.43.0.2", "clusterIPs": ["10.43.0.2"], "ipFamilies": ["IPv4"]}}),
            &old,
            &mut errs,
        );
        assert_eq!(
            errs[0].to_string(),
            "spec.clusterIPs[0]: Invalid value: []string{\"10.43.0.2\"}: may not change once set"
        );
    }
}
