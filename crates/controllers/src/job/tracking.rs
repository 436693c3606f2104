//! Pod tracking with the `batch.kubernetes.io/job-tracking` finalizer: terminated pods are
//! first recorded in `status.uncountedTerminatedPods`, then released, then counted.

use k8s_openapi::api::batch::v1::{Job, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::Pod;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

/// The finalizer the Job controller keeps on its pods until it has counted them.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
/// Annotation and label holding an Indexed Job pod's completion index.
pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";

/// Whether the pod still carries the tracking finalizer.
pub fn has_finalizer(pod: &Pod) -> bool {
    pod.metadata
        .finalizers
        .as_deref()
        .is_some_and(|f| f.iter().any(|f| f == TRACKING_FINALIZER))
}

/// The pod's phase.
pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// Whether the Job has `completionMode: Indexed`.
pub fn is_indexed(job: &Job) -> bool {
    job.spec.as_ref().and_then(|s| s.completion_mode.as_deref()) == Some("Indexed")
}

/// The pod's completion index (annotation, else label).
pub fn completion_index(pod: &Pod) -> Option<i32> {
    let m = &pod.metadata;
    m.annotations
        .as_ref()
        .and_then(|a| a.get(COMPLETION_INDEX))
        .or_else(|| m.labels.as_ref().and_then(|l| l.get(COMPLETION_INDEX)))
        .and_then(|v| v.parse().ok())
        .filter(|i| *i >= 0)
}

/// Parses `status.completedIndexes` (`"0-2,5"`).
pub fn parse_indexes(s: Option<&str>) -> BTreeSet<i32> {
    let mut out = BTreeSet::new();
    for part in s.unwrap_or("").split(',').filter(|p| !p.is_empty()) {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(lo), Ok(hi)) = (lo.parse::<i32>(), hi.parse::<i32>()) {
            if hi.saturating_sub(lo) <= 1_000_000 {
                out.extend(lo..=hi);
            }
        }
    }
    out
}

/// Formats indexes as upstream's compressed intervals (`"0-2,5"`).
pub fn format_indexes(set: &BTreeSet<i32>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = set.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    parts.join(",")
}

/// Whether a terminated or terminating pod counts as failed (podReplacementPolicy aware).
fn counts_as_failed(job: &Job, pod: &Pod, finishing: bool) -> bool {
    let only_failed = job
        .spec
        .as_ref()
        .and_then(|s| s.pod_replacement_policy.as_deref())
        == Some("Failed");
    match phase(pod) {
        "Failed" => true,
        "Succeeded" => false,
        _ if only_failed => false,
        _ => pod.metadata.deletion_timestamp.is_some() || finishing,
    }
}

/// Records newly terminated pods as uncounted (and new completed indexes); returns the pods
/// whose finalizer is to be removed. `finishing`: the Job reached its end this sync.
pub fn record(
    job: &Job,
    pods: &[Arc<Pod>],
    status: &mut JobStatus,
    finishing: bool,
) -> Vec<Arc<Pod>> {
    let uncounted = status
        .uncounted_terminated_pods
        .get_or_insert_with(Default::default);
    let succeeded = uncounted.succeeded.get_or_insert_with(Vec::new);
    let mut known: HashSet<String> = succeeded.iter().cloned().collect();
    let failed_known: Vec<String> = uncounted.failed.clone().unwrap_or_default();
    known.extend(failed_known);
    let completions = job.spec.as_ref().and_then(|s| s.completions).unwrap_or(0);
    let mut completed = parse_indexes(status.completed_indexes.as_deref());
    let (mut new_succeeded, mut new_failed, mut release) = (Vec::new(), Vec::new(), Vec::new());
    for pod in pods.iter().filter(|p| has_finalizer(p)) {
        let terminal = matches!(phase(pod), "Succeeded" | "Failed");
        let terminating = pod.metadata.deletion_timestamp.is_some() || finishing;
        if !(terminal || terminating || job.metadata.deletion_timestamp.is_some()) {
            continue;
        }
        release.push(pod.clone());
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if known.contains(&uid) {
            continue;
        }
        if phase(pod) == "Succeeded" {
            if is_indexed(job) {
                match completion_index(pod) {
                    Some(i) if i < completions && completed.insert(i) => new_succeeded.push(uid),
                    _ => {}
                }
            } else {
                new_succeeded.push(uid);
            }
        } else if counts_as_failed(job, pod, finishing) {
            new_failed.push(uid);
        }
    }
    let uncounted = status
        .uncounted_terminated_pods
        .get_or_insert_with(Default::default);
    uncounted
        .succeeded
        .get_or_insert_with(Vec::new)
        .extend(new_succeeded);
    uncounted
        .failed
        .get_or_insert_with(Vec::new)
        .extend(new_failed);
    if is_indexed(job) {
        let text = format_indexes(&completed);
        status.completed_indexes = (!text.is_empty()).then_some(text);
    }
    release
}

/// Moves uncounted pods that no longer hold the finalizer (released now, or gone) into the
/// `succeeded`/`failed` counters.
pub fn flush(status: &mut JobStatus, pods: &[Arc<Pod>], released: &HashSet<String>) {
    let holds = |uid: &String| {
        !released.contains(uid)
            && pods
                .iter()
                .any(|p| p.metadata.uid.as_ref() == Some(uid) && has_finalizer(p))
    };
    let u = status
        .uncounted_terminated_pods
        .get_or_insert_with(UncountedTerminatedPods::default);
    let moved = |list: &mut Option<Vec<String>>| {
        let all = list.take().unwrap_or_default();
        let (keep, done): (Vec<_>, Vec<_>) = all.into_iter().partition(|uid| holds(uid));
        *list = (!keep.is_empty()).then_some(keep);
        i32::try_from(done.len()).unwrap_or(i32::MAX)
    };
    let (s, f) = (moved(&mut u.succeeded), moved(&mut u.failed));
    if s > 0 {
        status.succeeded = Some(status.succeeded.unwrap_or(0).saturating_add(s));
    }
    if f > 0 {
        status.failed = Some(status.failed.unwrap_or(0).saturating_add(f));
    }
}

/// How many pods are recorded but not yet counted.
pub fn uncounted_len(status: &JobStatus) -> usize {
    status.uncounted_terminated_pods.as_ref().map_or(0, |u| {
        u.succeeded.as_ref().map_or(0, Vec::len) + u.failed.as_ref().map_or(0, Vec::len)
    })
}
