//! Routes pod changes to the queue of the workload that owns (or may adopt) the pod, and
//! marks the owner's expected creations and deletions as observed.

use crate::expectations::Expectations;
use crate::informers::{controller_key, controller_uid};
use crate::selector;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::Resource;
use skiff_client::{key_of, Change, Informer, Store, WorkQueue};
use std::sync::Arc;

/// How pod changes reach one kind of owner.
pub struct PodRouter<K> {
    /// The owner kind (`DaemonSet`, `StatefulSet`, `Job`).
    pub kind: &'static str,
    /// The owners.
    pub owners: Store<K>,
    /// The owners' work queue.
    pub queue: WorkQueue<String>,
    /// The owners' expectations.
    pub expectations: Arc<Expectations>,
    /// The owner's pod selector.
    pub selector: fn(&K) -> Option<LabelSelector>,
}

impl<K: Resource<DynamicType = ()> + Send + Sync + 'static> PodRouter<K> {
    /// The key of the owner controlling `pod`, if it is a live `kind` with the referenced uid.
    fn owner(&self, pod: &Pod) -> Option<String> {
        let key = controller_key(&pod.metadata, self.kind)?;
        let owner = self.owners.get(&key)?;
        (owner.meta().uid.as_deref() == controller_uid(&pod.metadata)).then_some(key)
    }

    /// Owners in the pod's namespace whose selector matches it.
    fn adopters(&self, pod: &Pod) -> Vec<String> {
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        self.owners
            .in_namespace(ns)
            .into_iter()
            .filter(|o| {
                (self.selector)(o).is_some_and(|sel| {
                    !selector::is_empty(&sel)
                        && selector::matches(&sel, pod.metadata.labels.as_ref())
                })
            })
            .map(|o| key_of(o.meta()))
            .collect()
    }

    fn changed(&self, change: &Change<Pod>) {
        match change {
            Change::Applied { old: None, new } => match self.owner(new) {
                Some(key) => {
                    self.expectations.creation_observed(&key);
                    self.queue.add(key);
                }
                None if controller_uid(&new.metadata).is_none() => {
                    self.adopters(new)
                        .into_iter()
                        .for_each(|k| self.queue.add(k));
                }
                None => {}
            },
            Change::Applied {
                old: Some(old),
                new,
            } => {
                let (was, now) = (self.owner(old), self.owner(new));
                if let Some(key) = &now {
                    if new.metadata.deletion_timestamp.is_some()
                        && old.metadata.deletion_timestamp.is_none()
                    {
                        self.expectations.deletion_observed(key);
                    }
                    self.queue.add(key.clone());
                }
                if let Some(key) = was.filter(|w| Some(w) != now.as_ref()) {
                    self.queue.add(key);
                }
                if controller_uid(&new.metadata).is_none()
                    && (old.metadata.labels != new.metadata.labels
                        || controller_uid(&old.metadata).is_some())
                {
                    self.adopters(new)
                        .into_iter()
                        .for_each(|k| self.queue.add(k));
                }
            }
            Change::Deleted(pod) => {
                if let Some(key) = self.owner(pod) {
                    if pod.metadata.deletion_timestamp.is_none() {
                        self.expectations.deletion_observed(&key);
                    }
                    self.queue.add(key);
                }
            }
        }
    }

    /// Starts routing the changes of `pods`.
    pub fn register(self, pods: &Informer<Pod>) {
        pods.on_change(move |c| self.changed(c));
    }
}
