use super::*;
use crate::catalogue::find;
use serde_json::json;

fn rt(group: &str, plural: &str) -> &'static ResourceType {
    find(group, "v1", plural).unwrap()
}

fn sel(s: &str) -> FieldSelector {
    FieldSelector::parse(s).unwrap()
}

fn check(group: &str, plural: &str, s: &str) -> Result<(), String> {
    check_supported(rt(group, plural), &sel(s)).map_err(|e| e.0)
}

#[test]
fn accepts_each_kinds_upstream_labels() {
    assert!(check(
        "",
        "pods",
        "spec.nodeName=a,status.phase=Running,spec.hostNetwork=true"
    )
    .is_ok());
    assert!(check(
        "",
        "pods",
        "spec.host=a,status.podIPs=1.2.3.4,status.nominatedNodeName="
    )
    .is_ok());
    assert!(check("", "nodes", "spec.unschedulable=false,metadata.name=n").is_ok());
    assert!(check("", "namespaces", "status.phase=Active").is_ok());
    assert!(check("", "secrets", "type=Opaque,metadata.namespace=x").is_ok());
    assert!(check("", "services", "spec.clusterIP=None,spec.type=NodePort").is_ok());
    assert!(check("", "replicationcontrollers", "status.replicas=1").is_ok());
    assert!(check("batch", "jobs", "status.successful=1").is_ok());
    assert!(check(
        "",
        "events",
        "involvedObject.name=x,source=kubelet,reportingComponent=y"
    )
    .is_ok());
    assert!(check(
        "events.k8s.io",
        "events",
        "regarding.kind=Pod,reportingController=x"
    )
    .is_ok());
    assert!(check(
        "apps",
        "deployments",
        "metadata.name=x,metadata.namespace=y"
    )
    .is_ok());
    assert!(check("", "persistentvolumes", "metadata.namespace=").is_ok());
}

#[test]
fn rejects_unknown_labels_with_upstream_messages() {
    assert_eq!(
        check("", "pods", "spec.foo=1"),
        Err("field label not supported: spec.foo".into())
    );
    assert_eq!(
        check("", "nodes", "metadata.namespace=x"),
        Err("field label not supported: metadata.namespace".into())
    );
    assert_eq!(
        check("batch", "jobs", "status.active=1"),
        Err("field label \"status.active\" not supported for Job".into())
    );
    assert_eq!(
        check("apps", "replicasets", "status.replicas=1"),
        Err("\"status.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"".into())
    );
    assert!(check("events.k8s.io", "events", "involvedObject.kind=Pod").is_err());
    assert!(check("events.k8s.io", "events", "source=kubelet").is_err());
    assert!(check("", "events", "regarding.kind=Pod").is_err());
}

#[test]
fn matches_pod_fields_with_defaults_and_aliases() {
    let pod = json!({
        "metadata": {"name": "web-1", "namespace": "default"},
        "spec": {"nodeName": "n1", "restartPolicy": "Always"},
        "status": {"phase": "Running", "podIP": "10.42.0.5", "podIPs": [{"ip": "10.42.0.5"}]}
    });
    let pods = rt("", "pods");
    let m = |s: &str| matches(pods, &sel(s), &pod);
    assert!(m("spec.nodeName=n1,metadata.namespace=default"));
    assert!(m("spec.host=n1"));
    assert!(m("spec.hostNetwork=false,spec.schedulerName="));
    assert!(m("status.podIP=10.42.0.5,status.phase!=Failed"));
    assert!(!m("status.podIPs=10.42.0.5"));
    assert!(!m("spec.nodeName=n2"));
    assert!(m(""));
}

#[test]
fn matches_counts_and_booleans_as_strings() {
    let job = json!({"metadata": {"name": "j"}, "status": {"succeeded": 2}});
    assert!(matches(
        rt("batch", "jobs"),
        &sel("status.successful=2"),
        &job
    ));
    let fresh = json!({"metadata": {"name": "j"}});
    assert!(matches(
        rt("batch", "jobs"),
        &sel("status.successful=0"),
        &fresh
    ));
    let node = json!({"metadata": {"name": "n"}, "spec": {"unschedulable": true}});
    assert!(matches(
        rt("", "nodes"),
        &sel("spec.unschedulable=true"),
        &node
    ));
    let rc = json!({"metadata": {"name": "r"}, "status": {"replicas": 3}});
    assert!(matches(
        rt("", "replicationcontrollers"),
        &sel("status.replicas!=0"),
        &rc
    ));
}

#[test]
fn matches_events_in_both_api_shapes() {
    let core = json!({
        "metadata": {"name": "e1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web"},
        "reason": "Started", "type": "Normal", "reportingComponent": "kubelet",
        "source": {"component": ""}
    });
    let events = rt("", "events");
    assert!(matches(
        events,
        &sel("involvedObject.kind=Pod,involvedObject.name=web"),
        &core
    ));
    assert!(matches(
        events,
        &sel("source=kubelet,reason=Started,type=Normal"),
        &core
    ));

    let modern = json!({
        "metadata": {"name": "e2", "namespace": "default"},
        "regarding": {"kind": "Node", "name": "n1"},
        "reason": "Ready", "reportingController": "skiff-kubelet"
    });
    let ev = rt("events.k8s.io", "events");
    assert!(matches(
        ev,
        &sel("regarding.kind=Node,reportingController=skiff-kubelet"),
        &modern
    ));
    assert!(!matches(ev, &sel("regarding.name=n2"), &modern));
}

#[test]
fn matches_metadata_on_any_kind() {
    let cm = json!({"metadata": {"name": "cfg", "namespace": "kube-system"}});
    let cms = rt("", "configmaps");
    assert!(matches(
        cms,
        &sel("metadata.name=cfg,metadata.namespace=kube-system"),
        &cm
    ));
    assert!(!matches(cms, &sel("metadata.name!=cfg"), &cm));
    assert!(matches(
        cms,
        &sel("metadata.name=cfg"),
        &json!({"metadata": {"name": "cfg"}, "x": 1})
    ));
    assert!(!matches(
        cms,
        &sel("metadata.name=cfg"),
        &json!("not an object")
    ));
}
