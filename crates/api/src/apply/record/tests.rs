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
