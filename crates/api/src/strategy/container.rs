//! Container checks: names, images, ports, environment, mounts, probes and resources.

use super::names::{config_map_key, dns1123_label, env_var_name, port_name, port_num, NameRule};
use super::probe::{validate_lifecycle, validate_probe, ProbeKind};
use super::quantity::validate_requirements;
use super::security::validate_security_context;
use super::value::{arr, has, int, s, Errs, Path};
use super::volume::{local_descending_path, Volumes};
use crate::FieldError;
use serde_json::{json, Value};

const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
    "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
];
const RESOURCE_FIELDS: &[&str] = &[
    "limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage",
    "requests.memory",
];

/// What container checks need from the surrounding pod spec.
pub struct PodContext<'a> {
    /// Valid volumes by name.
    pub volumes: &'a Volumes<'a>,
    /// The pod's termination grace period.
    pub grace: Option<i64>,
}

/// Validates `containers` and `initContainers` of a pod spec at `spec_path`.
pub fn validate_containers(spec: &Value, spec_path: &Path, ctx: &PodContext<'_>, errs: &mut Errs) {
    let path = spec_path.child("containers");
    let containers = arr(spec, "containers");
    if containers.is_empty() {
        errs.push(FieldError::required(&path, ""));
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, c) in containers.iter().enumerate() {
        let p = path.index(i);
        common(c, &p, ctx, errs);
        let name = s(c, "name");
        if names.contains(&name) {
            errs.push(FieldError::duplicate(&p.child("name"), json!(name)));
        } else {
            names.push(name);
        }
        hooks_and_probes(c, &p, ctx.grace, errs);
        if has(c, "restartPolicy") {
            errs.push(FieldError::forbidden(&p.child("restartPolicy"), "may not be set for non-init containers"));
        }
    }
    host_port_conflicts(containers, &path, errs);
    let path = spec_path.child("initContainers");
    for (i, c) in arr(spec, "initContainers").iter().enumerate() {
        let p = path.index(i);
        common(c, &p, ctx, errs);
        let always = match c.get("restartPolicy").filter(|v| !v.is_null()) {
            Some(Value::String(r)) if r == "Always" => true,
            Some(r) => {
                errs.push(FieldError::not_supported(&p.child("restartPolicy"), r.clone(), &["Always"]));
                false
            }
            None => false,
        };
        let name = s(c, "name");
        if names.contains(&name) {
            errs.push(FieldError::duplicate(&p.child("name"), json!(name)));
        } else if !name.is_empty() {
            names.push(name);
        }
        host_port_conflicts(std::slice::from_ref(c), &path, errs);
        if always {
            hooks_and_probes(c, &p, ctx.grace, errs);
        } else {
            for field in ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"] {
                if has(c, field) {
                    errs.push(FieldError::forbidden(&p.child(field), "may not be set for init containers without restartPolicy=Always"));
                }
            }
        }
    }
}

fn hooks_and_probes(c: &Value, p: &Path, grace: Option<i64>, errs: &mut Errs) {
    if let Some(lc) = c.get("lifecycle").filter(|v| !v.is_null()) {
        validate_lifecycle(lc, grace, &p.child("lifecycle"), errs);
    }
    for kind in [ProbeKind::Liveness, ProbeKind::Readiness, ProbeKind::Startup] {
        if let Some(probe) = c.get(kind.field()).filter(|v| !v.is_null()) {
            validate_probe(kind, probe, grace, &p.child(kind.field()), errs);
        }
    }
}

fn common(c: &Value, p: &Path, ctx: &PodContext<'_>, errs: &mut Errs) {
    let name = s(c, "name");
    if name.is_empty() {
        errs.push(FieldError::required(&p.child("name"), ""));
    } else {
        for msg in dns1123_label(name) {
            errs.push(FieldError::invalid(&p.child("name"), json!(name), msg));
        }
    }
    if s(c, "image").is_empty() {
        errs.push(FieldError::required(&p.child("image"), ""));
    }
    one_of(c, "terminationMessagePolicy", &["File", "FallbackToLogsOnError"], p, errs);
    ports(c, &p.child("ports"), errs);
    env(c, &p.child("env"), errs);
    env_from(c, &p.child("envFrom"), errs);
    mounts(c, &p.child("volumeMounts"), ctx, errs);
    one_of(c, "imagePullPolicy", &["Always", "IfNotPresent", "Never"], p, errs);
    if let Some(res) = c.get("resources").filter(|v| !v.is_null()) {
        validate_requirements(res, &p.child("resources"), errs);
    }
    if let Some(sc) = c.get("securityContext").filter(|v| !v.is_null()) {
        validate_security_context(sc, &p.child("securityContext"), errs);
    }
}

/// Required enum field: `Required value` when empty, `Unsupported value` when unknown.
pub fn one_of(obj: &Value, field: &str, allowed: &[&str], p: &Path, errs: &mut Errs) {
    match s(obj, field) {
        "" => errs.push(FieldError::required(&p.child(field), "")),
        v if allowed.contains(&v) => {}
        v => errs.push(FieldError::not_supported(&p.child(field), json!(v), allowed)),
    }
}

fn ports(c: &Value, path: &Path, errs: &mut Errs) {
    let mut names: Vec<&str> = Vec::new();
    for (i, port) in arr(c, "ports").iter().enumerate() {
        let p = path.index(i);
        let name = s(port, "name");
        if !name.is_empty() {
            let msgs = port_name(name);
            if !msgs.is_empty() {
                for msg in msgs {
                    errs.push(FieldError::invalid(&p.child("name"), json!(name), msg));
                }
            } else if names.contains(&name) {
                errs.push(FieldError::duplicate(&p.child("name"), json!(name)));
            } else {
                names.push(name);
            }
        }
        match int(port, "containerPort").unwrap_or(0) {
            0 => errs.push(FieldError::required(&p.child("containerPort"), "")),
            n => {
                for msg in port_num(n) {
                    errs.push(FieldError::invalid(&p.child("containerPort"), json!(n), msg));
                }
            }
        }
        if let Some(hp) = int(port, "hostPort").filter(|hp| *hp != 0) {
            for msg in port_num(hp) {
                errs.push(FieldError::invalid(&p.child("hostPort"), json!(hp), msg));
            }
        }
        one_of(port, "protocol", PROTOCOLS, &p, errs);
    }
}

fn host_port_conflicts(containers: &[Value], path: &Path, errs: &mut Errs) {
    let mut seen: Vec<String> = Vec::new();
    for (ci, c) in containers.iter().enumerate() {
        for (pi, port) in arr(c, "ports").iter().enumerate() {
            let hp = int(port, "hostPort").unwrap_or(0);
            if hp == 0 {
                continue;
            }
            let key = format!("{}/{}/{hp}", s(port, "protocol"), s(port, "hostIP"));
            if seen.contains(&key) {
                let p = path.index(ci).child("ports").index(pi).child("hostPort");
                errs.push(FieldError::duplicate(&p, json!(key)));
            } else {
                seen.push(key);
            }
        }
    }
}

fn env(c: &Value, path: &Path, errs: &mut Errs) {
    for (i, e) in arr(c, "env").iter().enumerate() {
        let p = path.index(i);
        let name = s(e, "name");
        if name.is_empty() {
            errs.push(FieldError::required(&p.child("name"), ""));
        } else {
            for msg in env_var_name(name) {
                errs.push(FieldError::invalid(&p.child("name"), json!(name), msg));
            }
        }
        if let Some(from) = e.get("valueFrom").filter(|v| !v.is_null()) {
            value_from(from, !s(e, "value").is_empty(), &p.child("valueFrom"), errs);
        }
    }
}

fn value_from(from: &Value, has_value: bool, p: &Path, errs: &mut Errs) {
    let mut n = 0;
    if let Some(f) = from.get("fieldRef").filter(|v| !v.is_null()) {
        n += 1;
        let fp = p.child("fieldRef");
        let field_path = s(f, "fieldPath");
        if s(f, "apiVersion").is_empty() {
            errs.push(FieldError::required(&fp.child("apiVersion"), ""));
        } else if field_path.is_empty() {
            errs.push(FieldError::required(&fp.child("fieldPath"), ""));
        } else if let Some((base, _)) = field_path.split_once('[') {
            if base != "metadata.labels" && base != "metadata.annotations" {
                errs.push(FieldError::invalid(&fp, json!(base), "does not support subscript"));
            }
        } else if !ENV_FIELD_PATHS.contains(&field_path) {
            errs.push(FieldError::not_supported(&fp.child("fieldPath"), json!(field_path), ENV_FIELD_PATHS));
        }
    }
    if let Some(r) = from.get("resourceFieldRef").filter(|v| !v.is_null()) {
        n += 1;
        let res = s(r, "resource");
        let rp = p.child("resourceFieldRef");
        if res.is_empty() {
            errs.push(FieldError::required(&rp.child("resource"), ""));
        } else if !RESOURCE_FIELDS.contains(&res) && !res.starts_with("requests.hugepages-") && !res.starts_with("limits.hugepages-") {
            errs.push(FieldError::not_supported(&rp.child("resource"), json!(res), RESOURCE_FIELDS));
        }
    }
    for field in ["configMapKeyRef", "secretKeyRef"] {
        if let Some(sel) = from.get(field).filter(|v| !v.is_null()) {
            n += 1;
            let sp = p.child(field);
            for msg in NameRule::Subdomain.check(s(sel, "name"), false) {
                errs.push(FieldError::invalid(&sp.child("name"), json!(s(sel, "name")), msg));
            }
            let key = s(sel, "key");
            if key.is_empty() {
                errs.push(FieldError::required(&sp.child("key"), ""));
            } else {
                for msg in config_map_key(key) {
                    errs.push(FieldError::invalid(&sp.child("key"), json!(key), msg));
                }
            }
        }
    }
    let msg = match n {
        0 => "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        _ if has_value => "may not be specified when `value` is not empty",
        1 => return,
        _ => "may not have more than one field specified at a time",
    };
    errs.push(FieldError::invalid(p, json!(""), msg));
}

fn env_from(c: &Value, path: &Path, errs: &mut Errs) {
    for (i, e) in arr(c, "envFrom").iter().enumerate() {
        let p = path.index(i);
        let prefix = s(e, "prefix");
        if !prefix.is_empty() {
            for msg in env_var_name(prefix) {
                errs.push(FieldError::invalid(&p.child("prefix"), json!(prefix), msg));
            }
        }
        let mut n = 0;
        for field in ["configMapRef", "secretRef"] {
            if let Some(r) = e.get(field).filter(|v| !v.is_null()) {
                n += 1;
                let name = s(r, "name");
                if name.is_empty() {
                    errs.push(FieldError::required(&p.child(field).child("name"), ""));
                } else {
                    for msg in NameRule::Subdomain.check(name, true) {
                        errs.push(FieldError::invalid(&p.child(field).child("name"), json!(name), msg));
                    }
                }
            }
        }
        match n {
            0 => errs.push(FieldError::invalid(path, json!(""), "must specify one of: `configMapRef` or `secretRef`")),
            1 => {}
            _ => errs.push(FieldError::invalid(path, json!(""), "may not have more than one field specified at a time")),
        }
    }
}

fn mounts(c: &Value, path: &Path, ctx: &PodContext<'_>, errs: &mut Errs) {
    let mut points: Vec<&str> = Vec::new();
    let privileged = c.pointer("/securityContext/privileged").and_then(Value::as_bool) == Some(true);
    for (i, m) in arr(c, "volumeMounts").iter().enumerate() {
        let p = path.index(i);
        let name = s(m, "name");
        if name.is_empty() {
            errs.push(FieldError::required(&p.child("name"), ""));
        }
        if !ctx.volumes.contains_key(name) {
            errs.push(FieldError::new(crate::ErrorType::NotFound, &p.child("name"), Some(json!(name)), ""));
        }
        let mount_path = s(m, "mountPath");
        if mount_path.is_empty() {
            errs.push(FieldError::required(&p.child("mountPath"), ""));
        }
        if points.contains(&mount_path) {
            errs.push(FieldError::invalid(&p.child("mountPath"), json!(mount_path), "must be unique"));
        }
        points.push(mount_path);
        let sub = s(m, "subPath");
        if !sub.is_empty() {
            local_descending_path(sub, &path.child("subPath"), errs);
        }
        let expr = s(m, "subPathExpr");
        if !expr.is_empty() {
            if !sub.is_empty() {
                errs.push(FieldError::invalid(&p.child("subPathExpr"), json!(expr), "subPathExpr and subPath are mutually exclusive"));
            }
            local_descending_path(expr, &path.child("subPathExpr"), errs);
        }
        if let Some(prop) = m.get("mountPropagation").and_then(Value::as_str) {
            let pp = path.child("mountPropagation");
            if !["Bidirectional", "HostToContainer", "None"].contains(&prop) {
                errs.push(FieldError::not_supported(&pp, json!(prop), &["Bidirectional", "HostToContainer", "None"]));
            }
            if prop == "Bidirectional" && !privileged {
                errs.push(FieldError::forbidden(&pp, "Bidirectional mount propagation is available only to privileged containers"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs_for(spec: Value) -> Vec<String> {
        let vols: Volumes = [("data", &Value::Null)].into_iter().collect();
        let ctx = PodContext { volumes: &vols, grace: Some(30) };
        let mut errs = Errs::new();
        validate_containers(&spec, &Path::new("spec"), &ctx, &mut errs);
        errs.iter().map(ToString::to_string).collect()
    }

    fn ok_container() -> Value {
        json!({"name": "app", "image": "nginx", "imagePullPolicy": "Always", "terminationMessagePolicy": "File"})
    }

    #[test]
    fn containers_are_required() {
        assert_eq!(errs_for(json!({})), vec!["spec.containers: Required value"]);
    }

    #[test]
    fn name_image_and_duplicates() {
        let mut c = ok_container();
        c["image"] = json!("");
        let got = errs_for(json!({"containers": [c, ok_container()]}));
        assert_eq!(got, vec![
            "spec.containers[0].image: Required value",
            "spec.containers[1].name: Duplicate value: \"app\"",
        ]);
    }

    #[test]
    fn ports_env_and_mounts() {
        let mut c = ok_container();
        c["ports"] = json!([{"containerPort": 0, "protocol": "TCP"}, {"name": "averyveryverylongname", "containerPort": 80, "protocol": "HTTP"}]);
        c["env"] = json!([{"name": ""}, {"name": "A", "valueFrom": {}}]);
        c["volumeMounts"] = json!([{"name": "missing", "mountPath": "/m"}, {"name": "data", "mountPath": "/m"}]);
        let got = errs_for(json!({"containers": [c]}));
        assert_eq!(got, vec![
            "spec.containers[0].ports[0].containerPort: Required value",
            "spec.containers[0].ports[1].name: Invalid value: \"averyveryverylongname\": must be no more than 15 characters",
            "spec.containers[0].ports[1].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            "spec.containers[0].env[0].name: Required value",
            "spec.containers[0].env[1].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            "spec.containers[0].volumeMounts[0].name: Not found: \"missing\"",
            "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/m\": must be unique",
        ]);
    }

    #[test]
    fn init_containers_without_restart_policy_may_not_probe() {
        let mut init = ok_container();
        init["name"] = json!("init");
        init["readinessProbe"] = json!({"exec": {"command": ["x"]}});
        let got = errs_for(json!({"containers": [ok_container()], "initContainers": [init]}));
        assert_eq!(got, vec!["spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"]);
    }
}
