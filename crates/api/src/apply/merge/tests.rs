use super::*;
use crate::apply::test_support::*;
use crate::apply::{apply, record_update};
use crate::catalogue::find_kind;
use serde_json::json;

#[test]
fn shared_items_follow_the_configuration_order_and_live_only_items_keep_their_place() {
    let ty = Type::of(find_kind("", "v1", "Pod").unwrap())
        .field("spec")
        .field("containers");
    let live = json!([{"name": "a"}, {"name": "x"}, {"name": "b"}]);
    let config = json!([{"name": "b", "image": "2"}, {"name": "a", "image": "1"}, {"name": "c"}]);
    let out = merge(&ty, Some(&live), Some(&config));
    let names: Vec<&str> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["x", "b", "a", "c"]);
    assert_eq!(out[1], json!({"name": "b", "image": "2"}));
}

#[test]
fn comparison_marks_new_containers_but_only_leaves_as_modified() {
    let ty = Type::of(configmaps());
    let old = json!({"data": {"a": "1"}});
    let new = json!({"data": {"a": "2"}, "binaryData": {"b": "eA=="}});
    let c = compare(&ty, Some(&old), Some(&new));
    assert_eq!(c.modified.to_fields_v1(), json!({"f:data": {"f:a": {}}}));
    assert_eq!(
        c.added.to_fields_v1(),
        json!({"f:binaryData": {".": {}, "f:b": {}}})
    );
    assert!(c.removed.is_empty());
}

/// Deterministic generator of awkward JSON for the no-panic test.
fn junk(seed: &mut u64, depth: u32) -> Value {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let pick = (*seed >> 33) % if depth == 0 { 4 } else { 7 };
    let names = [
        "spec",
        "metadata",
        "containers",
        "name",
        "ports",
        "data",
        "labels",
        "protocol",
    ];
    match pick {
        0 => Value::Null,
        1 => json!((*seed >> 40) % 3),
        2 => json!(names[(*seed >> 20) as usize % names.len()]),
        3 => json!(true),
        4 | 5 => Value::Object(
            (0..(*seed >> 50) % 4)
                .map(|i| {
                    (
                        names[(i as usize + (*seed >> 10) as usize) % names.len()].to_string(),
                        junk(seed, depth - 1),
                    )
                })
                .collect(),
        ),
        _ => Value::Array(
            (0..(*seed >> 50) % 3)
                .map(|_| junk(seed, depth - 1))
                .collect(),
        ),
    }
}

#[test]
fn arbitrary_client_json_never_panics() {
    let mut seed = 7;
    for rt in [
        deployments(),
        configmaps(),
        find_kind("", "v1", "Pod").unwrap(),
    ] {
        for _ in 0..300 {
            let mut config = junk(&mut seed, 5);
            if let Some(o) = config.as_object_mut() {
                o.insert("apiVersion".into(), rt.api_version().into());
                o.insert("kind".into(), rt.kind.into());
                o.insert(
                    "metadata".into(),
                    json!({"name": "x", "labels": junk(&mut seed, 2)}),
                );
            }
            let live = junk(&mut seed, 5);
            let _ = apply(rt, Some(&live), &config, "k", seed % 2 == 0, T0);
            if let Ok(out) = apply(rt, None, &config, "k", false, T0) {
                let _ = apply(rt, Some(&out), &junk(&mut seed, 4), "k", true, T1);
            }
            let mut new = junk(&mut seed, 5);
            record_update(rt, Some(&live), &mut new, "u", T1);
        }
    }
}
