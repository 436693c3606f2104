//! Namespace and Node checks and defaults.

use super::names::qualified_name;
use super::net::{cidr, is_ipv6};
use super::quota::non_negative_quantity;
use super::taints::validate_taints;
use super::value::{arr, map, s, set_default, str_list, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

/// Defaults a Node: allocatable from capacity and `podCIDR`/`podCIDRs` kept in step.
pub fn default_node(obj: &mut Value) {
    if let Some(status) = obj.get_mut("status").filter(|v| v.is_object()) {
        if let Some(cap) = status.get("capacity").cloned().filter(Value::is_object) {
            set_default(status, "allocatable", cap);
        }
    }
    if let Some(spec) = obj.get_mut("spec").filter(|v| v.is_object()) {
        let single = s(spec, "podCIDR").to_string();
        let list = str_list(spec, "podCIDRs").first().map(|c| c.to_string());
        match (single.is_empty(), list) {
            (false, None) => spec["podCIDRs"] = json!([single]),
            (true, Some(first)) => spec["podCIDR"] = json!(first),
            _ => {}
        }
    }
}

/// Validates a Namespace's spec finalizers.
pub fn validate_namespace(obj: &Value, errs: &mut Errs) {
    let p = Path::new("spec").child("finalizers");
    for f in str_list(&obj["spec"], "finalizers") {
        for msg in qualified_name(f) {
            errs.push(FieldError::invalid(&p, json!(f), msg));
        }
        if !f.contains('/') && !["kubernetes", "orphan", "foregroundDeletion"].contains(&f) {
            errs.push(FieldError::invalid(
                &p,
                json!(f),
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
}

/// Validates a Node: taints, pod CIDRs and reported quantities.
pub fn validate_node(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    validate_taints(
        arr(spec, "taints"),
        &Path::new("metadata").child("taints"),
        errs,
    );
    for field in ["capacity", "allocatable"] {
        for (k, q) in map(&obj["status"], field).into_iter().flatten() {
            let p = Path::new("status").child(field).child(k);
            non_negative_quantity(q, &p, errs);
        }
    }
    let cidrs = str_list(spec, "podCIDRs");
    let cp = Path::new("spec").child("podCIDRs");
    for (i, c) in cidrs.iter().enumerate() {
        for msg in cidr(c) {
            errs.push(FieldError::invalid(&cp.index(i), json!(c), msg));
        }
    }
    if cidrs.len() > 1 {
        let v6 = |c: &str| is_ipv6(c.split('/').next().unwrap_or(""));
        if cidrs.len() > 2 || v6(cidrs[0]) == v6(cidrs[1]) {
            errs.push(FieldError::invalid(
                &cp,
                json!(cidrs),
                "may specify no more than one CIDR for each IP family",
            ));
        }
        for (i, c) in cidrs.iter().enumerate() {
            if cidrs[..i].contains(c) {
                errs.push(FieldError::duplicate(&cp.index(i), json!(c)));
            }
        }
    }
}

/// Checks a Node update: pod CIDRs and provider ID are fixed once set.
pub fn validate_node_update(new: &Value, old: &Value, errs: &mut Errs) {
    let (ns, os) = (&new["spec"], &old["spec"]);
    let old_cidrs = str_list(os, "podCIDRs");
    if !old_cidrs.is_empty() && str_list(ns, "podCIDRs") != old_cidrs {
        errs.push(FieldError::forbidden(
            &Path::new("spec").child("podCIDRs"),
            "node updates may not change podCIDR except from \"\" to valid",
        ));
    }
    let old_provider = s(os, "providerID");
    if !old_provider.is_empty() && old_provider != s(ns, "providerID") {
        errs.push(FieldError::forbidden(
            &Path::new("spec").child("providerID"),
            "node updates may not change providerID except from \"\" to valid",
        ));
    }
    if s(ns, "externalID") != s(os, "externalID") {
        errs.push(FieldError::forbidden(
            &Path::new("spec").child("externalID"),
            "may not be updated",
        ));
    }
    let addrs = arr(&new["status"], "addresses");
    for (i, a) in addrs.iter().enumerate() {
        if addrs[..i].contains(a) {
            errs.push(FieldError::duplicate(
                &Path::new("status").child("addresses").index(i),
                a.clone(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run;

    #[test]
    fn nodes() {
        let mut n =
            json!({"spec": {"podCIDR": "10.42.1.0/24"}, "status": {"capacity": {"cpu": "4"}}});
        default_node(&mut n);
        assert_eq!(n["spec"]["podCIDRs"], json!(["10.42.1.0/24"]));
        assert_eq!(n["status"]["allocatable"], json!({"cpu": "4"}));
        assert!(run(validate_node, n.clone()).is_empty());
        let mut errs = Errs::new();
        let mut changed = n.clone();
        changed["spec"]["podCIDRs"] = json!(["10.42.2.0/24"]);
        validate_node_update(&changed, &n, &mut errs);
        assert_eq!(errs[0].to_string(), "spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid");
    }

    #[test]
    fn namespace_finalizers_are_standard_or_qualified() {
        assert_eq!(run(validate_namespace, json!({"spec": {"finalizers": ["kubernetes", "custom"]}})), vec![
            "spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified",
        ]);
    }
}
