//! The current and update ControllerRevisions of a StatefulSet and the templates they hold.

use super::identity;
use super::Shared;
use crate::error::Result;
use crate::history::{self, Created, REVISION_HASH_LABEL};
use crate::informers::controlled_by;
use crate::pods::controller_ref;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::api::PostParams;
use kube::Api;

/// The template a revision holds.
pub(super) fn template_of(revision: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut t = history::data_of(revision)?
        .pointer("/spec/template")?
        .clone();
    t.as_object_mut()?.remove("$patch");
    serde_json::from_value(t).ok()
}

impl Shared {
    /// The current and update revisions (the update one created or renumbered as needed);
    /// `None` after a hash collision (the collision count was bumped, a new sync follows).
    pub(super) async fn revisions_for(
        &self,
        set: &StatefulSet,
        namespace: &str,
    ) -> Result<Option<(ControllerRevision, ControllerRevision)>> {
        let uid = set.metadata.uid.clone().unwrap_or_default();
        let name = identity::set_name(set).to_string();
        let template = set
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let data = history::template_data(&template);
        let revisions = controlled_by(&self.revisions, &uid);
        let api: Api<ControllerRevision> = Api::namespaced(self.client.clone(), namespace);
        let equal = history::find_equal(&revisions, &data);
        let others: Vec<_> = revisions
            .iter()
            .filter(|r| {
                equal
                    .as_ref()
                    .is_none_or(|e| e.metadata.name != r.metadata.name)
            })
            .cloned()
            .collect();
        let next = history::max_revision(&others) + 1;
        let update = match equal {
            Some(r) if r.revision >= next => (*r).clone(),
            Some(r) => history::renumber(&api, &r, next).await?,
            None => {
                let collisions = set.status.as_ref().and_then(|s| s.collision_count);
                let revision_name =
                    history::revision_name(&name, &history::hash(&data, collisions));
                let mut labels = template
                    .metadata
                    .as_ref()
                    .and_then(|m| m.labels.clone())
                    .unwrap_or_default();
                labels.insert(REVISION_HASH_LABEL.into(), revision_name.clone());
                let owner = controller_ref("apps/v1", "StatefulSet", &set.metadata);
                let new =
                    history::new_revision(revision_name, namespace, labels, owner, data, next);
                match history::create(&api, new, &uid).await? {
                    Created::Ok(r) => *r,
                    Created::Collision => {
                        let mut updated = set.clone();
                        let status = updated.status.get_or_insert_with(Default::default);
                        status.collision_count = Some(collisions.unwrap_or(0) + 1);
                        let sets: Api<StatefulSet> =
                            Api::namespaced(self.client.clone(), namespace);
                        sets.replace_status(&name, &PostParams::default(), &updated)
                            .await?;
                        return Ok(None);
                    }
                }
            }
        };
        let current_name = set.status.as_ref().and_then(|s| s.current_revision.clone());
        let current = current_name
            .and_then(|n| {
                revisions
                    .iter()
                    .find(|r| r.metadata.name.as_deref() == Some(n.as_str()))
                    .map(|r| (**r).clone())
            })
            .unwrap_or_else(|| update.clone());
        Ok(Some((current, update)))
    }
}
