//! Pod and container security context checks.

use super::names::inclusive_range_error;
use super::value::{arr, boolean, int, s, Errs, Path};
use super::volume_paths::local_descending_path;
use crate::FieldError;
use regex::Regex;
use serde_json::{json, Value};
use std::sync::LazyLock;

const MAX_ID: i64 = 4_294_967_295;
const SYSCTL_FMT: &str = r"([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?";
static SYSCTL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^{SYSCTL_FMT}$")).expect("static regex"));

fn id_range(sc: &Value, field: &str, path: &Path, errs: &mut Errs) {
    if let Some(id) = int(sc, field).filter(|id| !(0..=MAX_ID).contains(id)) {
        errs.push(FieldError::invalid(
            &path.child(field),
            json!(id),
            inclusive_range_error(0, MAX_ID),
        ));
    }
}

fn enum_field(sc: &Value, field: &str, allowed: &[&str], path: &Path, errs: &mut Errs) {
    if let Some(v) = sc.get(field).filter(|v| !v.is_null()) {
        if !allowed.contains(&v.as_str().unwrap_or("")) {
            errs.push(FieldError::not_supported(
                &path.child(field),
                v.clone(),
                allowed,
            ));
        }
    }
}

fn seccomp(sc: &Value, path: &Path, errs: &mut Errs) {
    let Some(sp) = sc.get("seccompProfile").filter(|v| !v.is_null()) else {
        return;
    };
    let p = path.child("seccompProfile");
    match s(sp, "type") {
        "" => errs.push(FieldError::required(
            &p.child("type"),
            "type is required when seccompProfile is set",
        )),
        "Localhost" | "RuntimeDefault" | "Unconfined" => {}
        t => errs.push(FieldError::not_supported(
            &p.child("type"),
            json!(t),
            &["Localhost", "RuntimeDefault", "Unconfined"],
        )),
    }
    match (
        s(sp, "type"),
        sp.get("localhostProfile").and_then(Value::as_str),
    ) {
        ("Localhost", None) => errs.push(FieldError::required(
            &p.child("localhostProfile"),
            "must be set when seccomp type is Localhost",
        )),
        ("Localhost", Some(lp)) => local_descending_path(lp, &p.child("localhostProfile"), errs),
        (_, Some(_)) => errs.push(FieldError::invalid(
            &p.child("localhostProfile"),
            sp.clone(),
            "can only be set when seccomp type is Localhost",
        )),
        _ => {}
    }
}

/// Validates `spec.securityContext` of a pod spec (host namespaces come from the spec itself).
pub fn validate_pod_security_context(spec: &Value, path: &Path, errs: &mut Errs) {
    let Some(sc) = spec.get("securityContext").filter(|v| v.is_object()) else {
        return;
    };
    for field in ["fsGroup", "runAsUser", "runAsGroup"] {
        id_range(sc, field, path, errs);
    }
    for (i, g) in arr(sc, "supplementalGroups").iter().enumerate() {
        if let Some(g) = g.as_i64().filter(|g| !(0..=MAX_ID).contains(g)) {
            errs.push(FieldError::invalid(
                &path.child("supplementalGroups").index(i),
                json!(g),
                inclusive_range_error(0, MAX_ID),
            ));
        }
    }
    if boolean(spec, "shareProcessNamespace") == Some(true)
        && boolean(spec, "hostPID") == Some(true)
    {
        errs.push(FieldError::invalid(
            &path.child("shareProcessNamespace"),
            json!(true),
            "ShareProcessNamespace and HostPID cannot both be enabled",
        ));
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, sysctl) in arr(sc, "sysctls").iter().enumerate() {
        let p = path.child("sysctls").index(i).child("name");
        let name = s(sysctl, "name");
        if name.is_empty() {
            errs.push(FieldError::required(&p, ""));
        } else if name.len() > 253 || !SYSCTL.is_match(name) {
            errs.push(FieldError::invalid(
                &p,
                json!(name),
                format!("must have at most 253 characters and match regex ^{SYSCTL_FMT}$"),
            ));
        } else if names.contains(&name) {
            errs.push(FieldError::duplicate(&p, json!(name)));
        }
        names.push(name);
    }
    enum_field(
        sc,
        "fsGroupChangePolicy",
        &["Always", "OnRootMismatch"],
        path,
        errs,
    );
    enum_field(
        sc,
        "supplementalGroupsPolicy",
        &["Merge", "Strict"],
        path,
        errs,
    );
    enum_field(
        sc,
        "seLinuxChangePolicy",
        &["MountOption", "Recursive"],
        path,
        errs,
    );
    seccomp(sc, path, errs);
}

/// Validates a container's `securityContext`.
pub fn validate_security_context(sc: &Value, path: &Path, errs: &mut Errs) {
    id_range(sc, "runAsUser", path, errs);
    id_range(sc, "runAsGroup", path, errs);
    enum_field(sc, "procMount", &["Default", "Unmasked"], path, errs);
    seccomp(sc, path, errs);
    if boolean(sc, "allowPrivilegeEscalation") == Some(false) {
        if boolean(sc, "privileged") == Some(true) {
            errs.push(FieldError::invalid(
                path,
                sc.clone(),
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            ));
        }
        let caps = sc.get("capabilities").unwrap_or(&Value::Null);
        if arr(caps, "add")
            .iter()
            .any(|c| c.as_str() == Some("CAP_SYS_ADMIN"))
        {
            errs.push(FieldError::invalid(path, sc.clone(), "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_security_context() {
        let spec = json!({"hostPID": true, "shareProcessNamespace": true,
            "securityContext": {"runAsUser": -1, "sysctls": [{"name": "net.ipv4.ip_forward"}, {"name": "Bad!"}],
                                "seccompProfile": {"type": "Localhost"}}});
        let mut errs = Errs::new();
        validate_pod_security_context(
            &spec,
            &Path::new("spec").child("securityContext"),
            &mut errs,
        );
        let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(got[0], "spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 4294967295, inclusive");
        assert_eq!(got[1], "spec.securityContext.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled");
        assert!(got[2].starts_with("spec.securityContext.sysctls[1].name: Invalid value: \"Bad!\": must have at most 253 characters"));
        assert_eq!(got[3], "spec.securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost");
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn container_security_context() {
        let mut errs = Errs::new();
        let sc =
            json!({"allowPrivilegeEscalation": false, "privileged": true, "procMount": "Weird"});
        validate_security_context(&sc, &Path::new("c"), &mut errs);
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].to_string(), "c.procMount: Unsupported value: \"Weird\": supported values: \"Default\", \"Unmasked\"");
        assert!(errs[1].detail.contains("`privileged` to true"));
    }
}
