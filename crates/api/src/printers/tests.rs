use super::*;
use crate::catalogue::RESOURCES;
use crate::printers::test_support::now;
use serde_json::json;

fn find(group: &str, plural: &str) -> &'static ResourceType {
    crate::catalogue::find(group, "v1", plural).unwrap()
}

#[test]
fn every_served_kind_has_one_cell_per_column_even_for_garbage() {
    let samples = [
        json!({"metadata": {"name": "x", "creationTimestamp": "2024-05-01T11:00:00Z"}, "spec": {}, "status": {}}),
        json!(null),
        json!([1, 2]),
        json!({"metadata": 5, "spec": "nope", "status": [null]}),
    ];
    for rt in RESOURCES {
        let cols = columns(rt);
        assert_eq!(
            cols[0].name,
            if rt.kind == "Event" {
                "Last Seen"
            } else {
                "Name"
            },
            "{}",
            rt.kind
        );
        assert!(cols.iter().any(|c| c.format == "name"), "{}", rt.kind);
        for obj in &samples {
            assert_eq!(row(rt, obj, now()).len(), cols.len(), "{} {obj}", rt.kind);
        }
    }
}

#[test]
fn kinds_without_printers_use_the_default_created_at_table() {
    for (group, plural) in [
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "clusterroles"),
        ("", "limitranges"),
    ] {
        let rt = find(group, plural);
        let names: Vec<_> = columns(rt).iter().map(|c| (c.name, c.type_)).collect();
        assert_eq!(names, [("Name", "string"), ("Created At", "date")]);
        let obj =
            json!({"metadata": {"name": "view", "creationTimestamp": "2024-04-30T10:00:00+02:00"}});
        assert_eq!(
            row(rt, &obj, now()),
            [json!("view"), json!("2024-04-30T08:00:00Z")]
        );
    }
}

#[test]
fn wide_columns_carry_priority_one() {
    let wide_names = |rt: &ResourceType| -> Vec<&str> {
        columns(rt)
            .iter()
            .filter(|c| c.priority == 1)
            .map(|c| c.name)
            .collect()
    };
    assert_eq!(
        wide_names(find("", "pods")),
        ["IP", "Node", "Nominated Node", "Readiness Gates"]
    );
    assert_eq!(
        wide_names(find("apps", "deployments")),
        ["Containers", "Images", "Selector"]
    );
    assert_eq!(wide_names(find("", "services")), ["Selector"]);
    assert_eq!(
        wide_names(find("", "nodes")),
        [
            "Internal-IP",
            "External-IP",
            "OS-Image",
            "Kernel-Version",
            "Container-Runtime"
        ]
    );
    assert_eq!(
        wide_names(find("", "events")),
        ["Subobject", "Source", "First Seen", "Count", "Name"]
    );
    let default: Vec<_> = columns(find("apps", "deployments"))
        .iter()
        .filter(|c| c.priority == 0)
        .map(|c| c.name)
        .collect();
    assert_eq!(default, ["Name", "Ready", "Up-to-date", "Available", "Age"]);
}

#[test]
fn events_api_group_shares_the_core_event_table() {
    assert_eq!(
        columns(find("events.k8s.io", "events")),
        columns(find("", "events"))
    );
}
