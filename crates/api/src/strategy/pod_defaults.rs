//! Defaults for pods, pod templates, containers, probes and volumes (upstream `SetDefaults_*`).

use super::value::{boolean, each_mut, ensure_obj, int, obj_mut, s, set_default, set_default_str};
use serde_json::{json, Value};

/// Defaults a Pod object: everything of a pod spec plus the pod-only defaults.
pub fn pod(obj: &mut Value) {
    let Some(spec) = obj_mut(obj, "spec") else {
        return;
    };
    for key in ["containers", "initContainers"] {
        each_mut(spec, key, |c| {
            let Some(res) = obj_mut(c, "resources") else {
                return;
            };
            if let Some(limits) = res.get("limits").and_then(Value::as_object).cloned() {
                if let Some(req) = ensure_obj(res, "requests") {
                    for (k, v) in limits {
                        set_default(req, &k, v);
                    }
                }
            }
        });
    }
    each_mut(spec, "containers", default_resize_policy);
    set_default(spec, "enableServiceLinks", json!(true));
    if boolean(spec, "hostNetwork") == Some(true) {
        for key in ["containers", "initContainers"] {
            each_mut(spec, key, |c| {
                each_mut(c, "ports", |p| {
                    if int(p, "hostPort").unwrap_or(0) == 0 {
                        if let Some(cp) = p.get("containerPort").cloned() {
                            if let Some(m) = p.as_object_mut() {
                                m.insert("hostPort".into(), cp);
                            }
                        }
                    }
                })
            });
        }
    }
    if s(spec, "priorityClassName").is_empty() {
        set_default(spec, "priority", json!(0));
    }
    set_default_str(spec, "preemptionPolicy", "PreemptLowerPriority");
    pod_spec(spec);
}

/// In-place resize: containers with cpu or memory requests get a `NotRequired` resize policy.
fn default_resize_policy(c: &mut Value) {
    let wanted: Vec<&str> = ["cpu", "memory"]
        .into_iter()
        .filter(|r| c.pointer(&format!("/resources/requests/{r}")).is_some())
        .collect();
    if wanted.is_empty() {
        return;
    }
    set_default(c, "resizePolicy", json!([]));
    if let Some(list) = c.get_mut("resizePolicy").and_then(Value::as_array_mut) {
        for r in wanted {
            if !list.iter().any(|p| s(p, "resourceName") == r) {
                list.push(json!({"resourceName": r, "restartPolicy": "NotRequired"}));
            }
        }
    }
}

/// Defaults a pod template: its spec gets the pod-spec defaults.
pub fn pod_template(template: &mut Value) {
    if let Some(spec) = obj_mut(template, "spec") {
        pod_spec(spec);
    }
}

/// Defaults a pod spec (`SetDefaults_PodSpec` and everything nested in it).
pub fn pod_spec(spec: &mut Value) {
    set_default_str(spec, "dnsPolicy", "ClusterFirst");
    set_default_str(spec, "restartPolicy", "Always");
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default_str(spec, "schedulerName", "default-scheduler");
    for key in ["containers", "initContainers", "ephemeralContainers"] {
        each_mut(spec, key, container);
    }
    each_mut(spec, "volumes", volume);
}

/// Defaults one container.
pub fn container(c: &mut Value) {
    if s(c, "imagePullPolicy").is_empty() {
        let policy = if image_tag(s(c, "image")) == "latest" {
            "Always"
        } else {
            "IfNotPresent"
        };
        set_default_str(c, "imagePullPolicy", policy);
    }
    set_default_str(c, "terminationMessagePath", "/dev/termination-log");
    set_default_str(c, "terminationMessagePolicy", "File");
    each_mut(c, "ports", |p| set_default_str(p, "protocol", "TCP"));
    each_mut(c, "env", |e| {
        if let Some(f) = e.pointer_mut("/valueFrom/fieldRef") {
            set_default_str(f, "apiVersion", "v1");
        }
    });
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = obj_mut(c, probe) {
            set_default(p, "timeoutSeconds", json!(1));
            set_default(p, "periodSeconds", json!(10));
            set_default(p, "successThreshold", json!(1));
            set_default(p, "failureThreshold", json!(3));
            http_get(p);
        }
    }
    for hook in ["postStart", "preStop"] {
        if let Some(h) = c.get_mut("lifecycle").and_then(|l| obj_mut(l, hook)) {
            http_get(h);
        }
    }
}

fn http_get(handler: &mut Value) {
    if let Some(h) = obj_mut(handler, "httpGet") {
        set_default_str(h, "path", "/");
        set_default_str(h, "scheme", "HTTP");
    }
}

/// The tag an image reference pulls: explicit tag, "" for digest-only, else `latest`.
pub fn image_tag(image: &str) -> &str {
    if image.is_empty() {
        return "";
    }
    let (name, digest) = match image.split_once('@') {
        Some((n, _)) => (n, true),
        None => (image, false),
    };
    let slash = name.rfind('/');
    match name.rfind(':') {
        Some(i) if slash.is_none_or(|sl| i > sl) => &name[i + 1..],
        _ if digest => "",
        _ => "latest",
    }
}

/// Defaults one volume: `emptyDir` when no source is given, modes and types of sources.
pub fn volume(v: &mut Value) {
    let has_source = v
        .as_object()
        .is_some_and(|m| m.iter().any(|(k, x)| k != "name" && !x.is_null()));
    if !has_source {
        set_default(v, "emptyDir", json!({}));
    }
    for key in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(src) = obj_mut(v, key) {
            set_default(src, "defaultMode", json!(420));
        }
    }
    if let Some(items) = v.pointer_mut("/downwardAPI") {
        each_mut(items, "items", field_ref_version);
    }
    if let Some(p) = obj_mut(v, "projected") {
        each_mut(p, "sources", |src| {
            if let Some(t) = obj_mut(src, "serviceAccountToken") {
                set_default(t, "expirationSeconds", json!(3600));
            }
            if let Some(d) = obj_mut(src, "downwardAPI") {
                each_mut(d, "items", field_ref_version);
            }
        });
    }
    if let Some(h) = obj_mut(v, "hostPath") {
        set_default(h, "type", json!(""));
    }
    if let Some(i) = obj_mut(v, "iscsi") {
        set_default_str(i, "iscsiInterface", "default");
    }
    if let Some(spec) = v.pointer_mut("/ephemeral/volumeClaimTemplate/spec") {
        set_default_str(spec, "volumeMode", "Filesystem");
    }
}

fn field_ref_version(item: &mut Value) {
    if let Some(f) = obj_mut(item, "fieldRef") {
        set_default_str(f, "apiVersion", "v1");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_spec_defaults_are_filled() {
        let mut p = json!({"spec": {"containers": [{"name": "a", "image": "nginx",
            "ports": [{"containerPort": 80}],
            "livenessProbe": {"httpGet": {"port": 80}},
            "resources": {"limits": {"cpu": "1"}}}],
            "volumes": [{"name": "v"}, {"name": "s", "secret": {"secretName": "x"}}]}});
        pod(&mut p);
        let spec = &p["spec"];
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(spec["dnsPolicy"], "ClusterFirst");
        assert_eq!(spec["schedulerName"], "default-scheduler");
        assert_eq!(spec["terminationGracePeriodSeconds"], 30);
        assert_eq!(spec["securityContext"], json!({}));
        assert_eq!(spec["enableServiceLinks"], true);
        assert_eq!(spec["priority"], 0);
        assert_eq!(spec["preemptionPolicy"], "PreemptLowerPriority");
        let c = &spec["containers"][0];
        assert_eq!(c["imagePullPolicy"], "Always");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["terminationMessagePolicy"], "File");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(c["resources"]["requests"]["cpu"], "1");
        assert_eq!(
            c["resizePolicy"],
            json!([{"resourceName": "cpu", "restartPolicy": "NotRequired"}])
        );
        assert_eq!(
            c["livenessProbe"],
            json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
        );
        assert_eq!(spec["volumes"][0]["emptyDir"], json!({}));
        assert_eq!(spec["volumes"][1]["secret"]["defaultMode"], 420);
    }

    #[test]
    fn templates_do_not_get_pod_only_defaults() {
        let mut t = json!({"spec": {"containers": [{"name": "a", "image": "nginx:1.25", "resources": {"limits": {"cpu": "1"}}}]}});
        pod_template(&mut t);
        assert_eq!(
            t["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        assert!(t["spec"]["containers"][0]["resources"]
            .get("requests")
            .is_none());
        assert!(t["spec"].get("enableServiceLinks").is_none());
    }

    #[test]
    fn image_tags() {
        assert_eq!(image_tag("nginx"), "latest");
        assert_eq!(image_tag("nginx:latest"), "latest");
        assert_eq!(image_tag("localhost:5000/app"), "latest");
        assert_eq!(image_tag("localhost:5000/app:v1"), "v1");
        assert_eq!(image_tag("app@sha256:abc"), "");
        assert_eq!(image_tag(""), "");
    }

    #[test]
    fn host_network_copies_container_ports() {
        let mut p = json!({"spec": {"hostNetwork": true, "containers": [{"name": "a", "ports": [{"containerPort": 53}]}]}});
        pod(&mut p);
        assert_eq!(p["spec"]["containers"][0]["ports"][0]["hostPort"], 53);
    }
}
