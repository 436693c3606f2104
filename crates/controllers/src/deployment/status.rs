//! Deployment status: replica counters and the Available / Progressing / ReplicaFailure
//! conditions, with progress deadlines.

use super::{util, Shared};
use crate::error::Result;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::Api;
use serde_json::{json, Value};
use std::time::Duration;

/// Whether every replica is updated and available for the current generation.
pub(super) fn is_complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let want = util::replicas(d);
    s.updated_replicas.unwrap_or(0) == want
        && s.replicas.unwrap_or(0) == want
        && s.available_replicas.unwrap_or(0) == want
        && s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

fn progressed(old: &DeploymentStatus, new: &DeploymentStatus) -> bool {
    let n = |v: Option<i32>| v.unwrap_or(0);
    let old_old = n(old.replicas) - n(old.updated_replicas);
    let new_old = n(new.replicas) - n(new.updated_replicas);
    n(new.updated_replicas) > n(old.updated_replicas)
        || new_old < old_old
        || n(new.ready_replicas) > n(old.ready_replicas)
        || n(new.available_replicas) > n(old.available_replicas)
}

fn condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: Timestamp,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_transition_time: Some(Time(now)),
        last_update_time: Some(Time(now)),
    }
}

/// Sets a condition as upstream does: unchanged if status and reason match, keeping the
/// transition time when only the reason changes.
fn set(conditions: &mut Vec<DeploymentCondition>, mut c: DeploymentCondition) {
    if let Some(cur) = conditions.iter().find(|x| x.type_ == c.type_) {
        if cur.status == c.status && cur.reason == c.reason {
            return;
        }
        if cur.status == c.status {
            c.last_transition_time = cur.last_transition_time.clone();
        }
    }
    conditions.retain(|x| x.type_ != c.type_);
    conditions.push(c);
}

/// Drops zero counters so "absent" and "0" compare equal.
fn normalized(s: &DeploymentStatus) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.retain(|_, x| x.as_i64() != Some(0) && !x.is_null());
    }
    v
}

impl Shared {
    /// Counters from the ReplicaSets (upstream's calculateStatus).
    pub(super) fn calculate_status(
        &self,
        d: &Deployment,
        rss: &[ReplicaSet],
        new: Option<usize>,
    ) -> DeploymentStatus {
        let st = |r: &ReplicaSet| r.status.clone().unwrap_or_default();
        let total: i32 = rss.iter().map(util::rs_replicas).sum();
        let available: i32 = rss.iter().map(util::rs_available).sum();
        DeploymentStatus {
            observed_generation: d.metadata.generation,
            replicas: Some(rss.iter().map(|r| st(r).replicas).sum()),
            updated_replicas: Some(new.map(|i| st(&rss[i]).replicas).unwrap_or(0)),
            ready_replicas: Some(rss.iter().map(|r| st(r).ready_replicas.unwrap_or(0)).sum()),
            available_replicas: Some(available),
            unavailable_replicas: Some((total - available).max(0)),
            collision_count: d.status.as_ref().and_then(|s| s.collision_count),
            conditions: d.status.as_ref().and_then(|s| s.conditions.clone()),
            terminating_replicas: None,
        }
    }

    /// Computes status and conditions, writes them if changed, and schedules the deadline check.
    pub(super) async fn write_status(
        &self,
        d: &Deployment,
        rss: &[ReplicaSet],
        new: Option<usize>,
        key: &str,
    ) -> Result<()> {
        let now = Timestamp::now();
        let mut status = self.calculate_status(d, rss, new);
        let mut conditions = status.conditions.take().unwrap_or_default();
        let want = util::replicas(d);
        let max_unavailable = if util::is_recreate(d) {
            0
        } else {
            util::surge_and_unavailable(d).1
        };
        if status.available_replicas.unwrap_or(0) >= want - max_unavailable {
            set(
                &mut conditions,
                condition(
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.".into(),
                    now,
                ),
            );
        } else {
            set(
                &mut conditions,
                condition(
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.".into(),
                    now,
                ),
            );
        }
        let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        let deadline = d
            .spec
            .as_ref()
            .and_then(|s| s.progress_deadline_seconds)
            .unwrap_or(600);
        let rs_name = new
            .and_then(|i| rss[i].metadata.name.clone())
            .unwrap_or_default();
        let current = conditions
            .iter()
            .find(|c| c.type_ == "Progressing")
            .cloned();
        let mut recheck = None;
        if paused {
            set(
                &mut conditions,
                condition(
                    "Progressing",
                    "Unknown",
                    "DeploymentPaused",
                    "Deployment is paused".into(),
                    now,
                ),
            );
        } else if current.as_ref().and_then(|c| c.reason.as_deref()) == Some("DeploymentPaused") {
            set(
                &mut conditions,
                condition(
                    "Progressing",
                    "Unknown",
                    "DeploymentResumed",
                    "Deployment is resumed".into(),
                    now,
                ),
            );
        } else if new.is_some() {
            let complete_already = status.replicas == status.updated_replicas
                && current.as_ref().and_then(|c| c.reason.as_deref())
                    == Some("NewReplicaSetAvailable");
            let old = d.status.clone().unwrap_or_default();
            if current.is_none() {
                set(
                    &mut conditions,
                    condition(
                        "Progressing",
                        "True",
                        "NewReplicaSetCreated",
                        format!("Created new replica set \"{rs_name}\""),
                        now,
                    ),
                );
            }
            if !complete_already {
                if is_complete(d, &status) {
                    set(
                        &mut conditions,
                        condition(
                            "Progressing",
                            "True",
                            "NewReplicaSetAvailable",
                            format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
                            now,
                        ),
                    );
                } else if progressed(&old, &status) {
                    let mut c = condition(
                        "Progressing",
                        "True",
                        "ReplicaSetUpdated",
                        format!("ReplicaSet \"{rs_name}\" is progressing."),
                        now,
                    );
                    if let Some(cur) = current.as_ref().filter(|c| c.status == "True") {
                        c.last_transition_time = cur.last_transition_time.clone();
                    }
                    conditions.retain(|x| x.type_ != "Progressing");
                    conditions.push(c);
                    recheck = Some(deadline);
                } else if let Some(cur) = current.as_ref().filter(|c| c.status == "True") {
                    let since = cur
                        .last_update_time
                        .as_ref()
                        .map(|t| t.0.as_second())
                        .unwrap_or(0);
                    let left = since + i64::from(deadline) - now.as_second();
                    if left < 0 {
                        set(
                            &mut conditions,
                            condition(
                                "Progressing",
                                "False",
                                "ProgressDeadlineExceeded",
                                format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
                                now,
                            ),
                        );
                    } else {
                        recheck = Some(left as i32);
                    }
                }
            }
        }
        let failure = new.and_then(|i| {
            rss[i]
                .status
                .as_ref()?
                .conditions
                .as_ref()?
                .iter()
                .find(|c| c.type_ == "ReplicaFailure" && c.status == "True")
                .cloned()
        });
        match failure {
            Some(f) => set(
                &mut conditions,
                condition(
                    "ReplicaFailure",
                    "True",
                    f.reason.as_deref().unwrap_or("FailedCreate"),
                    f.message.unwrap_or_default(),
                    now,
                ),
            ),
            None => conditions.retain(|c| c.type_ != "ReplicaFailure"),
        }
        status.conditions = Some(conditions);
        if let Some(secs) = recheck {
            self.queue
                .add_after(key.to_string(), Duration::from_secs(secs.max(0) as u64 + 1));
        }
        let before = d.status.clone().unwrap_or_default();
        if normalized(&before) == normalized(&status) {
            return Ok(());
        }
        let api: Api<Deployment> = Api::namespaced(
            self.client.clone(),
            d.metadata.namespace.as_deref().unwrap_or_default(),
        );
        let mut body = serde_json::to_value(&status).unwrap_or_default();
        if let Some(m) = body.as_object_mut() {
            m.entry("collisionCount").or_insert(Value::Null);
        }
        match api
            .patch_status(
                d.metadata.name.as_deref().unwrap_or_default(),
                &PatchParams::default(),
                &Patch::Merge(&json!({ "status": body })),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
