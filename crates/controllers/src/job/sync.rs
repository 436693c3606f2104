//! One Job sync: claim pods, count terminated ones, decide failure or success, create and
//! delete pods, write status, and delete the Job once its TTL after finishing runs out.

use super::cleanup::release_pod;
use super::conditions::{
    apply_finish, backoff_left, failure, finished_condition, success, suspension,
};
use super::manage::{changes, new_pod};
use super::tracking::{self, has_finalizer, uncounted_len};
use super::{Backoff, Shared, ORPHAN_POD_PREFIX};
use crate::claim;
use crate::error::Result;
use crate::informers::{controlled_by, ORPHAN_INDEX};
use crate::pods::{controller_ref, is_active, is_ready};
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, PostParams};
use kube::Api;
use skiff_client::{split_key, EventType};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

fn name_of(pod: &Pod) -> String {
    pod.metadata.name.clone().unwrap_or_default()
}

impl Shared {
    /// Syncs the Job (or orphan pod) under `key`.
    pub(super) async fn sync(&self, key: &str) -> Result<()> {
        if let Some(pod_key) = key.strip_prefix(ORPHAN_POD_PREFIX) {
            return self.release_orphan(pod_key).await;
        }
        let Some(job) = self.jobs.get(key) else {
            self.expectations.forget(key);
            self.backoff.lock().remove(key);
            return Ok(());
        };
        let (namespace, name) = split_key(key);
        let pods_api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let uid = job.metadata.uid.clone().unwrap_or_default();
        let owned = controlled_by(&self.pods, &uid);
        if finished_condition(&job).is_some() {
            for pod in owned.iter().filter(|p| has_finalizer(p)) {
                release_pod(&pods_api, pod).await?;
            }
            return self.expire(&job, key, name).await;
        }
        let selector = job
            .spec
            .as_ref()
            .and_then(|s| s.selector.clone())
            .unwrap_or_default();
        let orphans = self.pods.by_index(ORPHAN_INDEX, namespace);
        let deleting = job.metadata.deletion_timestamp.is_some();
        let claimed = claim::claim(owned, orphans, &selector, deleting);
        let owner = controller_ref("batch/v1", "Job", &job.metadata);
        for p in &claimed.adopt {
            claim::adopt(&pods_api, p.as_ref(), &owner).await?;
        }
        for p in &claimed.release {
            claim::release(&pods_api, p.as_ref(), &uid).await?;
            if has_finalizer(p) {
                release_pod(&pods_api, p).await?;
            }
        }
        let pods = claimed.claimed;
        if deleting {
            for pod in pods.iter().filter(|p| has_finalizer(p)) {
                release_pod(&pods_api, pod).await?;
            }
            return Ok(());
        }
        self.sync_running(key, &job, &pods, &pods_api).await
    }

    async fn sync_running(
        &self,
        key: &str,
        job: &Job,
        pods: &[Arc<Pod>],
        pods_api: &Api<Pod>,
    ) -> Result<()> {
        let (namespace, name) = split_key(key);
        let jobs_api: Api<Job> = Api::namespaced(self.client.clone(), namespace);
        let now = Timestamp::now();
        let mut current = job.clone();
        let mut status = job.status.clone().unwrap_or_default();
        let prior = (status.succeeded.unwrap_or(0), status.failed.unwrap_or(0));
        let suspended = job.spec.as_ref().and_then(|s| s.suspend) == Some(true);
        if status.start_time.is_none() && !suspended {
            status.start_time = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now));
        }

        // Count terminated pods: record, release, flush.
        let before = status.uncounted_terminated_pods.clone();
        let release = tracking::record(job, pods, &mut status, false);
        if status.uncounted_terminated_pods != before && uncounted_len(&status) > 0 {
            current.status = Some(status.clone());
            current = jobs_api
                .replace_status(name, &PostParams::default(), &current)
                .await?;
        }
        let mut released = HashSet::new();
        for pod in &release {
            release_pod(pods_api, pod).await?;
            released.insert(pod.metadata.uid.clone().unwrap_or_default());
        }
        tracking::flush(&mut status, pods, &released);
        let (succeeded, failed) = (status.succeeded.unwrap_or(0), status.failed.unwrap_or(0));
        let backoff = self.note_backoff(key, succeeded > prior.0, failed - prior.1, now);

        let active: Vec<Arc<Pod>> = pods.iter().filter(|p| is_active(p)).cloned().collect();
        let terminating: Vec<Arc<Pod>> = pods
            .iter()
            .filter(|p| {
                p.metadata.deletion_timestamp.is_some()
                    && !matches!(tracking::phase(p), "Succeeded" | "Failed")
            })
            .cloned()
            .collect();
        let (failed_finish, deadline) = failure(job, &status, prior.1, &active, now);
        let mut requeue = deadline;
        let mut active_count = active.len();
        let mut removed = 0;
        let finish = match failed_finish {
            Some(f) => {
                removed += self.delete_pods(job, pods_api, &active).await?;
                active_count = 0;
                Some(f)
            }
            None => {
                if self.expectations.satisfied(key) {
                    let plan = changes(job, &status, &active, &terminating);
                    removed += self.delete_pods(job, pods_api, &plan.delete).await?;
                    active_count -= plan.delete.len();
                    match backoff_left(backoff.failures, backoff.last, now) {
                        Some(wait) if !plan.create.is_empty() => {
                            requeue = Some(requeue.map_or(wait, |r| r.min(wait)))
                        }
                        _ => {
                            active_count +=
                                self.create_pods(key, job, pods_api, &plan.create).await?
                        }
                    }
                    if let Some((reason, message)) = suspension(&mut status, suspended, now) {
                        self.recorder
                            .publish(job, EventType::Normal, reason, message.to_string());
                    }
                }
                success(job, &status, active_count)
            }
        };
        status.active = Some(i32::try_from(active_count).unwrap_or(i32::MAX));
        status.ready = Some(
            active
                .iter()
                .filter(|p| is_ready(p))
                .count()
                .min(active_count) as i32,
        );
        status.terminating = Some(i32::try_from(terminating.len() + removed).unwrap_or(i32::MAX));
        if let Some(f) = &finish {
            let settled = terminating.is_empty()
                && removed == 0
                && uncounted_len(&status) == 0
                && active_count == 0;
            if apply_finish(&mut status, f, settled, now) {
                if f.complete {
                    self.recorder.publish(
                        job,
                        EventType::Normal,
                        "Completed",
                        "Job completed".into(),
                    );
                } else {
                    self.recorder
                        .publish(job, EventType::Warning, &f.reason, f.message.clone());
                }
            }
        }
        if current.status.as_ref() != Some(&status) {
            current.status = Some(status);
            jobs_api
                .replace_status(name, &PostParams::default(), &current)
                .await?;
        }
        if let Some(wait) = requeue {
            self.queue
                .add_after(key.to_string(), wait + Duration::from_millis(100));
        }
        Ok(())
    }

    /// Updates the failure streak of the Job under `key` and returns it.
    fn note_backoff(&self, key: &str, success: bool, new_failures: i32, now: Timestamp) -> Backoff {
        let mut map = self.backoff.lock();
        let b = map.entry(key.to_string()).or_default();
        if success {
            *b = Backoff::default();
        }
        if new_failures > 0 {
            b.failures = b.failures.saturating_add(new_failures as u32);
            b.last = Some(now);
        }
        *b
    }

    async fn delete_pods(&self, job: &Job, api: &Api<Pod>, pods: &[Arc<Pod>]) -> Result<usize> {
        let key = skiff_client::key_of(&job.metadata);
        let pods: Vec<_> = pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .collect();
        if pods.is_empty() {
            return Ok(0);
        }
        self.expectations.expect(&key, 0, pods.len() as i64);
        let mut deleted = 0;
        for pod in pods {
            let name = name_of(pod);
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => {
                    deleted += 1;
                    self.recorder.publish(
                        job,
                        EventType::Normal,
                        "SuccessfulDelete",
                        format!("Deleted pod: {name}"),
                    );
                }
                Err(kube::Error::Api(e)) if e.code == 404 => {
                    self.expectations.deletion_observed(&key)
                }
                Err(e) => {
                    self.expectations.deletion_observed(&key);
                    self.recorder.publish(
                        job,
                        EventType::Warning,
                        "FailedDelete",
                        format!("Error deleting: {e}"),
                    );
                    return Err(e.into());
                }
            }
        }
        Ok(deleted)
    }

    /// Creates pods in doubling batches (slow start); returns how many were created.
    async fn create_pods(
        &self,
        key: &str,
        job: &Job,
        api: &Api<Pod>,
        slots: &[Option<i32>],
    ) -> Result<usize> {
        if slots.is_empty() {
            return Ok(0);
        }
        self.expectations.expect(key, slots.len() as i64, 0);
        let (mut created, mut batch, mut rest) = (0, 1usize, slots);
        while !rest.is_empty() {
            let (now, later) = rest.split_at(batch.min(rest.len()));
            let results = futures::future::join_all(now.iter().map(|slot| {
                let pod = new_pod(job, *slot);
                async move { api.create(&PostParams::default(), &pod).await }
            }))
            .await;
            let mut error = None;
            for r in results {
                match r {
                    Ok(pod) => {
                        created += 1;
                        self.recorder.publish(
                            job,
                            EventType::Normal,
                            "SuccessfulCreate",
                            format!("Created pod: {}", name_of(&pod)),
                        );
                    }
                    Err(e) => {
                        self.expectations.creation_observed(key);
                        self.recorder.publish(
                            job,
                            EventType::Warning,
                            "FailedCreate",
                            format!("Error creating: {e}"),
                        );
                        error = Some(e);
                    }
                }
            }
            if let Some(e) = error {
                for _ in later {
                    self.expectations.creation_observed(key);
                }
                return Err(e.into());
            }
            rest = later;
            batch *= 2;
        }
        Ok(created)
    }
}
