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
///
/// Cloning gives another handle on the same informer (see [`crate::SharedInformers`]): it
/// runs once however many handles call [`Informer::run`], and indexes and handlers added to
/// a running informer see the objects it already holds.
pub struct Informer<K: Resource> {
    api: Api<K>,
    config: watcher::Config,
    inner: Arc<RwLock<Inner<K>>>,
    handlers: Arc<RwLock<Vec<Handler<K>>>>,
    ready_tx: Arc<tokio::sync::watch::Sender<bool>>,
    ready_rx: tokio::sync::watch::Receiver<bool>,
    started: Arc<std::sync::atomic::AtomicBool>,
}

impl<K: Resource + Clone> Clone for Informer<K> {
    fn clone(&self) -> Self {
        Informer {
            api: self.api.clone(),
            config: self.config.clone(),
            inner: self.inner.clone(),
            handlers: self.handlers.clone(),
            ready_tx: self.ready_tx.clone(),
            ready_rx: self.ready_rx.clone(),
            started: self.started.clone(),
        }
    }
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
            ready_tx: Arc::new(ready_tx),
            ready_rx,
            started: Default::default(),
        }
    }

    /// Adds an index (objects already held are indexed at once); a name added before keeps
    /// its first function.
    pub fn add_index(
        &self,
        name: &'static str,
        f: impl Fn(&K) -> Vec<String> + Send + Sync + 'static,
    ) {
        let mut inner = self.inner.write();
        if inner.indexers.iter().any(|(n, _)| *n == name) {
            return;
        }
        let f: IndexFn<K> = Arc::new(f);
        let mut index: HashMap<String, HashSet<String>> = HashMap::new();
        for (key, obj) in &inner.objects {
            for value in f(obj) {
                index.entry(value).or_default().insert(key.clone());
            }
        }
        inner.indexes.insert(name, index);
        inner.indexers.push((name, f));
    }

    /// Calls `f` for every change; `f` must be quick (enqueue a key). Objects the informer
    /// already holds are reported to `f` as added first.
    pub fn on_change(&self, f: impl Fn(&Change<K>) + Send + Sync + 'static) {
        let mut handlers = self.handlers.write();
        let held: Vec<Arc<K>> = self.inner.read().objects.values().cloned().collect();
        for new in held {
            f(&Change::Applied { old: None, new });
        }
        handlers.push(Box::new(f));
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

    /// Lists, then watches forever, re-listing after errors; returns at once if another
    /// handle already runs this informer.
    pub async fn run(self) {
        if self.started.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use parking_lot::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// A client whose API server lists two ConfigMaps and ends every watch at once.
    fn client(lists: Arc<AtomicUsize>) -> kube::Client {
        let service = tower::service_fn(move |req: http::Request<kube::client::Body>| {
            let lists = lists.clone();
            async move {
                let watch = req.uri().query().unwrap_or_default().contains("watch=true");
                let body = if watch {
                    String::new()
                } else {
                    lists.fetch_add(1, Ordering::SeqCst);
                    serde_json::json!({"apiVersion": "v1", "kind": "ConfigMapList",
                        "metadata": {"resourceVersion": "5"},
                        "items": [
                            {"metadata": {"name": "a", "namespace": "x", "resourceVersion": "3", "labels": {"k": "1"}}},
                            {"metadata": {"name": "b", "namespace": "y", "resourceVersion": "4", "labels": {"k": "2"}}},
                        ]})
                    .to_string()
                };
                Ok::<_, std::convert::Infallible>(
                    http::Response::builder()
                        .header("content-type", "application/json")
                        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                        .unwrap(),
                )
            }
        });
        kube::Client::new(service, "default")
    }

    #[tokio::test]
    async fn a_shared_informer_runs_once_and_late_handlers_and_indexes_see_what_it_holds() {
        let lists = Arc::new(AtomicUsize::new(0));
        let informer: Informer<ConfigMap> =
            Informer::new(Api::all(client(lists.clone())), watcher::Config::default());
        let other = informer.clone();
        tokio::spawn(informer.clone().run());
        let store = informer.store();
        tokio::time::timeout(Duration::from_secs(10), store.wait_ready())
            .await
            .expect("the first list lands");
        tokio::time::timeout(Duration::from_secs(1), other.clone().run())
            .await
            .expect("a second run of the same informer returns at once");
        assert_eq!(store.len(), 2);

        other.add_index("label-k", |cm: &ConfigMap| {
            cm.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("k").cloned())
                .into_iter()
                .collect()
        });
        let by_label = store.by_index("label-k", "2");
        assert_eq!(by_label.len(), 1);
        assert_eq!(by_label[0].metadata.name.as_deref(), Some("b"));

        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        other.on_change(move |c| {
            if let Change::Applied { old: None, new } = c {
                s.lock().push(new.metadata.name.clone().unwrap_or_default());
            }
        });
        let mut names = seen.lock().clone();
        names.sort();
        assert_eq!(names, ["a", "b"]);
    }
}
