use super::*;
use crate::apply::test_support::*;
use serde_json::json;

#[test]
fn record_update_moves_ownership_and_forgets_removed_fields() {
    let rt = configmaps();
    let mut created = cm(json!({"a": "1", "b": "2"}));
    record_update(rt, None, &mut created, "kubectl-create", T0);
    let e = entry(&created, "kubectl-create", "Update").unwrap();
    assert_eq!(
        e["fieldsV1"],
        json!({"f:data": {".": {}, "f:a": {}, "f:b": {}}})
    );

    let mut edited = created.clone();
    edited["data"] = json!({"a": "changed"});
    record_update(rt, Some(&created), &mut edited, "kubectl-edit", T1);
    let creator = entry(&edited, "kubectl-create", "Update").unwrap();
    assert_eq!(creator["fieldsV1"], json!({"f:data": {}}));
    assert_eq!(creator["time"], T0);
    let editor = entry(&edited, "kubectl-edit", "Update").unwrap();
    assert_eq!(editor["fieldsV1"], json!({"f:data": {"f:a": {}}}));

    // A write that changes nothing leaves ownership and times alone.
    let mut same = edited.clone();
    record_update(rt, Some(&edited), &mut same, "other", T1);
    assert_eq!(same, edited);
}

#[test]
fn record_update_honours_client_managed_fields_and_resets() {
    let rt = configmaps();
    let mut created = cm(json!({"a": "1"}));
    record_update(rt, None, &mut created, "creator", T0);

    let mut sent = created.clone();
    sent["metadata"]["managedFields"] = json!([{"manager": "someone", "operation": "Apply",
        "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:a": {}}}}]);
    record_update(rt, Some(&created), &mut sent, "writer", T1);
    let list = sent["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["manager"], "someone");

    let mut reset = created.clone();
    reset["metadata"]["managedFields"] = json!([{}]);
    record_update(rt, Some(&created), &mut reset, "writer", T1);
    assert!(reset["metadata"].get("managedFields").is_none());

    let mut emptied = created.clone();
    emptied["metadata"]["managedFields"] = json!([]);
    record_update(rt, Some(&created), &mut emptied, "writer", T1);
    assert_eq!(
        emptied["metadata"]["managedFields"],
        created["metadata"]["managedFields"]
    );
}

#[test]
fn create_marks_new_maps_but_not_struct_skeletons() {
    let rt = deployments();
    let mut obj = deploy(1, json!([{"name": "n", "image": "i"}]));
    record_update(rt, None, &mut obj, "kubectl-create", T0);
    let f = &entry(&obj, "kubectl-create", "Update").unwrap()["fieldsV1"];
    assert_eq!(f["f:metadata"], json!({"f:labels": {".": {}, "f:app": {}}}));
    assert!(f["f:spec"].get(".").is_none());
    assert_eq!(
        f["f:spec"]["f:selector"],
        json!({}),
        "LabelSelector is atomic"
    );
    assert!(
        f["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"n\"}"]["."].is_object()
    );
}

#[test]
fn status_writes_are_owned_per_subresource() {
    let rt = deployments();
    let mut obj = deploy(1, json!([{"name": "n", "image": "i"}]));
    record_update(rt, None, &mut obj, "create", T0);
    let mut reported = obj.clone();
    reported["status"] = json!({"replicas": 1});
    reported["spec"]["replicas"] = json!(9);
    record_subresource_update(rt, "status", Some(&obj), &mut reported, "controller", T1);
    let list = reported["metadata"]["managedFields"].as_array().unwrap();
    let status = list.iter().find(|e| e["manager"] == "controller").unwrap();
    assert_eq!(status["subresource"], "status");
    assert_eq!(status["fieldsV1"], json!({"f:status": {"f:replicas": {}}}));
    let creator = entry(&reported, "create", "Update").unwrap();
    assert!(creator["fieldsV1"]["f:spec"].get("f:replicas").is_some());

    // The main resource never records status.
    let mut main = reported.clone();
    main["status"] = json!({"replicas": 3});
    record_update(rt, Some(&reported), &mut main, "other", T1);
    assert!(entry(&main, "other", "Update").is_none());
}

/// The comparison the field manager made before `compare_for_update`: copies of the
/// tracked top-level fields, filled with empty nested structs, compared as plain values.
fn reference_comparison(
    rt: &ResourceType,
    sub: &str,
    old: Option<&Value>,
    new: &Value,
) -> crate::apply::merge::Comparison {
    use crate::apply::merge::compare;
    use crate::apply::scope::with_skeleton;
    let ty = Type::of(rt);
    let split_status = rt.has_subresource(crate::Subresource::Status);
    let keep = |k: &str| match sub {
        "status" => k == "status",
        "" if split_status => k != "status",
        _ => true,
    };
    let slim = |v: &Value| -> Value {
        let Value::Object(m) = v else {
            return v.clone();
        };
        let mut out: serde_json::Map<String, Value> = m
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
        Value::Object(out)
    };
    let old_value = old.map_or_else(|| json!({}), slim);
    let new_value = slim(new);
    let before = with_skeleton(&ty, &old_value, &new_value);
    let after = with_skeleton(&ty, &new_value, &old_value);
    compare(&ty, Some(&before), Some(&after))
}

#[test]
fn compare_for_update_matches_the_copying_comparison() {
    let pods = crate::catalogue::pods();
    let mut pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "x"}, "managedFields": [{"manager": "m"}]},
        "spec": {"containers": [{"name": "c", "image": "busybox",
            "resources": {"requests": {"cpu": "10m"}}, "securityContext": {}}]}});
    crate::strategy::default(pods, &mut pod);
    let mut running = pod.clone();
    running["spec"]["nodeName"] = json!("n1");
    running["status"] = json!({"phase": "Running", "podIP": "10.0.0.1",
        "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": null}],
        "containerStatuses": [{"name": "c", "ready": true, "state": {"running": {"startedAt": T0}}}]});
    let mut emptied = running.clone();
    emptied["spec"]["securityContext"] = json!(null);
    emptied["spec"]["affinity"] = json!({});
    emptied["status"] = json!({});
    let mut retyped = running.clone();
    retyped["spec"]["dnsConfig"] = json!("not-a-struct");
    retyped["metadata"] = json!({"name": "p", "annotations": {"a": "b"}});
    let mut bare =
        json!({"apiVersion": "v1", "kind": "Pod", "spec": {"affinity": {"nodeAffinity": {}}}});
    bare["status"] = json!(null);
    let objects = [pod, running, emptied, retyped, bare, json!({})];
    let deps = deployments();
    let d1 = deploy(1, json!([{"name": "a", "image": "x"}]));
    let mut d2 = deploy(
        3,
        json!([{"name": "a", "image": "y"}, {"name": "b", "image": "z"}]),
    );
    d2["spec"]["strategy"] = json!({"rollingUpdate": {}});
    d2["status"] = json!({"replicas": 3});
    let cms = configmaps();
    let c1 = cm(json!({"a": "1"}));
    let c2 = cm(json!(null));
    let mut cases: Vec<(&ResourceType, Option<&Value>, &Value)> = Vec::new();
    for a in &objects {
        cases.push((pods, None, a));
        for b in &objects {
            cases.push((pods, Some(a), b));
        }
    }
    for (a, b) in [(&d1, &d2), (&d2, &d1), (&d1, &d1)] {
        cases.push((deps, Some(a), b));
        cases.push((deps, None, b));
    }
    cases.push((cms, Some(&c1), &c2));
    cases.push((cms, Some(&c2), &c1));
    for (rt, old, new) in cases {
        for sub in ["", "status"] {
            let mut stripped_new = new.clone();
            managed::take(&mut stripped_new);
            let want = reference_comparison(rt, sub, old, &stripped_new);
            let ty = Type::of(rt);
            let split = rt.has_subresource(crate::Subresource::Status);
            let keep = |k: &str| match sub {
                "status" => k == "status",
                "" if split => k != "status",
                _ => true,
            };
            let got = compare_for_update(&ty, old, &stripped_new, &keep);
            let ctx = format!("{} {sub:?}: {old:?} -> {new}", rt.kind);
            assert_eq!(got.added, want.added, "added, {ctx}");
            assert_eq!(got.removed, want.removed, "removed, {ctx}");
            assert_eq!(got.modified, want.modified, "modified, {ctx}");
        }
    }
}
