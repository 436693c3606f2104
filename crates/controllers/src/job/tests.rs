use super::conditions::{backoff_left, failure, success};
use super::manage::{changes, new_pod};
use super::tracking::{
    flush, format_indexes, parse_indexes, record, COMPLETION_INDEX, TRACKING_FINALIZER,
};
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{Job, JobStatus};
use k8s_openapi::api::core::v1::{Pod, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde_json::json;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

fn job(spec: serde_json::Value) -> Job {
    let mut j: Job = serde_json::from_value(json!({
        "metadata": {"name": "pi", "namespace": "default", "uid": "job-uid"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c"}]}}},
    }))
    .unwrap();
    let mut s = serde_json::to_value(j.spec.take().unwrap()).unwrap();
    for (k, v) in spec.as_object().unwrap() {
        s[k] = v.clone();
    }
    j.spec = Some(serde_json::from_value(s).unwrap());
    j
}

fn pod(name: &str, phase: &str, index: Option<i32>) -> Arc<Pod> {
    let mut annotations = std::collections::BTreeMap::new();
    if let Some(i) = index {
        annotations.insert(COMPLETION_INDEX.to_string(), i.to_string());
    }
    Arc::new(Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            uid: Some(format!("uid-{name}")),
            finalizers: Some(vec![TRACKING_FINALIZER.into()]),
            annotations: Some(annotations),
            ..Default::default()
        },
        spec: None,
        status: Some(PodStatus {
            phase: Some(phase.into()),
            ..Default::default()
        }),
    })
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn non_indexed_job_runs_up_to_parallelism_and_remaining_completions() {
    let j = job(json!({"completions": 5, "parallelism": 2}));
    let status = JobStatus::default();
    assert_eq!(changes(&j, &status, &[], &[]).create.len(), 2);
    let one = [pod("a", "Running", None)];
    assert_eq!(changes(&j, &status, &one, &[]).create.len(), 1);
    let four_done = JobStatus {
        succeeded: Some(4),
        ..Default::default()
    };
    assert_eq!(changes(&j, &four_done, &[], &[]).create.len(), 1);
    let three = [
        pod("a", "Running", None),
        pod("b", "Pending", None),
        pod("c", "Running", None),
    ];
    let plan = changes(&j, &four_done, &three, &[]);
    assert_eq!(plan.delete.len(), 2, "one completion left: keep one pod");
    assert!(plan.create.is_empty());
}

#[test]
fn suspended_job_deletes_its_active_pods() {
    let j = job(json!({"completions": 5, "parallelism": 2, "suspend": true}));
    let active = [pod("a", "Running", None)];
    let plan = changes(&j, &JobStatus::default(), &active, &[]);
    assert_eq!(plan.delete.len(), 1);
    assert!(plan.create.is_empty());
}

#[test]
fn indexed_job_fills_missing_indexes_lowest_first() {
    let j = job(json!({"completions": 4, "parallelism": 3, "completionMode": "Indexed"}));
    let status = JobStatus {
        completed_indexes: Some("0".into()),
        ..Default::default()
    };
    let active = [
        pod("p1", "Running", Some(1)),
        pod("dup", "Pending", Some(1)),
        pod("p9", "Running", Some(9)),
    ];
    let plan = changes(&j, &status, &active, &[]);
    let deleted: BTreeSet<_> = plan
        .delete
        .iter()
        .map(|p| p.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(
        deleted,
        ["dup".to_string(), "p9".to_string()].into(),
        "duplicate and out-of-range"
    );
    assert!(plan.create.is_empty(), "deletions first");
    let plan = changes(&j, &status, &active[..1], &[]);
    assert_eq!(plan.create, vec![Some(2), Some(3)]);
}

#[test]
fn indexed_pod_carries_index_hostname_and_finalizer() {
    let j = job(json!({"completions": 3, "completionMode": "Indexed"}));
    let p = new_pod(&j, Some(2));
    assert_eq!(p.metadata.generate_name.as_deref(), Some("pi-2-"));
    assert_eq!(
        p.metadata.annotations.as_ref().unwrap()[COMPLETION_INDEX],
        "2"
    );
    assert_eq!(p.metadata.labels.as_ref().unwrap()[COMPLETION_INDEX], "2");
    assert_eq!(
        p.metadata.finalizers,
        Some(vec![TRACKING_FINALIZER.to_string()])
    );
    let spec = p.spec.unwrap();
    assert_eq!(spec.hostname.as_deref(), Some("pi-2"));
    assert!(spec.containers[0]
        .env
        .as_ref()
        .unwrap()
        .iter()
        .any(|e| e.name == "JOB_COMPLETION_INDEX"));
    let owner = &p.metadata.owner_references.unwrap()[0];
    assert_eq!((owner.kind.as_str(), owner.controller), ("Job", Some(true)));
}

#[test]
fn terminated_pods_are_recorded_then_counted_once_released() {
    let j = job(json!({"completions": 2}));
    let pods = [
        pod("ok", "Succeeded", None),
        pod("bad", "Failed", None),
        pod("run", "Running", None),
    ];
    let mut status = JobStatus::default();
    let release = record(&j, &pods, &mut status, false);
    assert_eq!(release.len(), 2, "only terminated pods lose the finalizer");
    let u = status.uncounted_terminated_pods.clone().unwrap();
    assert_eq!(u.succeeded, Some(vec!["uid-ok".to_string()]));
    assert_eq!(u.failed, Some(vec!["uid-bad".to_string()]));
    // Recording again adds nothing.
    record(&j, &pods, &mut status, false);
    assert_eq!(
        status
            .uncounted_terminated_pods
            .as_ref()
            .unwrap()
            .succeeded
            .as_ref()
            .unwrap()
            .len(),
        1
    );
    // Only the released pod is counted.
    flush(&mut status, &pods, &HashSet::from(["uid-ok".to_string()]));
    assert_eq!((status.succeeded, status.failed), (Some(1), None));
    flush(&mut status, &pods[2..], &HashSet::new());
    assert_eq!(
        status.failed,
        Some(1),
        "a pod gone from the cache is counted"
    );
    assert_eq!(super::tracking::uncounted_len(&status), 0);
}

#[test]
fn indexed_successes_count_each_index_once() {
    let j = job(json!({"completions": 3, "completionMode": "Indexed"}));
    let pods = [
        pod("a", "Succeeded", Some(1)),
        pod("b", "Succeeded", Some(1)),
        pod("c", "Succeeded", Some(7)),
    ];
    let mut status = JobStatus::default();
    record(&j, &pods, &mut status, false);
    assert_eq!(status.completed_indexes.as_deref(), Some("1"));
    assert_eq!(
        status
            .uncounted_terminated_pods
            .unwrap()
            .succeeded
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn backoff_limit_and_deadline_fail_the_job() {
    let j = job(json!({"backoffLimit": 1}));
    let now = ts("2024-05-01T10:00:00Z");
    let status = JobStatus {
        failed: Some(2),
        ..Default::default()
    };
    let (f, _) = failure(&j, &status, 1, &[], now);
    assert_eq!(f.unwrap().reason, "BackoffLimitExceeded");
    let (f, _) = failure(&j, &status, 2, &[], now);
    assert!(f.is_none(), "no new failure this sync");
    let j = job(json!({"activeDeadlineSeconds": 30}));
    let started = JobStatus {
        start_time: Some(Time(ts("2024-05-01T09:59:40Z"))),
        ..Default::default()
    };
    let (f, wait) = failure(&j, &started, 0, &[], now);
    assert!(f.is_none());
    assert_eq!(wait, Some(Duration::from_secs(10)));
    let (f, _) = failure(&j, &started, 0, &[], ts("2024-05-01T10:00:10Z"));
    assert_eq!(f.unwrap().reason, "DeadlineExceeded");
}

#[test]
fn job_succeeds_when_completions_are_reached_and_nothing_runs() {
    let j = job(json!({"completions": 2}));
    let done = JobStatus {
        succeeded: Some(2),
        ..Default::default()
    };
    assert_eq!(success(&j, &done, 0).unwrap().reason, "CompletionsReached");
    assert!(success(&j, &done, 1).is_none());
    let j = job(json!({"parallelism": 3}));
    let j = Job {
        spec: j.spec.map(|s| k8s_openapi::api::batch::v1::JobSpec {
            completions: None,
            ..s
        }),
        ..j
    };
    let one = JobStatus {
        succeeded: Some(1),
        ..Default::default()
    };
    assert!(
        success(&j, &one, 0).is_some(),
        "work queue: one success and nothing active"
    );
}

#[test]
fn completed_indexes_round_trip_as_intervals() {
    let set = parse_indexes(Some("0-2,5,7-8"));
    assert_eq!(set, [0, 1, 2, 5, 7, 8].into());
    assert_eq!(format_indexes(&set), "0-2,5,7-8");
    assert!(parse_indexes(Some("x,1-")).is_empty());
}

#[test]
fn pod_failure_backoff_doubles_from_ten_seconds() {
    let now = ts("2024-05-01T10:00:00Z");
    assert_eq!(
        backoff_left(1, Some(now), now),
        Some(Duration::from_secs(10))
    );
    assert_eq!(
        backoff_left(3, Some(ts("2024-05-01T09:59:50Z")), now),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        backoff_left(30, Some(now), now),
        Some(Duration::from_secs(600))
    );
    assert_eq!(backoff_left(0, Some(now), now), None);
}
