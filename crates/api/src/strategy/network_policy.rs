//! NetworkPolicy checks and defaults.

use super::labels::validate_selector;
use super::names::{port_name, port_num};
use super::net::cidr;
use super::value::{
    arr, each_mut, has, int, int_or_str, obj_mut, s, set_default_str, str_list, Errs, IntOrStr,
    Path,
};
use crate::FieldError;
use serde_json::{json, Value};

/// Defaults a NetworkPolicy: port protocols and policy types.
pub fn default_network_policy(obj: &mut Value) {
    let Some(spec) = obj_mut(obj, "spec") else {
        return;
    };
    for dir in ["ingress", "egress"] {
        each_mut(spec, dir, |rule| {
            each_mut(rule, "ports", |p| set_default_str(p, "protocol", "TCP"))
        });
    }
    if arr(spec, "policyTypes").is_empty() {
        let mut types = vec![json!("Ingress")];
        if !arr(spec, "egress").is_empty() {
            types.push(json!("Egress"));
        }
        spec["policyTypes"] = Value::Array(types);
    }
}

fn policy_port(port: &Value, p: &Path, errs: &mut Errs) {
    if let Some(proto) = port.get("protocol").and_then(Value::as_str) {
        if !["TCP", "UDP", "SCTP"].contains(&proto) {
            errs.push(FieldError::not_supported(
                &p.child("protocol"),
                json!(proto),
                &["TCP", "UDP", "SCTP"],
            ));
        }
    }
    let end = int(port, "endPort");
    match port.get("port").and_then(int_or_str) {
        Some(IntOrStr::Int(n)) => {
            for msg in port_num(n) {
                errs.push(FieldError::invalid(&p.child("port"), json!(n), msg));
            }
            if let Some(e) = end {
                if e < n {
                    errs.push(FieldError::invalid(
                        &p.child("endPort"),
                        json!(e),
                        "must be greater than or equal to `port`",
                    ));
                }
                for msg in port_num(e) {
                    errs.push(FieldError::invalid(&p.child("endPort"), json!(e), msg));
                }
            }
        }
        Some(IntOrStr::Str(name)) => {
            if let Some(e) = end {
                errs.push(FieldError::invalid(
                    &p.child("endPort"),
                    json!(e),
                    "may not be specified when `port` is non-numeric",
                ));
            }
            for msg in port_name(name) {
                errs.push(FieldError::invalid(&p.child("port"), json!(name), msg));
            }
        }
        None => {
            if let Some(e) = end {
                errs.push(FieldError::invalid(
                    &p.child("endPort"),
                    json!(e),
                    "may not be specified when `port` is not specified",
                ));
            }
        }
    }
}

fn peer(peer: &Value, p: &Path, errs: &mut Errs) {
    let mut n = 0;
    for field in ["podSelector", "namespaceSelector"] {
        if let Some(sel) = peer.get(field).filter(|v| !v.is_null()) {
            n += 1;
            validate_selector(sel, &p.child(field), errs);
        }
    }
    if let Some(block) = peer.get("ipBlock").filter(|v| !v.is_null()) {
        n += 1;
        let bp = p.child("ipBlock");
        let c = s(block, "cidr");
        if c.is_empty() {
            errs.push(FieldError::required(&bp.child("cidr"), ""));
        } else {
            for msg in cidr(c) {
                errs.push(FieldError::invalid(&bp.child("cidr"), json!(c), msg));
            }
            for (i, ex) in str_list(block, "except").into_iter().enumerate() {
                for msg in cidr(ex) {
                    errs.push(FieldError::invalid(
                        &bp.child("except").index(i),
                        json!(ex),
                        msg,
                    ));
                }
            }
        }
    }
    if n == 0 {
        errs.push(FieldError::required(p, "must specify a peer"));
    } else if n > 1 && has(peer, "ipBlock") {
        errs.push(FieldError::forbidden(
            p,
            "may not specify both ipBlock and another peer",
        ));
    }
}

/// Validates a NetworkPolicy spec.
pub fn validate_network_policy(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let sp = Path::new("spec");
    validate_selector(
        spec.get("podSelector").unwrap_or(&json!({})),
        &sp.child("podSelector"),
        errs,
    );
    for (dir, peers) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in arr(spec, dir).iter().enumerate() {
            let rp = sp.child(dir).index(i);
            for (j, port) in arr(rule, "ports").iter().enumerate() {
                policy_port(port, &rp.child("ports").index(j), errs);
            }
            for (j, p) in arr(rule, peers).iter().enumerate() {
                peer(p, &rp.child(peers).index(j), errs);
            }
        }
    }
    let types = arr(spec, "policyTypes");
    if types.len() > 2 {
        return errs.push(FieldError::invalid(
            &sp.child("policyTypes"),
            Value::Array(types.to_vec()),
            "may not specify more than two policyTypes",
        ));
    }
    for (i, t) in types.iter().enumerate() {
        if !["Ingress", "Egress"].contains(&t.as_str().unwrap_or("")) {
            errs.push(FieldError::not_supported(
                &sp.child("policyTypes").index(i),
                t.clone(),
                &["Ingress", "Egress"],
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run;

    #[test]
    fn network_policy_defaults_and_checks() {
        let mut np =
            json!({"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}], "to": [{}]}]}});
        default_network_policy(&mut np);
        assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(np["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
        assert_eq!(
            run(validate_network_policy, np),
            vec!["spec.egress[0].to[0]: Required value: must specify a peer"]
        );
    }
}
