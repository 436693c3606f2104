use super::*;
use crate::pod_info::CachedPod;
use crate::testing::{node_with, pod, PodBuilder};
use k8s_openapi::api::core::v1::{
    Affinity, PodAffinity, PodAffinityTerm, PodAntiAffinity, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::sync::Arc;

fn term(app: &str, key: &str) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: Some(LabelSelector {
            match_labels: Some([("app".to_string(), app.to_string())].into()),
            match_expressions: None,
        }),
        topology_key: key.into(),
        ..Default::default()
    }
}

fn with_affinity(
    b: PodBuilder,
    affinity: Vec<PodAffinityTerm>,
    anti: Vec<PodAffinityTerm>,
) -> PodBuilder {
    b.affinity(Affinity {
        pod_affinity: (!affinity.is_empty()).then_some(PodAffinity {
            required_during_scheduling_ignored_during_execution: Some(affinity),
            preferred_during_scheduling_ignored_during_execution: None,
        }),
        pod_anti_affinity: (!anti.is_empty()).then_some(PodAntiAffinity {
            required_during_scheduling_ignored_during_execution: Some(anti),
            preferred_during_scheduling_ignored_during_execution: None,
        }),
        ..Default::default()
    })
}

fn zoned_cache() -> Cache {
    let mut c = Cache::new();
    c.set_node(Arc::new(node_with("a", "4", "4Gi", &[("zone", "z1")])));
    c.set_node(Arc::new(node_with("b", "4", "4Gi", &[("zone", "z1")])));
    c.set_node(Arc::new(node_with("c", "4", "4Gi", &[("zone", "z2")])));
    c.set_node(Arc::new(node_with("d", "4", "4Gi", &[])));
    c
}

fn place(c: &mut Cache, node: &str, p: k8s_openapi::api::core::v1::Pod) {
    c.add_pod(CachedPod::new(Arc::new(p), 0), node);
}

fn verdicts(c: &Cache, p: &k8s_openapi::api::core::v1::Pod) -> Vec<Option<&'static str>> {
    let cycle = CycleState::new(p, 0, None, c);
    ["a", "b", "c", "d"]
        .iter()
        .map(|n| {
            let node = c.node(n).expect("node");
            filter(&cycle, node)
                .err()
                .map(|f| match f.reasons[0].as_ref() {
                    AFFINITY => AFFINITY,
                    ANTI_AFFINITY => ANTI_AFFINITY,
                    _ => EXISTING_ANTI_AFFINITY,
                })
        })
        .collect()
}

#[test]
fn affinity_requires_a_matching_pod_in_the_same_domain() {
    let mut c = zoned_cache();
    place(
        &mut c,
        "a",
        pod("db", "", "").labels(&[("app", "db")]).build(),
    );
    let p = with_affinity(pod("web", "", ""), vec![term("db", "zone")], vec![]).build();
    assert_eq!(
        verdicts(&c, &p),
        vec![None, None, Some(AFFINITY), Some(AFFINITY)]
    );
}

#[test]
fn the_first_pod_of_a_self_affine_group_goes_anywhere_with_the_key() {
    let c = zoned_cache();
    let p = with_affinity(
        pod("web", "", "").labels(&[("app", "web")]),
        vec![term("web", "zone")],
        vec![],
    )
    .build();
    assert_eq!(verdicts(&c, &p), vec![None, None, None, Some(AFFINITY)]);
    let other = with_affinity(pod("x", "", ""), vec![term("web", "zone")], vec![]).build();
    assert!(verdicts(&c, &other).iter().all(Option::is_some));
}

#[test]
fn anti_affinity_keeps_pods_out_of_the_domain() {
    let mut c = zoned_cache();
    place(
        &mut c,
        "b",
        pod("w1", "", "").labels(&[("app", "web")]).build(),
    );
    let p = with_affinity(
        pod("w2", "", "").labels(&[("app", "web")]),
        vec![],
        vec![term("web", "zone")],
    )
    .build();
    assert_eq!(
        verdicts(&c, &p),
        vec![Some(ANTI_AFFINITY), Some(ANTI_AFFINITY), None, None]
    );
}

#[test]
fn existing_pods_anti_affinity_is_symmetric() {
    let mut c = zoned_cache();
    let guard = with_affinity(
        pod("g", "", ""),
        vec![],
        vec![term("web", "kubernetes.io/hostname")],
    )
    .build();
    place(&mut c, "c", guard);
    let p = pod("w", "", "").labels(&[("app", "web")]).build();
    assert_eq!(
        verdicts(&c, &p),
        vec![None, None, Some(EXISTING_ANTI_AFFINITY), None]
    );
    let unrelated = pod("x", "", "").labels(&[("app", "db")]).build();
    assert!(verdicts(&c, &unrelated).iter().all(Option::is_none));
}

#[test]
fn preferred_affinity_scores_domains_with_matching_pods() {
    let mut c = zoned_cache();
    place(
        &mut c,
        "c",
        pod("db", "", "").labels(&[("app", "db")]).build(),
    );
    let p = pod("web", "", "")
        .affinity(Affinity {
            pod_affinity: Some(PodAffinity {
                required_during_scheduling_ignored_during_execution: None,
                preferred_during_scheduling_ignored_during_execution: Some(vec![
                    WeightedPodAffinityTerm {
                        weight: 10,
                        pod_affinity_term: term("db", "zone"),
                    },
                ]),
            }),
            ..Default::default()
        })
        .build();
    let cycle = CycleState::new(&p, 0, None, &c);
    let nodes: Vec<&NodeInfo> = ["a", "c"].iter().filter_map(|n| c.node(n)).collect();
    let mut out = [0; 2];
    assert!(score(&cycle, &c, &nodes, &mut out));
    assert_eq!(out, [0, 100]);
}

#[test]
fn no_affinity_anywhere_skips_the_plugin() {
    let c = zoned_cache();
    let p = pod("web", "", "").build();
    let cycle = CycleState::new(&p, 0, None, &c);
    assert!(cycle.affinity_filter.is_none());
    let nodes: Vec<&NodeInfo> = c.nodes().iter().collect();
    let mut out = vec![0; nodes.len()];
    assert!(!score(&cycle, &c, &nodes, &mut out));
}
