//! Scheduling-related pod spec checks: affinity, spread constraints and DNS config.

use super::labels::{validate_label_name, validate_selector};
use super::names::{dns1123_subdomain_with_underscore, NameRule};
use super::net::ip;
use super::value::{arr, int, s, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

fn node_selector_term(term: &Value, path: &Path, errs: &mut Errs) {
    for (j, req) in arr(term, "matchExpressions").iter().enumerate() {
        let p = path.child("matchExpressions").index(j);
        let n = arr(req, "values").len();
        match s(req, "operator") {
            "In" | "NotIn" if n == 0 => errs.push(FieldError::required(
                &p.child("values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if n > 0 => errs.push(FieldError::forbidden(
                &p.child("values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "Gt" | "Lt" if n != 1 => errs.push(FieldError::required(
                &p.child("values"),
                "must be specified single value when `operator` is 'Lt' or 'Gt'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt" => {}
            op => errs.push(FieldError::invalid(
                &p.child("operator"),
                json!(op),
                "not a valid selector operator",
            )),
        }
        validate_label_name(s(req, "key"), &p.child("key"), errs);
    }
}

fn affinity_term(term: &Value, path: &Path, errs: &mut Errs) {
    for field in ["labelSelector", "namespaceSelector"] {
        if let Some(sel) = term.get(field).filter(|v| !v.is_null()) {
            validate_selector(sel, &path.child(field), errs);
        }
    }
    for ns in arr(term, "namespaces").iter().filter_map(Value::as_str) {
        for msg in NameRule::Label.check(ns, false) {
            errs.push(FieldError::invalid(
                &path.child("namespace"),
                json!(ns),
                msg,
            ));
        }
    }
    let key = s(term, "topologyKey");
    if key.is_empty() {
        errs.push(FieldError::required(
            &path.child("topologyKey"),
            "can not be empty",
        ));
    }
    validate_label_name(key, &path.child("topologyKey"), errs);
}

fn weight(w: &Value, path: &Path, errs: &mut Errs) {
    let v = int(w, "weight").unwrap_or(0);
    if !(1..=100).contains(&v) {
        errs.push(FieldError::invalid(
            &path.child("weight"),
            json!(v),
            "must be in the range 1-100",
        ));
    }
}

/// Validates `affinity`.
pub fn validate_affinity(aff: &Value, path: &Path, errs: &mut Errs) {
    if let Some(na) = aff.get("nodeAffinity").filter(|v| !v.is_null()) {
        let p = path.child("nodeAffinity");
        if let Some(req) = na
            .get("requiredDuringSchedulingIgnoredDuringExecution")
            .filter(|v| !v.is_null())
        {
            let tp = p
                .child("requiredDuringSchedulingIgnoredDuringExecution")
                .child("nodeSelectorTerms");
            let terms = arr(req, "nodeSelectorTerms");
            if terms.is_empty() {
                errs.push(FieldError::required(
                    &tp,
                    "must have at least one node selector term",
                ));
            }
            for (i, t) in terms.iter().enumerate() {
                node_selector_term(t, &tp.index(i), errs);
            }
        }
        let pp = p.child("preferredDuringSchedulingIgnoredDuringExecution");
        for (i, t) in arr(na, "preferredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            weight(t, &pp.index(i), errs);
            node_selector_term(
                t.get("preference").unwrap_or(&Value::Null),
                &pp.index(i).child("preference"),
                errs,
            );
        }
    }
    for kind in ["podAffinity", "podAntiAffinity"] {
        let Some(pa) = aff.get(kind).filter(|v| !v.is_null()) else {
            continue;
        };
        let p = path.child(kind);
        let rp = p.child("requiredDuringSchedulingIgnoredDuringExecution");
        for (i, t) in arr(pa, "requiredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            affinity_term(t, &rp.index(i), errs);
        }
        let pp = p.child("preferredDuringSchedulingIgnoredDuringExecution");
        for (i, t) in arr(pa, "preferredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            weight(t, &pp.index(i), errs);
            let term = t.get("podAffinityTerm").unwrap_or(&Value::Null);
            affinity_term(term, &pp.index(i).child("podAffinityTerm"), errs);
        }
    }
}

/// Validates `topologySpreadConstraints`.
pub fn validate_spread(list: &[Value], path: &Path, errs: &mut Errs) {
    for (i, c) in list.iter().enumerate() {
        let p = path.index(i);
        let skew = int(c, "maxSkew").unwrap_or(0);
        if skew <= 0 {
            errs.push(FieldError::invalid(
                &p.child("maxSkew"),
                json!(skew),
                "must be greater than zero",
            ));
        }
        if s(c, "topologyKey").is_empty() {
            errs.push(FieldError::required(
                &p.child("topologyKey"),
                "can not be empty",
            ));
        }
        let action = s(c, "whenUnsatisfiable");
        if action != "DoNotSchedule" && action != "ScheduleAnyway" {
            errs.push(FieldError::not_supported(
                &p.child("whenUnsatisfiable"),
                json!(action),
                &["DoNotSchedule", "ScheduleAnyway"],
            ));
        }
        let dup = list[i + 1..].iter().any(|o| {
            s(o, "topologyKey") == s(c, "topologyKey") && s(o, "whenUnsatisfiable") == action
        });
        if dup {
            errs.push(FieldError::duplicate(
                &p.child("{topologyKey, whenUnsatisfiable}"),
                json!(format!("{{{}, {action}}}", s(c, "topologyKey"))),
            ));
        }
        if let Some(sel) = c.get("labelSelector").filter(|v| !v.is_null()) {
            validate_selector(sel, &p.child("labelSelector"), errs);
        }
    }
}

/// Validates `dnsConfig` against the DNS policy.
pub fn validate_dns_config(spec: &Value, path: &Path, errs: &mut Errs) {
    let cfg = spec.get("dnsConfig").filter(|v| !v.is_null());
    if s(spec, "dnsPolicy") == "None" {
        match cfg {
            None => {
                return errs.push(FieldError::required(
                    path,
                    "must provide `dnsConfig` when `dnsPolicy` is None",
                ))
            }
            Some(c) if arr(c, "nameservers").is_empty() => {
                return errs.push(FieldError::required(
                    &path.child("nameservers"),
                    "must provide at least one DNS nameserver when `dnsPolicy` is None",
                ))
            }
            Some(_) => {}
        }
    }
    let Some(cfg) = cfg else {
        return;
    };
    let servers = arr(cfg, "nameservers");
    if servers.len() > 3 {
        errs.push(FieldError::invalid(
            &path.child("nameservers"),
            json!(servers),
            "must not have more than 3 nameservers",
        ));
    }
    for (i, ns) in servers.iter().enumerate() {
        for msg in ip(ns.as_str().unwrap_or("")) {
            errs.push(FieldError::invalid(
                &path.child("nameservers").index(i),
                ns.clone(),
                msg,
            ));
        }
    }
    let searches = arr(cfg, "searches");
    if searches.len() > 32 {
        errs.push(FieldError::invalid(
            &path.child("searches"),
            json!(searches),
            "must not have more than 32 search paths",
        ));
    }
    let joined: Vec<&str> = searches.iter().filter_map(Value::as_str).collect();
    if joined.join(" ").len() > 2048 {
        errs.push(FieldError::invalid(
            &path.child("searches"),
            json!(searches),
            "must not have more than 2048 characters (including spaces) in the search list",
        ));
    }
    for (i, search) in searches.iter().enumerate() {
        let v = search.as_str().unwrap_or("");
        if v == "." {
            continue;
        }
        let trimmed = v.strip_suffix('.').unwrap_or(v);
        for msg in dns1123_subdomain_with_underscore(trimmed) {
            errs.push(FieldError::invalid(
                &path.child("searches").index(i),
                json!(trimmed),
                msg,
            ));
        }
    }
    for (i, opt) in arr(cfg, "options").iter().enumerate() {
        if s(opt, "name").is_empty() {
            errs.push(FieldError::required(
                &path.child("options").index(i),
                "must not be empty",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run_list as run;

    #[test]
    fn affinity_and_dns() {
        let mut errs = Errs::new();
        validate_affinity(
            &json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}},
            "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 0, "podAffinityTerm": {"topologyKey": "zone"}}]}}),
            &Path::new("a"),
            &mut errs,
        );
        validate_dns_config(&json!({"dnsPolicy": "None"}), &Path::new("d"), &mut errs);
        let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(got, vec![
            "a.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term",
            "a.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100",
            "d: Required value: must provide `dnsConfig` when `dnsPolicy` is None",
        ]);
    }

    #[test]
    fn spread_constraints() {
        let got = run(
            validate_spread,
            json!([{"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
            {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]),
        );
        assert_eq!(
            got,
            vec![
                "x[0].maxSkew: Invalid value: 0: must be greater than zero",
                "x[0].{topologyKey, whenUnsatisfiable}: Duplicate value: \"{zone, DoNotSchedule}\"",
            ]
        );
    }
}
