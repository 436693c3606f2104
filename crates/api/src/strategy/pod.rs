//! Pod, pod template and pod spec checks (upstream `ValidatePodSpec` and friends).

use super::container::{validate_containers, PodContext};
use super::labels::{validate_annotations, validate_labels};
use super::names::{dns1123_label, inclusive_range_error, NameRule};
use super::net::ip;
use super::pod_scheduling::{validate_affinity, validate_dns_config, validate_spread};
use super::security::validate_pod_security_context;
use super::taints::validate_tolerations;
use super::value::{arr, has, int, s, Errs, Path};
use super::volume::validate_volumes;
use crate::FieldError;
use serde_json::{json, Value};

const DNS_POLICIES: &[&str] = &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];

/// Validates a pod spec at `path`; `is_pod` enables the checks only real pods get.
pub fn validate_pod_spec(spec: &Value, path: &Path, is_pod: bool, errs: &mut Errs) {
    if !has(spec, "terminationGracePeriodSeconds") {
        errs.push(FieldError::required(
            &path.child("terminationGracePeriodSeconds"),
            "",
        ));
    }
    let volumes = validate_volumes(arr(spec, "volumes"), &path.child("volumes"), errs);
    let ctx = PodContext {
        volumes: &volumes,
        grace: int(spec, "terminationGracePeriodSeconds"),
    };
    validate_containers(spec, path, &ctx, errs);
    if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        for (i, c) in arr(spec, "containers").iter().enumerate() {
            for (j, port) in arr(c, "ports").iter().enumerate() {
                let (hp, cp) = (
                    int(port, "hostPort").unwrap_or(0),
                    int(port, "containerPort").unwrap_or(0),
                );
                if (is_pod || hp != 0) && hp != cp {
                    let p = path
                        .child("containers")
                        .index(i)
                        .child("ports")
                        .index(j)
                        .child("hostPort");
                    errs.push(FieldError::invalid(
                        &p,
                        json!(hp),
                        "must match `containerPort` when `hostNetwork` is true",
                    ));
                }
            }
        }
    }
    match s(spec, "restartPolicy") {
        "" => errs.push(FieldError::required(&path.child("restartPolicy"), "")),
        "Always" | "OnFailure" | "Never" => {}
        r => errs.push(FieldError::not_supported(
            &path.child("restartPolicy"),
            json!(r),
            &["Always", "OnFailure", "Never"],
        )),
    }
    match s(spec, "dnsPolicy") {
        "" => errs.push(FieldError::required(&path.child("dnsPolicy"), "")),
        d if DNS_POLICIES.contains(&d) => {}
        d => errs.push(FieldError::not_supported(
            &path.child("dnsPolicy"),
            json!(d),
            DNS_POLICIES,
        )),
    }
    validate_labels(spec.get("nodeSelector"), &path.child("nodeSelector"), errs);
    validate_pod_security_context(spec, &path.child("securityContext"), errs);
    for (i, secret) in arr(spec, "imagePullSecrets").iter().enumerate() {
        if secret
            .as_object()
            .is_some_and(|m| m.keys().any(|k| k != "name"))
        {
            errs.push(FieldError::invalid(
                &path.child("imagePullSecrets").index(i),
                secret.clone(),
                "only name may be set",
            ));
        }
    }
    if let Some(aff) = spec.get("affinity").filter(|v| !v.is_null()) {
        validate_affinity(aff, &path.child("affinity"), errs);
    }
    validate_dns_config(spec, &path.child("dnsConfig"), errs);
    for (i, gate) in arr(spec, "readinessGates").iter().enumerate() {
        let p = path.child("readinessGates").index(i).child("conditionType");
        super::labels::validate_label_name(s(gate, "conditionType"), &p, errs);
    }
    let gates = arr(spec, "schedulingGates");
    for (i, gate) in gates.iter().enumerate() {
        let p = path.child("schedulingGates").index(i);
        super::labels::validate_label_name(s(gate, "name"), &p, errs);
        if gates[..i].iter().any(|g| s(g, "name") == s(gate, "name")) {
            errs.push(FieldError::duplicate(&p, json!(s(gate, "name"))));
        }
    }
    validate_spread(
        arr(spec, "topologySpreadConstraints"),
        &path.child("topologySpreadConstraints"),
        errs,
    );
    for field in ["serviceAccountName", "nodeName", "priorityClassName"] {
        let v = s(spec, field);
        if !v.is_empty() {
            for msg in NameRule::Subdomain.check(v, false) {
                errs.push(FieldError::invalid(&path.child(field), json!(v), msg));
            }
        }
    }
    if let Some(d) =
        int(spec, "activeDeadlineSeconds").filter(|d| !(1..=i64::from(i32::MAX)).contains(d))
    {
        errs.push(FieldError::invalid(
            &path.child("activeDeadlineSeconds"),
            json!(d),
            inclusive_range_error(1, i64::from(i32::MAX)),
        ));
    }
    for field in ["hostname", "subdomain"] {
        let v = s(spec, field);
        if !v.is_empty() {
            for msg in dns1123_label(v) {
                errs.push(FieldError::invalid(&path.child(field), json!(v), msg));
            }
        }
    }
    validate_tolerations(arr(spec, "tolerations"), &path.child("tolerations"), errs);
    for (i, alias) in arr(spec, "hostAliases").iter().enumerate() {
        let p = path.child("hostAliases").index(i);
        for msg in ip(s(alias, "ip")) {
            errs.push(FieldError::invalid(
                &p.child("ip"),
                json!(s(alias, "ip")),
                msg,
            ));
        }
        for (j, host) in arr(alias, "hostnames").iter().enumerate() {
            for msg in NameRule::Subdomain.check(host.as_str().unwrap_or(""), false) {
                errs.push(FieldError::invalid(
                    &p.child("hostnames").index(j),
                    host.clone(),
                    msg,
                ));
            }
        }
    }
    if let Some(rc) = spec.get("runtimeClassName").and_then(Value::as_str) {
        for msg in NameRule::Subdomain.check(rc, false) {
            errs.push(FieldError::invalid(
                &path.child("runtimeClassName"),
                json!(rc),
                msg,
            ));
        }
    }
    if let Some(pp) = spec.get("preemptionPolicy").filter(|v| !v.is_null()) {
        match pp.as_str().unwrap_or("") {
            "PreemptLowerPriority" | "Never" => {}
            "" => errs.push(FieldError::required(&path.child("preemptionPolicy"), "")),
            _ => errs.push(FieldError::not_supported(
                &path.child("preemptionPolicy"),
                pp.clone(),
                &["PreemptLowerPriority", "Never"],
            )),
        }
    }
    if let Some(os) = spec.get("os").filter(|v| !v.is_null()) {
        match s(os, "name") {
            "" => errs.push(FieldError::required(
                &path.child("os").child("name"),
                "cannot be empty",
            )),
            "linux" | "windows" => {}
            n => errs.push(FieldError::not_supported(
                &path.child("os"),
                json!(n),
                &["linux", "windows"],
            )),
        }
    }
}

/// Validates a pod template (`spec.template` of controllers) at `path`.
pub fn validate_template(template: &Value, path: &Path, errs: &mut Errs) {
    let meta = template.get("metadata").unwrap_or(&Value::Null);
    validate_labels(meta.get("labels"), &path.child("labels"), errs);
    validate_annotations(meta.get("annotations"), &path.child("annotations"), errs);
    let spec = template.get("spec").unwrap_or(&Value::Null);
    validate_pod_spec(spec, &path.child("spec"), false, errs);
    if !arr(spec, "ephemeralContainers").is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("spec").child("ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
}

/// Validates the spec of a new Pod (metadata is checked by the caller).
pub fn validate_pod(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let path = Path::new("spec");
    validate_pod_spec(spec, &path, true, errs);
    image_whitespace(spec, &path, errs);
}

/// Pod-only check: images may not carry surrounding whitespace.
pub fn image_whitespace(spec: &Value, path: &Path, errs: &mut Errs) {
    for key in ["containers", "initContainers"] {
        for (i, c) in arr(spec, key).iter().enumerate() {
            let image = s(c, "image");
            if image.trim() != image {
                errs.push(FieldError::invalid(
                    &path.child(key).index(i).child("image"),
                    json!(image),
                    "must not have leading or trailing whitespace",
                ));
            }
        }
    }
}

/// Checks only made when a pod is created.
pub fn validate_pod_create(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let path = Path::new("spec");
    if !arr(spec, "ephemeralContainers").is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("ephemeralContainers"),
            "cannot be set on create",
        ));
    }
    if !s(spec, "nodeName").is_empty() && !arr(spec, "schedulingGates").is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("nodeName"),
            "cannot be set until all schedulingGates have been cleared",
        ));
    }
}

/// Validates a PodTemplate object.
pub fn validate_pod_template_object(obj: &Value, errs: &mut Errs) {
    validate_template(
        obj.get("template").unwrap_or(&Value::Null),
        &Path::new("template"),
        errs,
    );
}

/// Validates a `pods/binding` Binding: the target must name a node.
pub fn validate_binding(obj: &Value, errs: &mut Errs) {
    let target = obj.get("target").unwrap_or(&Value::Null);
    let kind = s(target, "kind");
    if !kind.is_empty() && kind != "Node" {
        errs.push(FieldError::not_supported(
            &Path::new("target").child("kind"),
            json!(kind),
            &["Node", "<empty>"],
        ));
    }
    if s(target, "name").is_empty() {
        errs.push(FieldError::required(&Path::new("target").child("name"), ""));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good_pod() -> Value {
        json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {
            "containers": [{"name": "c", "image": "nginx", "imagePullPolicy": "Always", "terminationMessagePolicy": "File"}],
            "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30}})
    }

    fn errs_of(pod: &Value) -> Vec<String> {
        let mut errs = Errs::new();
        validate_pod(pod, &mut errs);
        validate_pod_create(pod, &mut errs);
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_defaulted_pod_is_valid() {
        assert!(errs_of(&good_pod()).is_empty());
    }

    #[test]
    fn policies_and_deadlines() {
        let mut p = good_pod();
        p["spec"]["restartPolicy"] = json!("Sometimes");
        p["spec"]["dnsPolicy"] = json!("");
        p["spec"]["activeDeadlineSeconds"] = json!(0);
        p["spec"]["containers"][0]["image"] = json!(" nginx");
        assert_eq!(errs_of(&p), vec![
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            "spec.dnsPolicy: Required value",
            "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
            "spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace",
        ]);
    }

    #[test]
    fn host_network_ports_must_match() {
        let mut p = good_pod();
        p["spec"]["hostNetwork"] = json!(true);
        p["spec"]["containers"][0]["ports"] =
            json!([{"containerPort": 80, "hostPort": 81, "protocol": "TCP"}]);
        assert_eq!(errs_of(&p), vec!["spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true"]);
    }

    #[test]
    fn templates_report_labels_and_reject_ephemeral_containers() {
        let mut t =
            json!({"metadata": {"labels": {"app": "-x"}}, "spec": good_pod()["spec"].clone()});
        t["spec"]["ephemeralContainers"] = json!([{"name": "dbg"}]);
        let mut errs = Errs::new();
        validate_template(&t, &Path::new("spec").child("template"), &mut errs);
        assert_eq!(errs.len(), 2);
        assert!(errs[0]
            .to_string()
            .starts_with("spec.template.labels: Invalid value: \"-x\""));
        assert_eq!(errs[1].to_string(), "spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template");
    }
}
