use super::*;
use crate::schedule::Scheduler;
use crate::testing::{node, pod, taint};
use k8s_openapi::api::policy::v1::{PodDisruptionBudgetSpec, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector as ApiSelector, ObjectMeta};

fn place(c: &mut Cache, node: &str, name: &str, cpu: &str, priority: i32, app: &str) {
    let p = pod(name, cpu, "")
        .priority(priority)
        .labels(&[("app", app)])
        .build();
    c.add_pod(CachedPod::new(Arc::new(p), priority), node);
}

fn budget(app: &str, allowed: i32) -> Arc<PodDisruptionBudget> {
    Arc::new(PodDisruptionBudget {
        metadata: ObjectMeta {
            name: Some(app.into()),
            namespace: Some("default".into()),
            ..Default::default()
        },
        spec: Some(PodDisruptionBudgetSpec {
            selector: Some(ApiSelector {
                match_labels: Some([("app".to_string(), app.to_string())].into()),
                match_expressions: None,
            }),
            ..Default::default()
        }),
        status: Some(PodDisruptionBudgetStatus {
            disruptions_allowed: allowed,
            ..Default::default()
        }),
    })
}

fn attempt(c: &Cache, p: &k8s_openapi::api::core::v1::Pod, prio: i32) -> Diagnosis {
    let cycle = CycleState::new(p, prio, None, c);
    Scheduler {
        next_start: 0,
        percentage: None,
    }
    .schedule(&cycle, c)
    .expect_err("does not fit")
}

#[test]
fn the_node_with_the_least_important_victims_is_chosen() {
    let mut c = Cache::new();
    c.set_node(Arc::new(node("a", "2", "4Gi")));
    c.set_node(Arc::new(node("b", "2", "4Gi")));
    place(&mut c, "a", "a-mid", "2", 50, "x");
    place(&mut c, "b", "b-low1", "1", 10, "x");
    place(&mut c, "b", "b-low2", "1", 10, "x");
    let p = pod("vip", "2", "").priority(100).build();
    let d = attempt(&c, &p, 100);
    let cycle = CycleState::new(&p, 100, None, &c);
    let cand = preempt(&cycle, &c, &d, true, &[]).expect("candidate");
    assert_eq!(cand.node, "b", "top victim priority 10 beats 50");
    assert_eq!(cand.victims.len(), 2);
}

#[test]
fn only_as_many_victims_as_needed_are_taken() {
    let mut c = Cache::new();
    c.set_node(Arc::new(node("a", "3", "4Gi")));
    place(&mut c, "a", "keep", "1", 20, "x");
    place(&mut c, "a", "go", "1", 10, "x");
    place(&mut c, "a", "also", "1", 30, "x");
    let p = pod("vip", "1", "").priority(100).build();
    let d = attempt(&c, &p, 100);
    let cycle = CycleState::new(&p, 100, None, &c);
    let cand = preempt(&cycle, &c, &d, true, &[]).expect("candidate");
    let names: Vec<&str> = cand.victims.iter().map(|v| v.name()).collect();
    assert_eq!(
        names,
        vec!["go"],
        "the least important pod is the one not reprieved"
    );
}

#[test]
fn budgets_steer_victims_away_from_protected_pods() {
    let mut c = Cache::new();
    c.set_node(Arc::new(node("a", "1", "4Gi")));
    c.set_node(Arc::new(node("b", "1", "4Gi")));
    place(&mut c, "a", "guarded", "1", 10, "db");
    place(&mut c, "b", "free", "1", 10, "web");
    let p = pod("vip", "1", "").priority(100).build();
    let d = attempt(&c, &p, 100);
    let cycle = CycleState::new(&p, 100, None, &c);
    let cand = preempt(&cycle, &c, &d, true, &[budget("db", 0)]).expect("candidate");
    assert_eq!(cand.node, "b");
    assert_eq!(cand.pdb_violations, 0);
}

#[test]
fn failures_explain_themselves_in_upstreams_words() {
    let mut c = Cache::new();
    c.set_node(Arc::new(node("a", "1", "4Gi")));
    c.set_node(Arc::new(taint(
        node("b", "8", "4Gi"),
        "k",
        "",
        "NoSchedule",
    )));
    place(&mut c, "a", "peer", "1", 100, "x");
    let p = pod("p", "1", "").priority(100).build();
    let d = attempt(&c, &p, 100);
    let cycle = CycleState::new(&p, 100, None, &c);
    let msg = preempt(&cycle, &c, &d, true, &[]).expect_err("no candidate");
    assert_eq!(
        msg,
        "0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."
    );
    assert_eq!(
        preempt(&cycle, &c, &d, false, &[]).expect_err("never"),
        POLICY_NEVER
    );
}

#[test]
fn a_pod_too_big_even_for_an_empty_node_reports_the_filter_reason() {
    let mut c = Cache::new();
    c.set_node(Arc::new(node("a", "1", "4Gi")));
    place(&mut c, "a", "low", "1", 0, "x");
    let p = pod("p", "4", "").priority(100).build();
    let d = attempt(&c, &p, 100);
    let cycle = CycleState::new(&p, 100, None, &c);
    let msg = preempt(&cycle, &c, &d, true, &[]).expect_err("too big");
    assert_eq!(msg, "0/1 nodes are available: 1 Insufficient cpu.");
}
