use super::*;
use crate::pod_info::CachedPod;
use crate::testing::{node_with, pod};
use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as ApiSelector;
use std::sync::Arc;

fn constraint(key: &str, skew: i32, when: &str) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        label_selector: Some(ApiSelector {
            match_labels: Some([("app".to_string(), "web".to_string())].into()),
            match_expressions: None,
        }),
        max_skew: skew,
        topology_key: key.into(),
        when_unsatisfiable: when.into(),
        ..Default::default()
    }
}

fn cluster(pods_per_node: &[(&str, &str, usize)]) -> Cache {
    let mut c = Cache::new();
    for (name, zone, _) in pods_per_node {
        let labels: Vec<(&str, &str)> = if zone.is_empty() {
            vec![]
        } else {
            vec![("zone", zone)]
        };
        c.set_node(Arc::new(node_with(name, "8", "8Gi", &labels)));
    }
    for (name, _, n) in pods_per_node {
        for i in 0..*n {
            let p = pod(&format!("{name}-{i}"), "", "")
                .labels(&[("app", "web")])
                .build();
            c.add_pod(CachedPod::new(Arc::new(p), 0), name);
        }
    }
    c
}

fn passing(c: &Cache, p: &Pod) -> Vec<bool> {
    let cycle = CycleState::new(p, 0, None, c);
    let mut names: Vec<&str> = c.nodes().iter().map(|n| n.name()).collect();
    names.sort();
    names
        .iter()
        .map(|n| filter(&cycle, c.node(n).expect("node")).is_ok())
        .collect()
}

#[test]
fn max_skew_one_over_zones_fills_the_emptier_zone() {
    let c = cluster(&[("a", "z1", 2), ("b", "z1", 0), ("c", "z2", 1)]);
    let p = pod("new", "", "")
        .labels(&[("app", "web")])
        .spread(constraint("zone", 1, "DoNotSchedule"))
        .build();
    assert_eq!(passing(&c, &p), vec![false, false, true]);
}

#[test]
fn nodes_without_the_key_are_unresolvable() {
    let c = cluster(&[("a", "z1", 0), ("b", "", 0)]);
    let p = pod("new", "", "")
        .labels(&[("app", "web")])
        .spread(constraint("zone", 1, "DoNotSchedule"))
        .build();
    let cycle = CycleState::new(&p, 0, None, &c);
    let err = filter(&cycle, c.node("b").expect("b")).expect_err("no zone");
    assert_eq!(err.reasons, vec![MISSING_LABEL]);
    assert_eq!(err.code, Code::UnschedulableAndUnresolvable);
}

#[test]
fn a_pod_not_matching_its_own_selector_adds_no_skew() {
    let c = cluster(&[("a", "z1", 1), ("b", "z2", 0)]);
    let p = pod("new", "", "")
        .labels(&[("app", "other")])
        .spread(constraint("zone", 1, "DoNotSchedule"))
        .build();
    assert_eq!(passing(&c, &p), vec![true, true]);
}

#[test]
fn min_domains_counts_missing_domains_as_zero() {
    let c = cluster(&[("a", "z1", 1), ("b", "z2", 1)]);
    let mut tsc = constraint("zone", 1, "DoNotSchedule");
    tsc.min_domains = Some(3);
    let p = pod("new", "", "")
        .labels(&[("app", "web")])
        .spread(tsc)
        .build();
    assert_eq!(passing(&c, &p), vec![false, false]);
}

#[test]
fn schedule_anyway_prefers_nodes_with_fewer_matching_pods() {
    let c = cluster(&[("a", "z1", 3), ("b", "z1", 0), ("c", "z2", 1)]);
    let p = pod("new", "", "")
        .labels(&[("app", "web")])
        .spread(constraint(HOSTNAME, 1, "ScheduleAnyway"))
        .build();
    let cycle = CycleState::new(&p, 0, None, &c);
    let nodes: Vec<&NodeInfo> = ["a", "b", "c"].iter().filter_map(|n| c.node(n)).collect();
    let mut out = [0; 3];
    assert!(score(&cycle, &c, &nodes, &mut out));
    assert!(out[1] > out[2] && out[2] > out[0], "{out:?}");
    assert_eq!(out[1], 100);
}

#[test]
fn system_defaults_spread_siblings_when_a_selector_is_known() {
    let c = cluster(&[("a", "", 2), ("b", "", 0)]);
    let p = pod("new", "", "").labels(&[("app", "web")]).build();
    let sel = LabelSelector::from_map(&[("app".to_string(), "web".to_string())].into());
    let cycle = CycleState::new(&p, 0, Some(sel), &c);
    assert!(cycle.spread_defaulted);
    let nodes: Vec<&NodeInfo> = ["a", "b"].iter().filter_map(|n| c.node(n)).collect();
    let mut out = [0; 2];
    assert!(score(&cycle, &c, &nodes, &mut out));
    assert!(out[1] > out[0], "{out:?}");
    let none = CycleState::new(&p, 0, None, &c);
    assert!(
        !score(&none, &c, &nodes, &mut out),
        "no siblings, no default spreading"
    );
}
