//! Container checks: names, images, ports, environment, mounts, probes and resources.

use super::env::{env, env_from};
use super::names::{dns1123_label, port_name, port_num};
use super::net::PROTOCOLS;
use super::probe::{validate_lifecycle, validate_probe, ProbeKind};
use super::quantity::validate_requirements;
use super::security::validate_security_context;
use super::value::{arr, has, int, s, Errs, Path};
use super::volume::Volumes;
use super::volume_paths::local_descending_path;
use crate::FieldError;
use serde_json::{json, Value};

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
            errs.push(FieldError::forbidden(
                &p.child("restartPolicy"),
                "may not be set for non-init containers",
            ));
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
                errs.push(FieldError::not_supported(
                    &p.child("restartPolicy"),
                    r.clone(),
                    &["Always"],
                ));
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
            for field in [
                "lifecycle",
                "livenessProbe",
                "readinessProbe",
                "startupProbe",
            ] {
                if has(c, field) {
                    errs.push(FieldError::forbidden(
                        &p.child(field),
                        "may not be set for init containers without restartPolicy=Always",
                    ));
                }
            }
        }
    }
}

fn hooks_and_probes(c: &Value, p: &Path, grace: Option<i64>, errs: &mut Errs) {
    if let Some(lc) = c.get("lifecycle").filter(|v| !v.is_null()) {
        validate_lifecycle(lc, grace, &p.child("lifecycle"), errs);
    }
    for kind in [
        ProbeKind::Liveness,
        ProbeKind::Readiness,
        ProbeKind::Startup,
    ] {
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
    one_of(
        c,
        "terminationMessagePolicy",
        &["File", "FallbackToLogsOnError"],
        p,
        errs,
    );
    ports(c, &p.child("ports"), errs);
    env(c, &p.child("env"), errs);
    env_from(c, &p.child("envFrom"), errs);
    mounts(c, &p.child("volumeMounts"), ctx, errs);
    one_of(
        c,
        "imagePullPolicy",
        &["Always", "IfNotPresent", "Never"],
        p,
        errs,
    );
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
        v => errs.push(FieldError::not_supported(
            &p.child(field),
            json!(v),
            allowed,
        )),
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
                    errs.push(FieldError::invalid(
                        &p.child("containerPort"),
                        json!(n),
                        msg,
                    ));
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

fn mounts(c: &Value, path: &Path, ctx: &PodContext<'_>, errs: &mut Errs) {
    let mut points: Vec<&str> = Vec::new();
    let privileged = c
        .pointer("/securityContext/privileged")
        .and_then(Value::as_bool)
        == Some(true);
    for (i, m) in arr(c, "volumeMounts").iter().enumerate() {
        let p = path.index(i);
        let name = s(m, "name");
        if name.is_empty() {
            errs.push(FieldError::required(&p.child("name"), ""));
        }
        if !ctx.volumes.contains_key(name) {
            errs.push(FieldError::new(
                crate::ErrorType::NotFound,
                &p.child("name"),
                Some(json!(name)),
                "",
            ));
        }
        let mount_path = s(m, "mountPath");
        if mount_path.is_empty() {
            errs.push(FieldError::required(&p.child("mountPath"), ""));
        }
        if points.contains(&mount_path) {
            errs.push(FieldError::invalid(
                &p.child("mountPath"),
                json!(mount_path),
                "must be unique",
            ));
        }
        points.push(mount_path);
        let sub = s(m, "subPath");
        if !sub.is_empty() {
            local_descending_path(sub, &path.child("subPath"), errs);
        }
        let expr = s(m, "subPathExpr");
        if !expr.is_empty() {
            if !sub.is_empty() {
                errs.push(FieldError::invalid(
                    &p.child("subPathExpr"),
                    json!(expr),
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            local_descending_path(expr, &path.child("subPathExpr"), errs);
        }
        if let Some(prop) = m.get("mountPropagation").and_then(Value::as_str) {
            let pp = path.child("mountPropagation");
            if !["Bidirectional", "HostToContainer", "None"].contains(&prop) {
                errs.push(FieldError::not_supported(
                    &pp,
                    json!(prop),
                    &["Bidirectional", "HostToContainer", "None"],
                ));
            }
            if prop == "Bidirectional" && !privileged {
                errs.push(FieldError::forbidden(
                    &pp,
                    "Bidirectional mount propagation is available only to privileged containers",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs_for(spec: Value) -> Vec<String> {
        let vols: Volumes = [("data", &Value::Null)].into_iter().collect();
        let ctx = PodContext {
            volumes: &vols,
            grace: Some(30),
        };
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
        assert_eq!(
            got,
            vec![
                "spec.containers[0].image: Required value",
                "spec.containers[1].name: Duplicate value: \"app\"",
            ]
        );
    }

    #[test]
    fn ports_env_and_mounts() {
        let mut c = ok_container();
        c["ports"] = json!([{"containerPort": 0, "protocol": "TCP"}, {"name": "averyveryverylongname", "containerPort": 80, "protocol": "HTTP"}]);
        c["env"] = json!([{"name": ""}, {"name": "A", "valueFrom": {}}]);
        c["volumeMounts"] =
            json!([{"name": "missing", "mountPath": "/m"}, {"name": "data", "mountPath": "/m"}]);
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
