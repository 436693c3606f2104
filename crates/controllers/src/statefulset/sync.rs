//! One StatefulSet sync: claim pods, resolve current and update revisions, carry out the
//! planned steps (claims before pods), prune history and write status.

use super::identity::{
    self, claim_owner, claims, new_pod, ordinal_of, retention, POD_INDEX_LABEL, POD_NAME_LABEL,
};
use super::plan::{self, Action};
use super::revisions::template_of;
use super::Shared;
use crate::claim;
use crate::error::Result;
use crate::history;
use crate::informers::{controlled_by, ORPHAN_INDEX};
use crate::pods::controller_ref;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::json;
use skiff_client::{split_key, EventType};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

impl Shared {
    /// Syncs the StatefulSet under `key`.
    pub(super) async fn sync(&self, key: &str) -> Result<()> {
        let Some(set) = self.sets.get(key) else {
            self.expectations.forget(key);
            return Ok(());
        };
        if set.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        let (namespace, name) = split_key(key);
        let pods_api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let uid = set.metadata.uid.clone().unwrap_or_default();
        let selector = set
            .spec
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default();
        let owned = controlled_by(&self.pods, &uid);
        let orphans = self.pods.by_index(ORPHAN_INDEX, namespace);
        let claimed = claim::claim(owned, orphans, &selector, false);
        let owner = controller_ref("apps/v1", "StatefulSet", &set.metadata);
        for p in &claimed.adopt {
            claim::adopt(&pods_api, p.as_ref(), &owner).await?;
        }
        for p in &claimed.release {
            claim::release(&pods_api, p.as_ref(), &uid).await?;
        }
        let pods: BTreeMap<i32, Arc<Pod>> = claimed
            .claimed
            .iter()
            .filter_map(|p| Some((ordinal_of(&set, p)?, p.clone())))
            .collect();
        let Some((current, update)) = self.revisions_for(&set, namespace).await? else {
            return Ok(());
        };
        let current_name = current.metadata.name.clone().unwrap_or_default();
        let update_name = update.metadata.name.clone().unwrap_or_default();
        let now = Timestamp::now();
        if self.expectations.satisfied(key) {
            let plan = plan::plan(&set, &pods, &current_name, &update_name, now);
            for action in &plan.actions {
                self.act(key, &set, &pods_api, action, &current, &update)
                    .await?;
            }
            if let Some(wait) = plan.requeue {
                self.queue.add_after(key.to_string(), wait);
            }
        }
        let live: HashSet<String> = pods
            .values()
            .filter_map(|p| identity::revision_of(p).map(str::to_string))
            .chain([current_name.clone()])
            .collect();
        let limit = set
            .spec
            .as_ref()
            .and_then(|s| s.revision_history_limit)
            .unwrap_or(10);
        let revisions = controlled_by(&self.revisions, &uid);
        let revisions_api: Api<ControllerRevision> =
            Api::namespaced(self.client.clone(), namespace);
        history::prune(
            &revisions_api,
            history::to_prune(&revisions, &live, &update_name, limit),
        )
        .await?;

        let status = plan::status(&set, &pods, &current_name, &update_name, now);
        if set.status.as_ref() != Some(&status) {
            let mut updated = (*set).clone();
            updated.status = Some(status);
            let api: Api<StatefulSet> = Api::namespaced(self.client.clone(), namespace);
            api.replace_status(name, &PostParams::default(), &updated)
                .await?;
        }
        Ok(())
    }

    /// Carries out one planned step.
    async fn act(
        &self,
        key: &str,
        set: &StatefulSet,
        api: &Api<Pod>,
        action: &Action,
        current: &ControllerRevision,
        update: &ControllerRevision,
    ) -> Result<()> {
        match action {
            Action::Create {
                ordinal,
                update: to_update,
            } => {
                self.ensure_claims(set, *ordinal).await?;
                let revision = if *to_update { update } else { current };
                let template = template_of(revision)
                    .or_else(|| set.spec.as_ref().map(|s| s.template.clone()))
                    .unwrap_or_default();
                let rev_name = revision.metadata.name.clone().unwrap_or_default();
                let pod = new_pod(set, &template, &rev_name, *ordinal);
                let pod_name = pod.metadata.name.clone().unwrap_or_default();
                self.expectations.expect(key, 1, 0);
                match api.create(&PostParams::default(), &pod).await {
                    Ok(_) => self.event(
                        set,
                        EventType::Normal,
                        "SuccessfulCreate",
                        format!(
                            "create Pod {pod_name} in StatefulSet {} successful",
                            identity::set_name(set)
                        ),
                    ),
                    Err(e) => {
                        self.expectations.creation_observed(key);
                        self.event(
                            set,
                            EventType::Warning,
                            "FailedCreate",
                            format!(
                                "create Pod {pod_name} in StatefulSet {} failed error: {e}",
                                identity::set_name(set)
                            ),
                        );
                        return Err(e.into());
                    }
                }
            }
            Action::Delete { pod, scaled } => {
                if *scaled && retention(set).1 == "Delete" {
                    self.claims_owned_by_pod(set, pod).await?;
                }
                let pod_name = pod.metadata.name.clone().unwrap_or_default();
                self.expectations.expect(key, 0, 1);
                match api.delete(&pod_name, &DeleteParams::default()).await {
                    Ok(_) => self.event(
                        set,
                        EventType::Normal,
                        "SuccessfulDelete",
                        format!(
                            "delete Pod {pod_name} in StatefulSet {} successful",
                            identity::set_name(set)
                        ),
                    ),
                    Err(kube::Error::Api(e)) if e.code == 404 => {
                        self.expectations.deletion_observed(key)
                    }
                    Err(e) => {
                        self.expectations.deletion_observed(key);
                        self.event(
                            set,
                            EventType::Warning,
                            "FailedDelete",
                            format!(
                                "delete Pod {pod_name} in StatefulSet {} failed error: {e}",
                                identity::set_name(set)
                            ),
                        );
                        return Err(e.into());
                    }
                }
            }
            Action::Relabel { pod, ordinal } => {
                let pod_name = pod.metadata.name.clone().unwrap_or_default();
                let patch = json!({"metadata": {"labels": {POD_NAME_LABEL: pod_name, POD_INDEX_LABEL: ordinal.to_string()}}});
                api.patch(&pod_name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await?;
            }
            Action::Claims { ordinal } => self.ensure_claims(set, *ordinal).await?,
        }
        Ok(())
    }

    fn event(&self, set: &StatefulSet, kind: EventType, reason: &str, message: String) {
        self.recorder.publish(set, kind, reason, message);
    }

    /// Creates the claims of pod `ordinal` that do not exist yet.
    async fn ensure_claims(&self, set: &StatefulSet, ordinal: i32) -> Result<()> {
        let namespace = set.metadata.namespace.clone().unwrap_or_default();
        let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), &namespace);
        for (_, mut claim) in claims(set, ordinal) {
            let name = claim.metadata.name.clone().unwrap_or_default();
            if self.claims.get_in(&namespace, &name).is_some() {
                continue;
            }
            if retention(set).0 == "Delete" {
                claim.metadata.owner_references =
                    Some(vec![claim_owner("apps/v1", "StatefulSet", &set.metadata)]);
            }
            match api.create(&PostParams::default(), &claim).await {
                Ok(_) => self.event(
                    set,
                    EventType::Normal,
                    "SuccessfulCreate",
                    format!(
                        "create Claim {name} Pod {} in StatefulSet {} success",
                        identity::pod_name(set, ordinal),
                        identity::set_name(set)
                    ),
                ),
                Err(kube::Error::Api(e)) if e.code == 409 => {}
                Err(e) => {
                    self.event(
                        set,
                        EventType::Warning,
                        "FailedCreate",
                        format!(
                            "create Claim {name} for Pod {} in StatefulSet {} failed error: {e}",
                            identity::pod_name(set, ordinal),
                            identity::set_name(set)
                        ),
                    );
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }

    /// Makes a condemned pod the owner of its claims (`whenScaled: Delete`), so they go with it.
    async fn claims_owned_by_pod(&self, set: &StatefulSet, pod: &Pod) -> Result<()> {
        let namespace = set.metadata.namespace.clone().unwrap_or_default();
        let Some(ordinal) = ordinal_of(set, pod) else {
            return Ok(());
        };
        let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), &namespace);
        let pod_ref = claim_owner("v1", "Pod", &pod.metadata);
        for (_, claim) in claims(set, ordinal) {
            let name = claim.metadata.name.clone().unwrap_or_default();
            let Some(stored) = self.claims.get_in(&namespace, &name) else {
                continue;
            };
            let mut refs = stored.metadata.owner_references.clone().unwrap_or_default();
            if refs.iter().any(|r| r.uid == pod_ref.uid) {
                continue;
            }
            refs.push(pod_ref.clone());
            let patch = json!({"metadata": {"ownerReferences": refs}});
            api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        Ok(())
    }
}
