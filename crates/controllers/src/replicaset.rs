//! The ReplicaSet controller and the ReplicationController manager: keep `replicas` pods
//! matching the selector alive, adopt orphans, and report status.

mod kind;
mod sync;

pub use kind::Replicated;

use crate::expectations::Expectations;
use crate::informers::controller_uid;
use crate::{Context, Informers};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use skiff_client::{key_of, Change, EventRecorder, Store, WorkQueue};
use std::marker::PhantomData;
use std::sync::Arc;

/// The most pods one sync creates or deletes.
const BURST: usize = 500;

/// Keeps ReplicaSets' pods.
pub type ReplicaSetController = ReplicaController<ReplicaSet>;
/// Keeps ReplicationControllers' pods.
pub type ReplicationManager = ReplicaController<ReplicationController>;

/// Keeps the pods of one replicated kind.
pub struct ReplicaController<K: Replicated> {
    shared: Arc<Shared<K>>,
    queue: WorkQueue<String>,
}

struct Shared<K: Replicated> {
    client: kube::Client,
    owners: Store<K>,
    pods: Store<Pod>,
    expectations: Expectations,
    recorder: EventRecorder,
    queue: WorkQueue<String>,
    _kind: PhantomData<K>,
}

impl<K: Replicated> ReplicaController<K> {
    /// Registers with the informers.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let queue = WorkQueue::new();
        let shared = Arc::new(Shared {
            client: ctx.client.clone(),
            owners: K::informer(informers).store(),
            pods: informers.pods.store(),
            expectations: Expectations::default(),
            recorder: ctx.recorder(K::COMPONENT),
            queue: queue.clone(),
            _kind: PhantomData,
        });
        let q = queue.clone();
        let s = shared.clone();
        K::informer(informers).on_change(move |c: &Change<K>| {
            let key = key_of(c.object().meta());
            if let Change::Deleted(_) = c {
                s.expectations.forget(&key);
            }
            q.add(key);
        });
        let s = shared.clone();
        informers.pods.on_change(move |c| s.pod_changed(c));
        ReplicaController { shared, queue }
    }

    /// Starts the workers.
    pub fn start(self) {
        let shared = self.shared.clone();
        self.queue.run_workers(4, K::COMPONENT, move |key| {
            let shared = shared.clone();
            async move { shared.sync(&key).await }
        });
    }
}

impl<K: Replicated> Shared<K> {
    /// The key of the owner controlling `pod`, if it is one of ours.
    fn owner_key(&self, pod: &Pod) -> Option<String> {
        let r = pod
            .metadata
            .owner_references
            .as_deref()?
            .iter()
            .find(|r| r.controller == Some(true))?;
        if r.kind != K::KIND {
            return None;
        }
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let owner = self.owners.get_in(ns, &r.name)?;
        (owner.meta().uid.as_deref() == Some(r.uid.as_str())).then(|| format!("{ns}/{}", r.name))
    }

    /// Owners in the pod's namespace whose selector matches it (for orphans).
    fn matching_owners(&self, pod: &Pod) -> Vec<String> {
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        self.owners
            .in_namespace(ns)
            .into_iter()
            .filter(|o| {
                let sel = o.selector();
                !crate::selector::is_empty(&sel)
                    && crate::selector::matches(&sel, pod.metadata.labels.as_ref())
            })
            .map(|o| key_of(o.meta()))
            .collect()
    }

    fn pod_changed(&self, change: &Change<Pod>) {
        match change {
            Change::Applied { old: None, new } => {
                if let Some(key) = self.owner_key(new) {
                    self.expectations.creation_observed(&key);
                    self.queue.add(key);
                } else if controller_uid(&new.metadata).is_none() {
                    self.matching_owners(new)
                        .into_iter()
                        .for_each(|k| self.queue.add(k));
                }
            }
            Change::Applied {
                old: Some(old),
                new,
            } => {
                let now = self.owner_key(new);
                if let Some(key) = &now {
                    if new.metadata.deletion_timestamp.is_some()
                        && old.metadata.deletion_timestamp.is_none()
                    {
                        self.expectations.deletion_observed(key);
                    }
                }
                let before = self.owner_key(old);
                if before != now {
                    before.into_iter().for_each(|k| self.queue.add(k));
                }
                match now {
                    Some(key) => self.queue.add(key),
                    None if controller_uid(&new.metadata).is_none()
                        && old.metadata.labels != new.metadata.labels =>
                    {
                        self.matching_owners(new)
                            .into_iter()
                            .for_each(|k| self.queue.add(k));
                    }
                    None => {}
                }
            }
            Change::Deleted(pod) => {
                if let Some(key) = self.owner_key(pod) {
                    if pod.metadata.deletion_timestamp.is_none() {
                        self.expectations.deletion_observed(&key);
                    }
                    self.queue.add(key);
                }
            }
        }
    }
}
