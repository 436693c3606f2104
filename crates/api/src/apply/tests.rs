use super::test_support::*;
use super::*;
use serde_json::json;

#[test]
fn reapplying_without_a_field_removes_it() {
    let rt = configmaps();
    let first = apply(
        rt,
        None,
        &cm(json!({"a": "1", "b": "2"})),
        "kubectl",
        false,
        T0,
    )
    .unwrap();
    assert_eq!(first["data"], json!({"a": "1", "b": "2"}));
    let e = entry(&first, "kubectl", "Apply").unwrap();
    assert_eq!(e["fieldsV1"], json!({"f:data": {"f:a": {}, "f:b": {}}}));
    assert_eq!(e["apiVersion"], "v1");
    assert_eq!(e["fieldsType"], "FieldsV1");
    assert_eq!(e["time"], T0);

    let second = apply(
        rt,
        Some(&first),
        &cm(json!({"a": "1"})),
        "kubectl",
        false,
        T1,
    )
    .unwrap();
    assert_eq!(second["data"], json!({"a": "1"}));
    let e = entry(&second, "kubectl", "Apply").unwrap();
    assert_eq!(e["fieldsV1"], json!({"f:data": {"f:a": {}}}));
    assert_eq!(e["time"], T1);

    let third = apply(rt, Some(&second), &cm(json!({})), "kubectl", false, T1).unwrap();
    assert!(third.get("data").is_none(), "{third}");
}

#[test]
fn two_appliers_own_different_keys_of_one_configmap() {
    let rt = configmaps();
    let a = apply(rt, None, &cm(json!({"a": "1"})), "alice", false, T0).unwrap();
    let b = apply(rt, Some(&a), &cm(json!({"b": "2"})), "bob", false, T1).unwrap();
    assert_eq!(b["data"], json!({"a": "1", "b": "2"}));
    assert_eq!(
        entry(&b, "alice", "Apply").unwrap()["fieldsV1"],
        json!({"f:data": {"f:a": {}}})
    );
    assert_eq!(
        entry(&b, "bob", "Apply").unwrap()["fieldsV1"],
        json!({"f:data": {"f:b": {}}})
    );

    // Both now claim `a` with the same value: shared ownership, no conflict.
    let c = apply(
        rt,
        Some(&b),
        &cm(json!({"a": "1", "b": "2"})),
        "bob",
        false,
        T1,
    )
    .unwrap();
    // Alice drops `a`; Bob still owns it, so it stays.
    let bare = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    let d = apply(rt, Some(&c), &bare, "alice", false, T1).unwrap();
    assert_eq!(d["data"], json!({"a": "1", "b": "2"}));
    assert!(
        entry(&d, "alice", "Apply").is_none(),
        "empty entries are dropped"
    );

    let err = apply(rt, Some(&d), &cm(json!({"a": "9"})), "alice", false, T1).unwrap_err();
    let ApplyError::Conflicts(conflicts) = err else {
        panic!("{err}")
    };
    assert_eq!(
        conflicts.message(),
        r#"Apply failed with 1 conflict: conflict with "bob": .data.a"#
    );
}

#[test]
fn scaled_replicas_conflict_until_forced() {
    let rt = deployments();
    let c = json!([{"name": "nginx", "image": "nginx:1"}]);
    let applied = apply(rt, None, &deploy(2, c.clone()), "kubectl", false, T0).unwrap();
    let mut scaled = applied.clone();
    scaled["spec"]["replicas"] = json!(5);
    record_update(rt, Some(&applied), &mut scaled, "kubectl-scale", T1);
    let scale = entry(&scaled, "kubectl-scale", "Update").unwrap();
    assert_eq!(scale["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
    assert_eq!(scale["apiVersion"], "apps/v1");
    let kubectl = entry(&scaled, "kubectl", "Apply").unwrap();
    assert!(kubectl["fieldsV1"]["f:spec"].get("f:replicas").is_none());

    let err = apply(
        rt,
        Some(&scaled),
        &deploy(3, c.clone()),
        "kubectl",
        false,
        T1,
    )
    .unwrap_err();
    let ApplyError::Conflicts(conflicts) = err else {
        panic!("{err}")
    };
    assert_eq!(
        conflicts.message(),
        r#"Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas"#
    );
    assert_eq!(
        conflicts.causes(),
        vec![json!({
            "reason": "FieldManagerConflict",
            "message": "conflict with \"kubectl-scale\" using apps/v1",
            "field": ".spec.replicas",
        })]
    );

    // Applying the live value is no conflict; forcing takes the field.
    apply(
        rt,
        Some(&scaled),
        &deploy(5, c.clone()),
        "kubectl",
        false,
        T1,
    )
    .unwrap();
    let forced = apply(rt, Some(&scaled), &deploy(3, c), "kubectl", true, T1).unwrap();
    assert_eq!(forced["spec"]["replicas"], 3);
    assert!(entry(&forced, "kubectl-scale", "Update").is_none());
    let kubectl = entry(&forced, "kubectl", "Apply").unwrap();
    assert!(kubectl["fieldsV1"]["f:spec"].get("f:replicas").is_some());
}

#[test]
fn containers_merge_by_name_and_keep_other_managers_items() {
    let rt = deployments();
    let one = json!([{"name": "app", "image": "app:1", "ports": [{"containerPort": 80}]}]);
    let applied = apply(rt, None, &deploy(1, one), "helm", false, T0).unwrap();
    let item = &entry(&applied, "helm", "Apply").unwrap()["fieldsV1"]["f:spec"]["f:template"]
        ["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
    assert_eq!(
        item,
        &json!({".": {}, "f:image": {}, "f:name": {},
            "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}})
    );

    let mut injected = applied.clone();
    injected["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "sidecar", "image": "proxy:1"}));
    record_update(rt, Some(&applied), &mut injected, "injector", T1);

    let two = json!([{"name": "app", "image": "app:2", "ports": [{"containerPort": 80}]}]);
    let out = apply(rt, Some(&injected), &deploy(1, two), "helm", false, T1).unwrap();
    let containers = &out["spec"]["template"]["spec"]["containers"];
    assert_eq!(containers[0]["image"], "app:2");
    assert_eq!(
        containers[1],
        json!({"name": "sidecar", "image": "proxy:1"})
    );
    let owned = &entry(&out, "injector", "Update").unwrap()["fieldsV1"];
    assert!(
        owned["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"sidecar\"}"]
            .is_object()
    );

    // Dropping its container removes it; the sidecar survives.
    let out = apply(rt, Some(&out), &deploy(1, json!([])), "helm", false, T1).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([{"name": "sidecar", "image": "proxy:1"}])
    );
}

#[test]
fn applying_to_an_untracked_object_conflicts_with_before_first_apply() {
    let rt = configmaps();
    let live = cm(json!({"a": "1"}));
    let err = apply(
        rt,
        Some(&live),
        &cm(json!({"a": "2", "b": "3"})),
        "k",
        false,
        T0,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.a"#
    );
    let ok = apply(
        rt,
        Some(&live),
        &cm(json!({"a": "1", "b": "3"})),
        "k",
        false,
        T0,
    )
    .unwrap();
    assert!(entry(&ok, BEFORE_FIRST_APPLY, "Update").is_some());
}

#[test]
fn several_conflicts_are_grouped_by_manager() {
    let rt = configmaps();
    let mut live = cm(json!({"a": "1", "b": "1", "c": "1"}));
    record_update(rt, None, &mut live, "x", T0);
    let err = apply(
        rt,
        Some(&live),
        &cm(json!({"a": "2", "b": "2"})),
        "k",
        false,
        T1,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 2 conflicts: conflicts with \"x\" using v1:\n- .data.a\n- .data.b"
    );
}

#[test]
fn invalid_configurations_are_refused() {
    let rt = configmaps();
    let mut with_fields = cm(json!({}));
    with_fields["metadata"]["managedFields"] = json!([]);
    let nameless = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}});
    let wrong = json!({"apiVersion": "v2", "kind": "ConfigMap", "metadata": {"name": "c"}});
    for (config, want) in [
        (with_fields, "metadata.managedFields must be nil"),
        (nameless, "metadata.name is required in an apply patch"),
        (
            wrong,
            "Incorrect version specified in apply patch. Specified patch version: v2, expected: v1",
        ),
    ] {
        assert_eq!(
            apply(rt, None, &config, "k", false, T0)
                .unwrap_err()
                .to_string(),
            want
        );
    }
    let dup = deploy(
        1,
        json!([{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]),
    );
    let err = apply(deployments(), None, &dup, "k", false, T0).unwrap_err();
    assert!(
        err.to_string()
            .contains(r#"duplicate entries for key [name="a"]"#),
        "{err}"
    );
}

#[test]
fn status_is_ignored_when_applying_the_main_resource() {
    let rt = deployments();
    let mut config = deploy(1, json!([{"name": "n", "image": "i"}]));
    config["status"] = json!({"replicas": 7});
    let out = apply(rt, None, &config, "k", false, T0).unwrap();
    assert!(out.get("status").is_none());
    assert!(entry(&out, "k", "Apply").unwrap()["fieldsV1"]
        .get("f:status")
        .is_none());
}

#[test]
fn unchanged_reapply_keeps_its_time_and_nulls_clear_fields() {
    let rt = configmaps();
    let first = apply(rt, None, &cm(json!({"a": "1"})), "k", false, T0).unwrap();
    let again = apply(rt, Some(&first), &cm(json!({"a": "1"})), "k", false, T1).unwrap();
    assert_eq!(again, first);

    let cleared = apply(rt, Some(&first), &cm(json!({"a": null})), "k", false, T1).unwrap();
    assert_eq!(cleared["data"], json!({}));
    assert_eq!(
        entry(&cleared, "k", "Apply").unwrap()["fieldsV1"],
        json!({"f:data": {"f:a": {}}})
    );
}
