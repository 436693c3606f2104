//! One informer per resource type for every control loop in a process.
//!
//! `skiff server` runs the scheduler and the controller manager side by side; each used to
//! keep its own copy of every pod (about 11 KB each as typed objects), which at 30,000 pods
//! was a third of the server's memory. Both now take their informers from one
//! [`SharedInformers`].

use crate::Informer;
use kube::runtime::watcher;
use kube::{Api, Resource};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

/// Informers over all namespaces, one per resource type, created on first use.
#[derive(Clone, Default)]
pub struct SharedInformers {
    informers: Arc<Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>>,
}

impl SharedInformers {
    /// The informer of every `K`; created over `client` if this is the first request for `K`.
    pub fn all<K>(&self, client: &kube::Client) -> Informer<K>
    where
        K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
        K::DynamicType: Default,
    {
        let mut informers = self.informers.lock();
        let entry = informers.entry(TypeId::of::<K>()).or_insert_with(|| {
            Box::new(Informer::<K>::new(
                Api::all(client.clone()),
                watcher::Config::default(),
            ))
        });
        match entry.downcast_ref::<Informer<K>>() {
            Some(informer) => informer.clone(),
            None => unreachable!("the entry of a TypeId holds an informer of that type"),
        }
    }
}

impl Debug for SharedInformers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedInformers")
            .field("kinds", &self.informers.lock().len())
            .finish()
    }
}

/// Two handles are equal when they share their informers.
impl PartialEq for SharedInformers {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.informers, &other.informers)
    }
}

impl Eq for SharedInformers {}
