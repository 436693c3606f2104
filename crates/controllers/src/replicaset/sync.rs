//! One sync of a replicated owner: claim pods, create or delete to reach `replicas`, report
//! status.

use super::{Replicated, Shared, BURST};
use crate::error::Result;
use crate::informers::{CONTROLLER_INDEX, ORPHAN_INDEX};
use crate::{claim, pods};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::Api;
use serde_json::{json, Value};
use skiff_client::EventType;
use std::sync::Arc;
use std::time::Duration;

impl<K: Replicated> Shared<K> {
    /// Brings one owner's pods to its spec and writes its status.
    pub(super) async fn sync(&self, key: &str) -> Result<()> {
        let Some(owner) = self.owners.get(key) else {
            self.expectations.forget(key);
            return Ok(());
        };
        let meta = owner.meta();
        let ns = meta.namespace.clone().unwrap_or_default();
        let uid = meta.uid.clone().unwrap_or_default();
        let deleting = meta.deletion_timestamp.is_some();
        let claim = claim::claim(
            self.pods.by_index(CONTROLLER_INDEX, &uid),
            self.pods.by_index(ORPHAN_INDEX, &ns),
            &owner.selector(),
            deleting,
        );
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let oref = pods::controller_ref(K::API_VERSION, K::KIND, meta);
        for p in &claim.adopt {
            claim::adopt(&api, p.as_ref(), &oref).await?;
        }
        for p in &claim.release {
            claim::release(&api, p.as_ref(), &uid).await?;
        }
        let active: Vec<Arc<Pod>> = claim
            .claimed
            .into_iter()
            .filter(|p| pods::is_active(p))
            .collect();
        let mut failure = None;
        if !deleting && self.expectations.satisfied(key) {
            failure = self.manage(&owner, key, &api, &active).await;
        }
        self.write_status(&owner, key, &active, failure).await
    }

    /// Creates or deletes pods; returns the first creation error's message.
    async fn manage(
        &self,
        owner: &K,
        key: &str,
        api: &Api<Pod>,
        active: &[Arc<Pod>],
    ) -> Option<String> {
        let want = owner.replicas().max(0) as usize;
        if active.len() < want {
            let template = owner.template()?;
            let n = (want - active.len()).min(BURST);
            self.expectations.expect(key, n as i64, 0);
            let name = owner.meta().name.clone().unwrap_or_default();
            let ns = owner.meta().namespace.clone().unwrap_or_default();
            let oref = pods::controller_ref(K::API_VERSION, K::KIND, owner.meta());
            let pod = pods::from_template(template, &ns, &format!("{name}-"), oref);
            let pp = PostParams::default();
            let mut remaining = n;
            let mut batch = 1;
            while remaining > 0 {
                let b = batch.min(remaining);
                remaining -= b;
                let results =
                    futures::future::join_all((0..b).map(|_| api.create(&pp, &pod))).await;
                let mut error = None;
                for r in results {
                    match r {
                        Ok(p) => self.recorder.publish(
                            owner,
                            EventType::Normal,
                            "SuccessfulCreate",
                            format!("Created pod: {}", p.metadata.name.unwrap_or_default()),
                        ),
                        Err(e) => {
                            self.expectations.creation_observed(key);
                            let msg = match &e {
                                kube::Error::Api(s) => s.message.clone(),
                                e => e.to_string(),
                            };
                            self.recorder.publish(
                                owner,
                                EventType::Warning,
                                "FailedCreate",
                                format!("Error creating: {msg}"),
                            );
                            error.get_or_insert(msg);
                        }
                    }
                }
                if let Some(msg) = error {
                    for _ in 0..remaining {
                        self.expectations.creation_observed(key);
                    }
                    return Some(msg);
                }
                batch *= 2;
            }
        } else if active.len() > want {
            let mut victims: Vec<&Arc<Pod>> = active.iter().collect();
            victims.sort_by(|a, b| pods::deletion_order(a, b));
            victims.truncate((active.len() - want).min(BURST));
            self.expectations.expect(key, 0, victims.len() as i64);
            let results = futures::future::join_all(victims.iter().map(|p| {
                let dp = DeleteParams {
                    preconditions: Some(Preconditions {
                        uid: p.metadata.uid.clone(),
                        resource_version: None,
                    }),
                    ..Default::default()
                };
                let name = p.metadata.name.clone().unwrap_or_default();
                async move { (api.delete(&name, &dp).await, name) }
            }))
            .await;
            for (r, name) in results {
                match r {
                    Ok(_) => self.recorder.publish(
                        owner,
                        EventType::Normal,
                        "SuccessfulDelete",
                        format!("Deleted pod: {name}"),
                    ),
                    Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {
                        self.expectations.deletion_observed(key)
                    }
                    Err(e) => {
                        self.expectations.deletion_observed(key);
                        self.recorder.publish(
                            owner,
                            EventType::Warning,
                            "FailedDelete",
                            format!("Error deleting: {e}"),
                        );
                    }
                }
            }
        }
        None
    }

    async fn write_status(
        &self,
        owner: &K,
        key: &str,
        active: &[Arc<Pod>],
        failure: Option<String>,
    ) -> Result<()> {
        let now = Timestamp::now();
        let min_ready = owner.min_ready_seconds();
        let template_labels = owner
            .template()
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        let fully_labeled = active
            .iter()
            .filter(|p| {
                let labels = p.metadata.labels.as_ref();
                template_labels
                    .iter()
                    .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
            })
            .count();
        let ready = active.iter().filter(|p| pods::is_ready(p)).count();
        let available = active
            .iter()
            .filter(|p| pods::is_available(p, min_ready, now))
            .count();
        if ready > available && min_ready > 0 {
            self.queue
                .add_after(key.to_string(), Duration::from_secs(min_ready as u64));
        }
        let current = owner.status_json();
        let mut conditions: Vec<Value> = current
            .get("conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let had_failure = conditions.iter().any(|c| c["type"] == "ReplicaFailure");
        match &failure {
            Some(msg) => {
                conditions.retain(|c| c["type"] != "ReplicaFailure");
                conditions.push(json!({
                    "type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                    "message": msg, "lastTransitionTime": now.to_string(),
                }));
            }
            None if had_failure && active.len() == owner.replicas().max(0) as usize => {
                conditions.retain(|c| c["type"] != "ReplicaFailure");
            }
            None => {}
        }
        let opt = |n: usize| if n == 0 { Value::Null } else { json!(n) };
        let wanted = json!({
            "replicas": active.len(),
            "fullyLabeledReplicas": opt(fully_labeled),
            "readyReplicas": opt(ready),
            "availableReplicas": opt(available),
            "observedGeneration": owner.meta().generation,
            "conditions": if conditions.is_empty() { Value::Null } else { json!(conditions) },
        });
        if same_status(&current, &wanted) {
            return Ok(());
        }
        let api: Api<K> = Api::namespaced(
            self.client.clone(),
            owner.meta().namespace.as_deref().unwrap_or_default(),
        );
        let name = owner.meta().name.clone().unwrap_or_default();
        match api
            .patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(&json!({ "status": wanted })),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether `current` already says what `wanted` (nulls meaning absent) says.
fn same_status(current: &Value, wanted: &Value) -> bool {
    let Some(w) = wanted.as_object() else {
        return false;
    };
    w.iter().all(|(k, v)| {
        let c = current.get(k).unwrap_or(&Value::Null);
        match (c, v) {
            (Value::Number(a), Value::Number(b)) => a.as_i64() == b.as_i64(),
            (Value::Number(a), Value::Null) => a.as_i64() == Some(0),
            _ => c == v,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_counts_equal_absent_ones() {
        let current = json!({"replicas": 2, "readyReplicas": 0, "observedGeneration": 3});
        let wanted = json!({"replicas": 2, "readyReplicas": null, "observedGeneration": 3, "conditions": null});
        assert!(same_status(&current, &wanted));
        let wanted = json!({"replicas": 3, "readyReplicas": null, "observedGeneration": 3});
        assert!(!same_status(&current, &wanted));
    }
}
