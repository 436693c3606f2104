//! The ControllerRevision for a DaemonSet's current template, and the hash its pods carry.

use super::Shared;
use crate::error::Result;
use crate::history::{self, Created, REVISION_HASH_LABEL};
use crate::informers::controlled_by;
use crate::pods::controller_ref;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use kube::api::PostParams;
use kube::Api;

impl Shared {
    /// The revision for the current template (created or renumbered as needed) and its hash;
    /// `None` after a hash collision (the collision count was bumped, a new sync follows).
    pub(super) async fn current_revision(
        &self,
        ds: &DaemonSet,
        namespace: &str,
    ) -> Result<Option<(ControllerRevision, String)>> {
        let uid = ds.metadata.uid.clone().unwrap_or_default();
        let name = ds.metadata.name.clone().unwrap_or_default();
        let template = ds
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
        let revision = match equal {
            Some(r) if r.revision >= next => (*r).clone(),
            Some(r) => history::renumber(&api, &r, next).await?,
            None => {
                let collisions = ds.status.as_ref().and_then(|s| s.collision_count);
                let hash = history::hash(&data, collisions);
                let mut labels = template
                    .metadata
                    .as_ref()
                    .and_then(|m| m.labels.clone())
                    .unwrap_or_default();
                labels.insert(REVISION_HASH_LABEL.into(), hash.clone());
                let owner = controller_ref("apps/v1", "DaemonSet", &ds.metadata);
                let new = history::new_revision(
                    history::revision_name(&name, &hash),
                    namespace,
                    labels,
                    owner,
                    data,
                    next,
                );
                match history::create(&api, new, &uid).await? {
                    Created::Ok(r) => *r,
                    Created::Collision => {
                        let mut updated = ds.clone();
                        let status = updated.status.get_or_insert_with(Default::default);
                        status.collision_count = Some(collisions.unwrap_or(0) + 1);
                        let sets: Api<DaemonSet> = Api::namespaced(self.client.clone(), namespace);
                        sets.replace_status(&name, &PostParams::default(), &updated)
                            .await?;
                        return Ok(None);
                    }
                }
            }
        };
        let hash = revision
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(REVISION_HASH_LABEL).cloned())
            .unwrap_or_else(|| {
                let n = revision.metadata.name.as_deref().unwrap_or_default();
                n.rsplit('-').next().unwrap_or_default().to_string()
            });
        Ok(Some((revision, hash)))
    }
}
