//! Letting go of pods and Jobs: removing the tracking finalizer, and deleting finished Jobs
//! once `ttlSecondsAfterFinished` has passed.

use super::conditions::expiry;
use super::tracking::{has_finalizer, TRACKING_FINALIZER};
use super::Shared;
use crate::error::Result;
use crate::informers::{controller_key, controller_uid};
use crate::pods::is_active;
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use kube::Api;
use serde_json::json;
use skiff_client::split_key;
use std::time::Duration;

/// Removes the tracking finalizer; `Ok(false)` when the pod is already gone.
pub(super) async fn release_pod(api: &Api<Pod>, pod: &Pod) -> Result<bool> {
    let patch = json!({"metadata": {
        "$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER],
        "uid": pod.metadata.uid,
    }});
    match api
        .patch(
            pod.metadata.name.as_deref().unwrap_or_default(),
            &PatchParams::default(),
            &Patch::Strategic(&patch),
        )
        .await
    {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
        Err(e) => Err(e.into()),
    }
}

impl Shared {
    /// Deletes a finished Job whose `ttlSecondsAfterFinished` has passed, or waits for it.
    pub(super) async fn expire(&self, job: &Job, key: &str, name: &str) -> Result<()> {
        let Some(at) = expiry(job) else { return Ok(()) };
        let left = at.as_millisecond() - Timestamp::now().as_millisecond();
        if left > 0 {
            self.queue
                .add_after(key.to_string(), Duration::from_millis(left as u64 + 100));
            return Ok(());
        }
        let api: Api<Job> = Api::namespaced(
            self.client.clone(),
            job.metadata.namespace.as_deref().unwrap_or_default(),
        );
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: job.metadata.uid.clone(),
                resource_version: None,
            }),
            ..DeleteParams::background()
        };
        match api.delete(name, &params).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
    /// Removes the tracking finalizer from a pod whose Job is gone.
    pub(super) async fn release_orphan(&self, pod_key: &str) -> Result<()> {
        let Some(pod) = self.pods.get(pod_key) else {
            return Ok(());
        };
        if !has_finalizer(&pod) {
            return Ok(());
        }
        let owner = controller_key(&pod.metadata, "Job").and_then(|k| self.jobs.get(&k));
        let owned =
            owner.is_some_and(|j| j.metadata.uid.as_deref() == controller_uid(&pod.metadata));
        let orphan_terminated = controller_uid(&pod.metadata).is_none() && (!is_active(&pod));
        if owned || (controller_uid(&pod.metadata).is_none() && !orphan_terminated) {
            return Ok(());
        }
        let (namespace, _) = split_key(pod_key);
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        release_pod(&api, &pod).await.map(|_| ())
    }
}
