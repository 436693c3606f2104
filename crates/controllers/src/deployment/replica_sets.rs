//! A Deployment's ReplicaSets: claiming, finding or creating the new one, scaling, and
//! trimming history.

use super::util::{
    self, DESIRED_REPLICAS, MAX_REPLICAS, POD_TEMPLATE_HASH, REVISION, REVISION_HISTORY,
};
use super::Shared;
use crate::claim;
use crate::error::Result;
use crate::informers::{CONTROLLER_INDEX, ORPHAN_INDEX};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::Api;
use serde_json::json;
use skiff_client::EventType;
use std::sync::Arc;

impl Shared {
    fn rs_api(&self, ns: &str) -> Api<ReplicaSet> {
        Api::namespaced(self.client.clone(), ns)
    }

    /// The ReplicaSets `d` controls after adopting matching orphans and releasing strays.
    pub(super) async fn claim_replica_sets(&self, d: &Deployment) -> Result<Vec<ReplicaSet>> {
        let ns = d.metadata.namespace.as_deref().unwrap_or_default();
        let uid = d.metadata.uid.as_deref().unwrap_or_default();
        let selector = d
            .spec
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default();
        let c = claim::claim(
            self.replica_sets.by_index(CONTROLLER_INDEX, uid),
            self.replica_sets.by_index(ORPHAN_INDEX, ns),
            &selector,
            d.metadata.deletion_timestamp.is_some(),
        );
        let api = self.rs_api(ns);
        let oref = crate::pods::controller_ref("apps/v1", "Deployment", &d.metadata);
        for rs in &c.adopt {
            claim::adopt(&api, rs.as_ref(), &oref).await?;
        }
        for rs in &c.release {
            claim::release(&api, rs.as_ref(), uid).await?;
        }
        Ok(c.claimed.into_iter().map(Arc::unwrap_or_clone).collect())
    }

    /// Finds the ReplicaSet running `d`'s current template (the oldest, if several do); when
    /// `create`, makes one if none does. Brings its revision annotations up to date.
    pub(super) async fn new_replica_set(
        &self,
        d: &Deployment,
        rss: &mut Vec<ReplicaSet>,
        create: bool,
    ) -> Result<Option<usize>> {
        let Some(template) = d.spec.as_ref().map(|s| &s.template) else {
            return Ok(None);
        };
        let mut found: Option<usize> = None;
        for (i, rs) in rss.iter().enumerate() {
            let same = rs
                .spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .is_some_and(|t| util::equal_ignoring_hash(t, template));
            let older = |j: usize| {
                rss[j].metadata.creation_timestamp.as_ref().map(|t| t.0)
                    > rs.metadata.creation_timestamp.as_ref().map(|t| t.0)
            };
            if same && found.is_none_or(older) {
                found = Some(i);
            }
        }
        let max_old = rss
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != found)
            .map(|(_, r)| util::revision(&r.metadata))
            .max()
            .unwrap_or(0);
        let new_revision = (max_old + 1).to_string();
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        if let Some(i) = found {
            let rs = &rss[i];
            let annotations = rs.metadata.annotations.clone().unwrap_or_default();
            let current = util::revision(&rs.metadata);
            let min_ready = d.spec.as_ref().and_then(|s| s.min_ready_seconds);
            let rs_min_ready = rs.spec.as_ref().and_then(|s| s.min_ready_seconds);
            if current < max_old + 1 || min_ready.unwrap_or(0) != rs_min_ready.unwrap_or(0) {
                let mut patch = json!({"metadata": {"annotations": {REVISION: new_revision}}});
                if current > 0 && current < max_old + 1 {
                    let mut history: Vec<String> = annotations
                        .get(REVISION_HISTORY)
                        .map(|h| h.split(',').map(str::to_string).collect())
                        .unwrap_or_default();
                    history.push(current.to_string());
                    patch["metadata"]["annotations"][REVISION_HISTORY] = json!(history.join(","));
                }
                if min_ready.unwrap_or(0) != rs_min_ready.unwrap_or(0) {
                    patch["spec"] = json!({"minReadySeconds": min_ready});
                }
                let name = rs.metadata.name.clone().unwrap_or_default();
                rss[i] = self
                    .rs_api(&ns)
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await?;
            }
            self.set_deployment_revision(d, &util::revision(&rss[i].metadata).to_string())
                .await?;
            return Ok(Some(i));
        }
        if !create {
            return Ok(None);
        }
        let collision = d.status.as_ref().and_then(|s| s.collision_count);
        let hash = util::template_hash(template, collision);
        let mut template = template.clone();
        template
            .metadata
            .get_or_insert_with(Default::default)
            .labels
            .get_or_insert_with(Default::default)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector = d
            .spec
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default();
        selector
            .match_labels
            .get_or_insert_with(Default::default)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut annotations: std::collections::BTreeMap<String, String> = d
            .metadata
            .annotations
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| {
                k != "kubectl.kubernetes.io/last-applied-configuration"
                    && !k.starts_with("deployment.kubernetes.io/")
            })
            .collect();
        let (surge, _) = util::surge_and_unavailable(d);
        annotations.insert(REVISION.into(), new_revision.clone());
        annotations.insert(DESIRED_REPLICAS.into(), util::replicas(d).to_string());
        annotations.insert(MAX_REPLICAS.into(), (util::replicas(d) + surge).to_string());
        let name = format!("{}-{hash}", d.metadata.name.as_deref().unwrap_or_default());
        let replicas = super::rollout::new_rs_replicas(d, rss, 0);
        let rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(ns.clone()),
                labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
                annotations: Some(annotations),
                owner_references: Some(vec![crate::pods::controller_ref(
                    "apps/v1",
                    "Deployment",
                    &d.metadata,
                )]),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                min_ready_seconds: d.spec.as_ref().and_then(|s| s.min_ready_seconds),
                selector,
                template: Some(template),
            }),
            status: None,
        };
        let api = self.rs_api(&ns);
        let created = match api.create(&PostParams::default(), &rs).await {
            Ok(c) => c,
            Err(kube::Error::Api(s)) if s.code == 409 => {
                let existing = api.get(&name).await?;
                let ours = crate::informers::controller_uid(&existing.metadata)
                    == d.metadata.uid.as_deref();
                let same = existing
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .zip(d.spec.as_ref().map(|s| &s.template))
                    .is_some_and(|(a, b)| util::equal_ignoring_hash(a, b));
                if ours && same {
                    rss.push(existing);
                    return Ok(Some(rss.len() - 1));
                }
                let count = collision.unwrap_or(0) + 1;
                let dapi: Api<Deployment> = Api::namespaced(self.client.clone(), &ns);
                dapi.patch_status(
                    d.metadata.name.as_deref().unwrap_or_default(),
                    &PatchParams::default(),
                    &Patch::Merge(&json!({"status": {"collisionCount": count}})),
                )
                .await?;
                return Err(kube::Error::Api(s).into());
            }
            Err(e) => {
                self.recorder.publish(
                    d,
                    EventType::Warning,
                    "FailedCreate",
                    format!("Failed to create new replica set \"{name}\": {e}"),
                );
                return Err(e.into());
            }
        };
        if replicas > 0 {
            self.recorder.publish(
                d,
                EventType::Normal,
                "ScalingReplicaSet",
                format!("Scaled up replica set {name} from 0 to {replicas}"),
            );
        }
        self.set_deployment_revision(d, &new_revision).await?;
        rss.push(created);
        Ok(Some(rss.len() - 1))
    }

    async fn set_deployment_revision(&self, d: &Deployment, revision: &str) -> Result<()> {
        let current = d
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(REVISION));
        if current.map(String::as_str) == Some(revision) {
            return Ok(());
        }
        let api: Api<Deployment> = Api::namespaced(
            self.client.clone(),
            d.metadata.namespace.as_deref().unwrap_or_default(),
        );
        let patch = json!({"metadata": {"annotations": {REVISION: revision}}});
        api.patch(
            d.metadata.name.as_deref().unwrap_or_default(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
        Ok(())
    }

    /// Sets a ReplicaSet's replicas (and the scaling annotations); true if it changed.
    pub(super) async fn scale(&self, d: &Deployment, rs: &mut ReplicaSet, to: i32) -> Result<bool> {
        let from = util::rs_replicas(rs);
        let (surge, _) = util::surge_and_unavailable(d);
        let desired = util::replicas(d).to_string();
        let max = (util::replicas(d) + surge).to_string();
        let annotations = rs.metadata.annotations.clone().unwrap_or_default();
        let annotations_ok = annotations.get(DESIRED_REPLICAS) == Some(&desired)
            && annotations.get(MAX_REPLICAS) == Some(&max);
        if from == to && annotations_ok {
            return Ok(false);
        }
        let patch = json!({
            "metadata": {"annotations": {DESIRED_REPLICAS: desired, MAX_REPLICAS: max}},
            "spec": {"replicas": to},
        });
        let name = rs.metadata.name.clone().unwrap_or_default();
        *rs = self
            .rs_api(rs.metadata.namespace.as_deref().unwrap_or_default())
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        if from != to {
            let verb = if to > from { "up" } else { "down" };
            self.recorder.publish(
                d,
                EventType::Normal,
                "ScalingReplicaSet",
                format!("Scaled {verb} replica set {name} from {from} to {to}"),
            );
        }
        Ok(from != to)
    }

    /// Deletes the oldest scaled-down ReplicaSets beyond `revisionHistoryLimit`.
    pub(super) async fn cleanup(
        &self,
        d: &Deployment,
        rss: &[ReplicaSet],
        new: Option<usize>,
    ) -> Result<()> {
        let limit = d
            .spec
            .as_ref()
            .and_then(|s| s.revision_history_limit)
            .unwrap_or(10)
            .max(0) as usize;
        let mut idle: Vec<&ReplicaSet> = rss
            .iter()
            .enumerate()
            .filter(|(i, r)| {
                Some(*i) != new
                    && util::rs_replicas(r) == 0
                    && r.status.as_ref().map(|s| s.replicas).unwrap_or(0) == 0
                    && r.metadata.deletion_timestamp.is_none()
            })
            .map(|(_, r)| r)
            .collect();
        if idle.len() <= limit {
            return Ok(());
        }
        idle.sort_by_key(|r| util::revision(&r.metadata));
        let excess = idle.len() - limit;
        for rs in idle.into_iter().take(excess) {
            let dp = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: rs.metadata.uid.clone(),
                    resource_version: None,
                }),
                ..Default::default()
            };
            let name = rs.metadata.name.clone().unwrap_or_default();
            match self
                .rs_api(rs.metadata.namespace.as_deref().unwrap_or_default())
                .delete(&name, &dp)
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}
