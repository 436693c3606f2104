//! Ingress and IngressClass checks and defaults.

use super::meta::immutable;
use super::names::{
    dns1035_label, dns1123_subdomain, path_segment_name, port_name, port_num,
    wildcard_dns1123_subdomain, NameRule,
};
use super::net::parse_ip;
use super::value::{arr, has, int, s, set_default, str_list, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

const PATH_TYPES: &[&str] = &["Exact", "ImplementationSpecific", "Prefix"];

/// Defaults an IngressClass: namespace-less parameters are cluster scoped.
pub fn default_ingress_class(obj: &mut Value) {
    if let Some(p) = obj
        .pointer_mut("/spec/parameters")
        .filter(|p| p.is_object())
    {
        set_default(p, "scope", json!("Cluster"));
    }
}

fn host(h: &str, p: &Path, errs: &mut Errs) {
    if h.contains('*') {
        for msg in wildcard_dns1123_subdomain(h) {
            errs.push(FieldError::invalid(p, json!(h), msg));
        }
    } else {
        for msg in dns1123_subdomain(h) {
            errs.push(FieldError::invalid(p, json!(h), msg));
        }
    }
}

fn backend(b: &Value, p: &Path, errs: &mut Errs) {
    match (
        has(b, "resource"),
        b.get("service").filter(|v| !v.is_null()),
    ) {
        (true, Some(_)) => errs.push(FieldError::invalid(
            p,
            json!(""),
            "cannot set both resource and service backends",
        )),
        (true, None) => {
            let r = &b["resource"];
            let rp = p.child("resource");
            for field in ["kind", "name"] {
                let v = s(r, field);
                if v.is_empty() {
                    errs.push(FieldError::required(&rp.child(field), ""));
                    continue;
                }
                for msg in path_segment_name(v) {
                    errs.push(FieldError::invalid(&rp.child(field), json!(v), msg));
                }
            }
        }
        (false, Some(svc)) => {
            let sp = p.child("service");
            let name = s(svc, "name");
            if name.is_empty() {
                errs.push(FieldError::required(&sp.child("name"), ""));
            } else {
                for msg in dns1035_label(name) {
                    errs.push(FieldError::invalid(&sp.child("name"), json!(name), msg));
                }
            }
            let port = svc.get("port").unwrap_or(&Value::Null);
            let (pname, pnum) = (s(port, "name"), int(port, "number").unwrap_or(0));
            match (pname.is_empty(), pnum == 0) {
                (false, false) => errs.push(FieldError::invalid(
                    p,
                    json!(""),
                    "cannot set both port name & port number",
                )),
                (false, true) => {
                    for msg in port_name(pname) {
                        errs.push(FieldError::invalid(
                            &sp.child("port").child("name"),
                            json!(pname),
                            msg,
                        ));
                    }
                }
                (true, false) => {
                    for msg in port_num(pnum) {
                        errs.push(FieldError::invalid(
                            &sp.child("port").child("number"),
                            json!(pnum),
                            msg,
                        ));
                    }
                }
                (true, true) => {
                    errs.push(FieldError::required(p, "port name or number is required"))
                }
            }
        }
        (false, None) => errs.push(FieldError::invalid(
            p,
            json!(""),
            "resource or service backend is required",
        )),
    }
}

fn http_path(hp: &Value, p: &Path, errs: &mut Errs) {
    let path = s(hp, "path");
    match hp.get("pathType").and_then(Value::as_str) {
        None => {
            return errs.push(FieldError::required(
                &p.child("pathType"),
                "pathType must be specified",
            ))
        }
        Some("Exact" | "Prefix") => {
            if !path.starts_with('/') {
                errs.push(FieldError::invalid(
                    &p.child("path"),
                    json!(path),
                    "must be an absolute path",
                ));
            }
            for seq in ["//", "/./", "/../", "%2f", "%2F"]
                .into_iter()
                .filter(|q| path.contains(q))
            {
                errs.push(FieldError::invalid(
                    &p.child("path"),
                    json!(path),
                    format!("must not contain '{seq}'"),
                ));
            }
            for suffix in ["/..", "/."].into_iter().filter(|q| path.ends_with(q)) {
                errs.push(FieldError::invalid(
                    &p.child("path"),
                    json!(path),
                    format!("cannot end with '{suffix}'"),
                ));
            }
        }
        Some("ImplementationSpecific") => {
            if !path.is_empty() && !path.starts_with('/') {
                errs.push(FieldError::invalid(
                    &p.child("path"),
                    json!(path),
                    "must be an absolute path",
                ));
            }
        }
        Some(t) => errs.push(FieldError::not_supported(
            &p.child("pathType"),
            json!(t),
            PATH_TYPES,
        )),
    }
    backend(
        hp.get("backend").unwrap_or(&Value::Null),
        &p.child("backend"),
        errs,
    );
}

/// Validates an Ingress spec.
pub fn validate_ingress(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let sp = Path::new("spec");
    let rules = arr(spec, "rules");
    if rules.is_empty() && !has(spec, "defaultBackend") {
        errs.push(FieldError::invalid(
            &sp,
            Value::Array(rules.to_vec()),
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(b) = spec.get("defaultBackend").filter(|v| !v.is_null()) {
        backend(b, &sp.child("defaultBackend"), errs);
    }
    for (i, rule) in rules.iter().enumerate() {
        let rp = sp.child("rules").index(i);
        let h = s(rule, "host");
        if !h.is_empty() {
            if parse_ip(h).is_some() {
                errs.push(FieldError::invalid(
                    &rp.child("host"),
                    json!(h),
                    "must be a DNS name, not an IP address",
                ));
            }
            host(h, &rp.child("host"), errs);
        }
        if let Some(http) = rule.get("http").filter(|v| !v.is_null()) {
            let hp = rp.child("http");
            let paths = arr(http, "paths");
            if paths.is_empty() {
                errs.push(FieldError::required(&hp.child("paths"), ""));
            }
            for (j, path) in paths.iter().enumerate() {
                http_path(path, &hp.child("paths").index(j), errs);
            }
        }
    }
    for (i, tls) in arr(spec, "tls").iter().enumerate() {
        let tp = sp.child("tls").index(i);
        for (j, h) in str_list(tls, "hosts").into_iter().enumerate() {
            host(h, &tp.child("hosts").index(j), errs);
        }
        let secret = s(tls, "secretName");
        if !secret.is_empty() {
            for msg in NameRule::Subdomain.check(secret, false) {
                errs.push(FieldError::invalid(
                    &tp.child("secretName"),
                    json!(secret),
                    msg,
                ));
            }
        }
    }
    if let Some(class) = spec.get("ingressClassName").and_then(Value::as_str) {
        for msg in NameRule::Subdomain.check(class, false) {
            errs.push(FieldError::invalid(
                &sp.child("ingressClassName"),
                json!(class),
                msg,
            ));
        }
    }
    let ann = obj
        .pointer("/metadata/annotations/kubernetes.io~1ingress.class")
        .and_then(Value::as_str);
    if let (Some(a), Some(c)) = (ann, spec.get("ingressClassName").and_then(Value::as_str)) {
        if a != c {
            errs.push(FieldError::invalid(
                &Path::new("annotations").child("kubernetes.io/ingress.class"),
                json!(a),
                "must match `ingressClassName` when both are specified",
            ));
        }
    }
}

/// Validates an IngressClass spec.
pub fn validate_ingress_class(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let cp = Path::new("spec").child("controller");
    let controller = s(spec, "controller");
    if controller.is_empty() {
        errs.push(FieldError::required(&cp, ""));
    } else {
        if controller.len() > 250 {
            errs.push(FieldError::too_long(&cp, 250));
        }
        match controller.split_once('/') {
            Some((domain, rest)) if !domain.is_empty() && !rest.is_empty() => {
                for msg in dns1123_subdomain(domain) {
                    errs.push(FieldError::invalid(&cp, json!(domain), msg));
                }
            }
            _ => errs.push(FieldError::invalid(
                &cp,
                json!(controller),
                "must be a domain-prefixed path (such as \"acme.io/foo\")",
            )),
        }
    }
    if let Some(params) = spec.get("parameters").filter(|v| !v.is_null()) {
        let pp = Path::new("spec").child("parameters");
        for field in ["kind", "name"] {
            if s(params, field).is_empty() {
                errs.push(FieldError::required(&pp.child(field), ""));
            }
        }
        match (s(params, "scope"), has(params, "namespace")) {
            ("Cluster", true) => errs.push(FieldError::forbidden(
                &pp.child("namespace"),
                "`parameters.scope` is set to 'Cluster'",
            )),
            ("Namespace", false) => errs.push(FieldError::required(
                &pp.child("namespace"),
                "`parameters.scope` is set to 'Namespace'",
            )),
            ("Cluster" | "Namespace", _) => {}
            ("", _) => errs.push(FieldError::required(&pp.child("scope"), "")),
            (scope, _) => errs.push(FieldError::not_supported(
                &pp.child("scope"),
                json!(scope),
                &["Cluster", "Namespace"],
            )),
        }
    }
}

/// Checks an IngressClass update: the controller is fixed.
pub fn validate_ingress_class_update(new: &Value, old: &Value, errs: &mut Errs) {
    immutable(
        new.pointer("/spec/controller"),
        old.pointer("/spec/controller"),
        &Path::new("spec").child("controller"),
        errs,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run;

    #[test]
    fn ingress_paths_need_types_and_backends() {
        let ing = json!({"spec": {"rules": [{"host": "10.0.0.1", "http": {"paths": [
            {"path": "/a", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
            {"path": "b", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {}}}},
            {"path": "/c", "pathType": "Regex", "backend": {"service": {"name": "web", "port": {"name": "http"}}}}]}}]}});
        assert_eq!(run(validate_ingress, ing), vec![
            "spec.rules[0].host: Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address",
            "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
            "spec.rules[0].http.paths[1].path: Invalid value: \"b\": must be an absolute path",
            "spec.rules[0].http.paths[1].backend: Required value: port name or number is required",
            "spec.rules[0].http.paths[2].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"",
        ]);
        assert_eq!(run(validate_ingress, json!({"spec": {}})), vec!["spec: Invalid value: []string{}: either `defaultBackend` or `rules` must be specified"]);
    }

    #[test]
    fn ingress_classes() {
        assert_eq!(run(validate_ingress_class, json!({"spec": {"controller": "nginx"}})), vec![
            "spec.controller: Invalid value: \"nginx\": must be a domain-prefixed path (such as \"acme.io/foo\")",
        ]);
        let mut ic = json!({"spec": {"controller": "k8s.io/ingress-nginx", "parameters": {"kind": "C", "name": "n"}}});
        default_ingress_class(&mut ic);
        assert!(run(validate_ingress_class, ic).is_empty());
    }
}
