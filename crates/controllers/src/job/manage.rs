//! Which pods a running Job creates and deletes: NonIndexed counts, Indexed per-index slots,
//! and the pod made for a slot.

use super::tracking::{
    completion_index, is_indexed, parse_indexes, COMPLETION_INDEX, TRACKING_FINALIZER,
};
use crate::pods::{controller_ref, deletion_order, from_template};
use k8s_openapi::api::batch::v1::{Job, JobStatus};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, Pod};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Pods to delete and slots to fill (`None` for NonIndexed Jobs, else the completion index).
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    /// Active pods to delete.
    pub delete: Vec<Arc<Pod>>,
    /// Pods to create.
    pub create: Vec<Option<i32>>,
}

/// Upstream's cap on creations and deletions in one sync.
const MAX_PER_SYNC: usize = 500;

/// What to change so `active` matches parallelism and remaining completions; `terminating`
/// pods block replacements only under `podReplacementPolicy: Failed`.
pub fn changes(
    job: &Job,
    status: &JobStatus,
    active: &[Arc<Pod>],
    terminating: &[Arc<Pod>],
) -> Changes {
    let spec = job.spec.clone().unwrap_or_default();
    let parallelism = spec.parallelism.unwrap_or(1).max(0) as usize;
    let only_failed = spec.pod_replacement_policy.as_deref() == Some("Failed");
    let blocking = if only_failed { terminating.len() } else { 0 };
    if spec.suspend == Some(true) {
        return Changes {
            delete: active.to_vec(),
            create: Vec::new(),
        };
    }
    if is_indexed(job) {
        return indexed(&spec, status, active, terminating, parallelism, only_failed);
    }
    let succeeded = status.succeeded.unwrap_or(0).max(0) as usize;
    let want = match spec.completions {
        None if succeeded > 0 => active.len(),
        None => parallelism,
        Some(c) => (c.max(0) as usize)
            .saturating_sub(succeeded)
            .min(parallelism),
    };
    let mut out = Changes::default();
    if active.len() > want {
        let mut ranked = active.to_vec();
        ranked.sort_by(|a, b| deletion_order(a, b));
        ranked.truncate((active.len() - want).min(MAX_PER_SYNC));
        out.delete = ranked;
    } else {
        let n = want
            .saturating_sub(active.len() + blocking)
            .min(MAX_PER_SYNC);
        out.create = vec![None; n];
    }
    out
}

fn indexed(
    spec: &k8s_openapi::api::batch::v1::JobSpec,
    status: &JobStatus,
    active: &[Arc<Pod>],
    terminating: &[Arc<Pod>],
    parallelism: usize,
    only_failed: bool,
) -> Changes {
    let completions = spec.completions.unwrap_or(0).max(0);
    let completed = parse_indexes(status.completed_indexes.as_deref());
    let mut by_index: BTreeMap<i32, Vec<Arc<Pod>>> = BTreeMap::new();
    let mut out = Changes::default();
    for pod in active {
        match completion_index(pod) {
            Some(i) if i < completions && !completed.contains(&i) => {
                by_index.entry(i).or_default().push(pod.clone())
            }
            _ => out.delete.push(pod.clone()),
        }
    }
    let mut kept = Vec::new();
    for pods in by_index.values_mut() {
        pods.sort_by(|a, b| deletion_order(a, b));
        if let Some(best) = pods.pop() {
            kept.push(best);
        }
        out.delete.append(pods);
    }
    let remaining = (completions as usize).saturating_sub(completed.len());
    let want = remaining.min(parallelism);
    if kept.len() > want {
        kept.sort_by(|a, b| deletion_order(a, b));
        out.delete.extend(kept.drain(..kept.len() - want));
    }
    if out.delete.is_empty() {
        let mut busy: BTreeSet<i32> = kept.iter().filter_map(|p| completion_index(p)).collect();
        if only_failed {
            busy.extend(terminating.iter().filter_map(|p| completion_index(p)));
        }
        let n = want.saturating_sub(kept.len()).min(MAX_PER_SYNC);
        out.create = (0..completions)
            .filter(|i| !completed.contains(i) && !busy.contains(i))
            .take(n)
            .map(Some)
            .collect();
    }
    out.delete.truncate(MAX_PER_SYNC);
    out
}

/// The pod a Job creates for a slot: template, owner, tracking finalizer, and for Indexed
/// Jobs the completion index annotation, label, hostname and `JOB_COMPLETION_INDEX`.
pub fn new_pod(job: &Job, index: Option<i32>) -> Pod {
    let name = job.metadata.name.clone().unwrap_or_default();
    let namespace = job.metadata.namespace.clone().unwrap_or_default();
    let template = job
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let owner = controller_ref("batch/v1", "Job", &job.metadata);
    let prefix = match index {
        Some(i) => format!("{name}-{i}-"),
        None => format!("{name}-"),
    };
    let mut pod = from_template(&template, &namespace, &prefix, owner);
    pod.metadata
        .finalizers
        .get_or_insert_with(Vec::new)
        .push(TRACKING_FINALIZER.to_string());
    if let Some(i) = index {
        let value = i.to_string();
        pod.metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(COMPLETION_INDEX.into(), value.clone());
        pod.metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(COMPLETION_INDEX.into(), value);
        if let Some(spec) = pod.spec.as_mut() {
            if spec.hostname.as_deref().is_none_or(str::is_empty) {
                spec.hostname = Some(format!("{name}-{i}"));
            }
            let env = EnvVar {
                name: "JOB_COMPLETION_INDEX".into(),
                value: None,
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector {
                        api_version: None,
                        field_path: format!("metadata.annotations['{COMPLETION_INDEX}']"),
                    }),
                    ..Default::default()
                }),
            };
            for c in spec
                .containers
                .iter_mut()
                .chain(spec.init_containers.iter_mut().flatten())
            {
                let vars = c.env.get_or_insert_with(Vec::new);
                if !vars.iter().any(|v| v.name == env.name) {
                    vars.push(env.clone());
                }
            }
        }
    }
    pod
}
