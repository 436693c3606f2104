//! Shared informers: one watch per resource type feeding an indexed, read-only [`Store`] and
//! change handlers (which enqueue keys; they must not block).

use crate::key_of;
use futures::StreamExt;
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Resource, ResourceExt};
use parking_lot::RwLock;
use serde::de::DeserializeOwned;
use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::sync::Arc;

/// A function naming the index values of an object.
pub type IndexFn<K> = Arc<dyn Fn(&K) -> Vec<String> + Send + Sync>;
type Handler<K> = Box<dyn Fn(&Change<K>) + Send + Sync>;

/// What changed in the store.
pub enum Change<K> {
    /// The object was added (`old` is `None`) or updated; relists report every object again.
    Applied {
        /// The object before, if the store had it.
        old: Option<Arc<K>>,
        /// The object now.
        new: Arc<K>,
    },
    /// The object is gone (its last known state).
    Deleted(Arc<K>),
}

impl<K> Change<K> {
    /// The object as it is now (or was last, if deleted).
    pub fn object(&self) -> &Arc<K> {
        match self {
            Change::Applied { new, .. } => new,
            Change::Deleted(o) => o,
        }
    }
}

struct Inner<K> {
    objects: HashMap<String, Arc<K>>,
    indexers: Vec<(&'static str, IndexFn<K>)>,
    indexes: HashMap<&'static str, HashMap<String, HashSet<String>>>,
}

impl<K> Inner<K> {
    fn unindex(&mut self, key: &str, obj: &K) {
        for (name, f) in &self.indexers {
            let index = self.indexes.entry(name).or_default();
            for value in f(obj) {
                if let Some(keys) = index.get_mut(&value) {
                    keys.remove(key);
                    if keys.is_empty() {
                        index.remove(&value);
                    }
                }
            }
        }
    }

    fn index(&mut self, key: &str, obj: &K) {
        for (name, f) in &self.indexers {
            let index = self.indexes.entry(name).or_default();
            for value in f(obj) {
                index.entry(value).or_default().insert(key.to_string());
            }
        }
    }

    fn put(&mut self, key: String, obj: Arc<K>) -> Option<Arc<K>> {
        let old = self.objects.insert(key.clone(), obj.clone());
        if let Some(o) = &old {
            self.unindex(&key, o);
        }
        self.index(&key, &obj);
        old
    }

    fn take(&mut self, key: &str) -> Option<Arc<K>> {
        let old = self.objects.remove(key);
        if let Some(o) = &old {
            self.unindex(key, o);
        }
        old
    }
}

/// A read-only view of an informer's objects. Cheap to clone.
pub struct Store<K> {
    inner: Arc<RwLock<Inner<K>>>,
    ready: tokio::sync::watch::Receiver<bool>,
}

impl<K> Clone for Store<K> {
    fn clone(&self) -> Self {
        Store {
            inner: self.inner.clone(),
            ready: self.ready.clone(),
        }
    }
}

impl<K> Store<K> {
    /// The object under `namespace/name` (or `name`).
    pub fn get(&self, key: &str) -> Option<Arc<K>> {
        self.inner.read().objects.get(key).cloned()
    }

    /// The object `name` in `namespace` (empty for cluster-scoped).
    pub fn get_in(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        if namespace.is_empty() {
            self.get(name)
        } else {
            self.get(&format!("{namespace}/{name}"))
        }
    }

    /// Every object.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.inner.read().objects.values().cloned().collect()
    }

    /// Every key.
    pub fn keys(&self) -> Vec<String> {
        self.inner.read().objects.keys().cloned().collect()
    }

    /// The objects whose index `index` has `value`.
    pub fn by_index(&self, index: &str, value: &str) -> Vec<Arc<K>> {
        let inner = self.inner.read();
        let Some(keys) = inner.indexes.get(index).and_then(|i| i.get(value)) else {
            return Vec::new();
        };
        keys.iter()
            .filter_map(|k| inner.objects.get(k).cloned())
            .collect()
    }

    /// The objects in a namespace.
    pub fn in_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        self.by_index(NAMESPACE_INDEX, namespace)
    }

    /// How many objects the store holds.
    pub fn len(&self) -> usize {
        self.inner.read().objects.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the first list has been loaded.
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// Waits until the first list has been loaded.
    pub async fn wait_ready(&self) {
        let mut rx = self.ready.clone();
        let _ = rx.wait_for(|r| *r).await;
    }
}

/// The index every store keeps: objects by namespace.
pub const NAMESPACE_INDEX: &str = "namespace";

/// One list+watch of a resource type, with its store and change handlers. Objects are kept
/// without `managedFields`, which no control loop reads.
pub struct Informer<K: Resource> {
    api: Api<K>,
    config: watcher::Config,
    inner: Arc<RwLock<Inner<K>>>,
    handlers: Arc<RwLock<Vec<Handler<K>>>>,
    ready_tx: tokio::sync::watch::Sender<bool>,
    ready_rx: tokio::sync::watch::Receiver<bool>,
}

impl<K> Informer<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default,
{
    /// An informer over `api` (all namespaces or one) with a watch configuration.
    pub fn new(api: Api<K>, config: watcher::Config) -> Self {
        let (ready_tx, ready_rx) = tokio::sync::watch::channel(false);
        let namespace_index: IndexFn<K> = Arc::new(|o: &K| vec![o.namespace().unwrap_or_default()]);
        Informer {
            api,
            config,
            inner: Arc::new(RwLock::new(Inner {
                objects: HashMap::new(),
                indexers: vec![(NAMESPACE_INDEX, namespace_index)],
                indexes: HashMap::new(),
            })),
            handlers: Default::default(),
            ready_tx,
            ready_rx,
        }
    }

    /// Adds an index; call before [`Informer::run`].
    pub fn add_index(
        &self,
        name: &'static str,
        f: impl Fn(&K) -> Vec<String> + Send + Sync + 'static,
    ) {
        self.inner.write().indexers.push((name, Arc::new(f)));
    }

    /// Calls `f` for every change; `f` must be quick (enqueue a key).
    pub fn on_change(&self, f: impl Fn(&Change<K>) + Send + Sync + 'static) {
        self.handlers.write().push(Box::new(f));
    }

    /// A reader of the store.
    pub fn store(&self) -> Store<K> {
        Store {
            inner: self.inner.clone(),
            ready: self.ready_rx.clone(),
        }
    }

    fn emit(&self, change: Change<K>) {
        for h in self.handlers.read().iter() {
            h(&change);
        }
    }

    /// Lists, then watches forever, re-listing after errors.
    pub async fn run(self) {
        let mut stream = watcher(self.api.clone(), self.config.clone())
            .default_backoff()
            .modify(|o| o.meta_mut().managed_fields = None)
            .boxed();
        let mut relist: Option<HashMap<String, Arc<K>>> = None;
        while let Some(event) = stream.next().await {
            match event {
                Ok(watcher::Event::Init) => relist = Some(HashMap::new()),
                Ok(watcher::Event::InitApply(obj)) => {
                    let key = key_of(obj.meta());
                    relist
                        .get_or_insert_with(HashMap::new)
                        .insert(key, Arc::new(obj));
                }
                Ok(watcher::Event::InitDone) => {
                    let fresh = relist.take().unwrap_or_default();
                    let mut changes = Vec::new();
                    {
                        let mut inner = self.inner.write();
                        let gone: Vec<String> = inner
                            .objects
                            .keys()
                            .filter(|k| !fresh.contains_key(*k))
                            .cloned()
                            .collect();
                        for k in gone {
                            if let Some(o) = inner.take(&k) {
                                changes.push(Change::Deleted(o));
                            }
                        }
                        for (k, o) in fresh {
                            let old = inner.put(k, o.clone());
                            changes.push(Change::Applied { old, new: o });
                        }
                    }
                    let _ = self.ready_tx.send(true);
                    for c in changes {
                        self.emit(c);
                    }
                }
                Ok(watcher::Event::Apply(obj)) => {
                    let key = key_of(obj.meta());
                    let new = Arc::new(obj);
                    let old = self.inner.write().put(key, new.clone());
                    self.emit(Change::Applied { old, new });
                }
                Ok(watcher::Event::Delete(obj)) => {
                    let key = key_of(obj.meta());
                    let last = self
                        .inner
                        .write()
                        .take(&key)
                        .unwrap_or_else(|| Arc::new(obj));
                    self.emit(Change::Deleted(last));
                }
                Err(e) => {
                    tracing::warn!(kind = %K::kind(&Default::default()), "watch failed, re-listing: {e}");
                }
            }
        }
    }
}
