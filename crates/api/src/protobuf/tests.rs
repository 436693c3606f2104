//! Hand-encoded bodies of the kinds kubectl sends, decoded to the exact JSON.

mod encoder;
mod errors;
mod kubectl;
mod special;

use super::{decode, is_protobuf};
use encoder::{envelope, int_val, meta, quantity, str_val, Msg};
use serde_json::json;

#[test]
fn namespace_with_labels() {
    let ns = Msg::new()
        .msg(1, meta("foo", "").entry(11, "team", "a"))
        .msg(2, Msg::new())
        .msg(3, Msg::new().string(1, ""));
    let expected = json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "foo", "labels": {"team": "a"}}, "spec": {}, "status": {},
    });
    assert_eq!(decode(&envelope("v1", "Namespace", ns)).unwrap(), expected);
}

#[test]
fn configmap_data_and_binary_data() {
    let binary = Msg::new().string(1, "bin").bytes(2, &[0, 1, 0xff]);
    let cm = Msg::new()
        .msg(1, meta("cm", "ns"))
        .entry(2, "a", "1")
        .entry(2, "empty", "")
        .msg(3, binary);
    let expected = json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ns"},
        "data": {"a": "1", "empty": ""}, "binaryData": {"bin": "AAH/"},
    });
    assert_eq!(decode(&envelope("v1", "ConfigMap", cm)).unwrap(), expected);
}

#[test]
fn secret_data_is_base64() {
    let data = Msg::new().string(1, "user").bytes(2, b"admin");
    let secret = Msg::new()
        .msg(1, meta("s", "ns"))
        .msg(2, data)
        .string(3, "Opaque");
    let expected = json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"},
        "data": {"user": "YWRtaW4="}, "type": "Opaque",
    });
    assert_eq!(decode(&envelope("v1", "Secret", secret)).unwrap(), expected);
}

#[test]
fn deployment_keeps_pointer_zeros_and_drops_omitempty_zeros() {
    let port = Msg::new()
        .string(1, "")
        .int(2, 0)
        .int(3, 80)
        .string(4, "TCP")
        .string(5, "");
    let resources =
        Msg::new()
            .entry_msg(1, "cpu", quantity("500m"))
            .entry_msg(2, "memory", quantity("64Mi"));
    let container = Msg::new()
        .string(1, "web")
        .string(2, "nginx")
        .msg(6, port)
        .msg(7, Msg::new().string(1, "A").string(2, ""))
        .msg(7, Msg::new().string(1, "B").string(2, "b"))
        .msg(8, resources)
        .string(13, "")
        .int(16, 0);
    let pod_spec = Msg::new()
        .msg(2, container)
        .string(3, "Always")
        .string(6, "")
        .int(11, 0)
        .string(19, "");
    let template = Msg::new()
        .msg(1, meta("", "").entry(11, "app", "web"))
        .msg(2, pod_spec);
    let rolling = Msg::new().msg(1, int_val(0)).msg(2, str_val("25%"));
    let spec = Msg::new()
        .int(1, 0)
        .msg(2, Msg::new().entry(1, "app", "web"))
        .msg(3, template)
        .msg(4, Msg::new().string(1, "RollingUpdate").msg(2, rolling))
        .int(5, 0)
        .int(6, 10)
        .int(7, 0)
        .int(9, 600);
    let deployment = Msg::new()
        .msg(1, meta("web", "ns"))
        .msg(2, spec)
        .msg(3, Msg::new());
    let expected = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{
                        "name": "web", "image": "nginx",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        "env": [{"name": "A"}, {"name": "B", "value": "b"}],
                        "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}},
                    }],
                    "restartPolicy": "Always",
                },
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": {},
    });
    assert_eq!(
        decode(&envelope("apps/v1", "Deployment", deployment)).unwrap(),
        expected
    );
}

#[test]
fn service_target_port_int_and_zero_node_port_omitted() {
    let port = Msg::new()
        .string(1, "")
        .string(2, "TCP")
        .int(3, 80)
        .msg(4, int_val(8080))
        .int(5, 0);
    let spec = Msg::new()
        .msg(1, port)
        .entry(2, "app", "web")
        .string(3, "")
        .string(4, "ClusterIP")
        .string(7, "")
        .int(12, 0)
        .int(13, 0);
    let svc = Msg::new()
        .msg(1, meta("web", "ns"))
        .msg(2, spec)
        .msg(3, Msg::new().msg(1, Msg::new()));
    let expected = json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "ns"},
        "spec": {
            "ports": [{"protocol": "TCP", "port": 80, "targetPort": 8080}],
            "selector": {"app": "web"},
            "type": "ClusterIP",
        },
        "status": {"loadBalancer": {}},
    });
    assert_eq!(decode(&envelope("v1", "Service", svc)).unwrap(), expected);
}

#[test]
fn eviction_keeps_grace_period_zero() {
    let eviction = Msg::new()
        .msg(1, meta("p1", "ns"))
        .msg(2, Msg::new().int(1, 0));
    let expected = json!({
        "apiVersion": "policy/v1", "kind": "Eviction",
        "metadata": {"name": "p1", "namespace": "ns"}, "deleteOptions": {"gracePeriodSeconds": 0},
    });
    assert_eq!(
        decode(&envelope("policy/v1", "Eviction", eviction)).unwrap(),
        expected
    );
}

#[test]
fn delete_options_in_any_group_version() {
    let options = Msg::new().string(4, "Foreground").string(5, "All");
    for api_version in ["meta.k8s.io/v1", "v1", "apps/v1"] {
        let expected = json!({
            "apiVersion": api_version, "kind": "DeleteOptions",
            "propagationPolicy": "Foreground", "dryRun": ["All"],
        });
        assert_eq!(
            decode(&envelope(api_version, "DeleteOptions", options.clone())).unwrap(),
            expected
        );
    }
}

#[test]
fn inline_structs_flatten_and_empty_pointer_structs_stay() {
    let empty_dir = Msg::new().msg(2, Msg::new().string(1, ""));
    let config_map = Msg::new().msg(
        19,
        Msg::new().msg(1, Msg::new().string(1, "app")).int(3, 420),
    );
    let http_get = Msg::new()
        .string(1, "/")
        .msg(2, int_val(8080))
        .string(3, "")
        .string(4, "HTTP");
    let probe = Msg::new()
        .msg(1, Msg::new().msg(2, http_get))
        .int(2, 0)
        .int(3, 1)
        .int(4, 10);
    let container = Msg::new().string(1, "c").msg(10, probe);
    let spec = Msg::new()
        .msg(1, Msg::new().string(1, "cache").msg(2, empty_dir))
        .msg(1, Msg::new().string(1, "cfg").msg(2, config_map))
        .msg(2, container);
    let pod = Msg::new().msg(1, meta("p", "ns")).msg(2, spec);
    let expected = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"},
        "spec": {
            "volumes": [{"name": "cache", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "app", "defaultMode": 420}}],
            "containers": [{"name": "c", "livenessProbe": {
                "httpGet": {"path": "/", "port": 8080, "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10,
            }}],
        },
    });
    assert_eq!(decode(&envelope("v1", "Pod", pod)).unwrap(), expected);
}

#[test]
fn protobuf_content_types() {
    assert!(is_protobuf("application/vnd.kubernetes.protobuf"));
    assert!(is_protobuf(
        "application/vnd.kubernetes.protobuf; charset=utf-8"
    ));
    assert!(!is_protobuf("application/json"));
    assert!(!is_protobuf("application/vnd.kubernetes.protobuf+json"));
    assert_eq!(super::table::lower_camel("pod_i_ps"), "podIPs");
}
