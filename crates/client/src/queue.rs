//! A work queue of keys: each key is queued at most once, never processed by two workers at
//! once, and re-queued with per-key exponential backoff after failures.

use parking_lot::Mutex;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Display;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

struct Inner<T> {
    queue: VecDeque<T>,
    dirty: HashSet<T>,
    processing: HashSet<T>,
    failures: HashMap<T, u32>,
}

/// A de-duplicating queue of keys with backoff. Cheap to clone.
pub struct WorkQueue<T> {
    inner: Arc<Mutex<Inner<T>>>,
    notify: Arc<Notify>,
}

impl<T> Clone for WorkQueue<T> {
    fn clone(&self) -> Self {
        WorkQueue {
            inner: self.inner.clone(),
            notify: self.notify.clone(),
        }
    }
}

impl<T> Default for WorkQueue<T> {
    fn default() -> Self {
        WorkQueue {
            inner: Arc::new(Mutex::new(Inner {
                queue: VecDeque::new(),
                dirty: HashSet::new(),
                processing: HashSet::new(),
                failures: HashMap::new(),
            })),
            notify: Arc::new(Notify::new()),
        }
    }
}

/// The first retry delay after a failure.
const BASE_DELAY: Duration = Duration::from_millis(5);
/// The longest retry delay.
const MAX_DELAY: Duration = Duration::from_secs(60);

impl<T: Hash + Eq + Clone + Send + Sync + 'static> WorkQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `key` unless it is already waiting.
    pub fn add(&self, key: T) {
        let mut inner = self.inner.lock();
        if !inner.dirty.insert(key.clone()) {
            return;
        }
        if !inner.processing.contains(&key) {
            inner.queue.push_back(key);
            drop(inner);
            self.notify.notify_one();
        }
    }

    /// Queues `key` after `delay`.
    pub fn add_after(&self, key: T, delay: Duration) {
        if delay.is_zero() {
            return self.add(key);
        }
        let q = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            q.add(key);
        });
    }

    /// Queues `key` after a delay that doubles with each failure since the last [`forget`].
    ///
    /// [`forget`]: WorkQueue::forget
    pub fn add_rate_limited(&self, key: T) {
        let n = {
            let mut inner = self.inner.lock();
            let n = inner.failures.entry(key.clone()).or_insert(0);
            *n += 1;
            *n
        };
        self.add_after(key, backoff(n));
    }

    /// Clears the failure count of `key`.
    pub fn forget(&self, key: &T) {
        self.inner.lock().failures.remove(key);
    }

    /// How many keys wait.
    pub fn len(&self) -> usize {
        self.inner.lock().queue.len()
    }

    /// Whether no key waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the next key, waiting for one; the caller must call [`WorkQueue::done`].
    pub async fn next(&self) -> T {
        loop {
            let notified = self.notify.notified();
            {
                let mut inner = self.inner.lock();
                if let Some(key) = inner.queue.pop_front() {
                    inner.dirty.remove(&key);
                    inner.processing.insert(key.clone());
                    if !inner.queue.is_empty() {
                        self.notify.notify_one();
                    }
                    return key;
                }
            }
            notified.await;
        }
    }

    /// Marks `key` processed; if it was added meanwhile, it is queued again.
    pub fn done(&self, key: &T) {
        let mut inner = self.inner.lock();
        inner.processing.remove(key);
        if inner.dirty.contains(key) {
            inner.queue.push_back(key.clone());
            drop(inner);
            self.notify.notify_one();
        }
    }

    /// Runs `workers` tasks that process keys with `sync`; failures are retried with backoff.
    pub fn run_workers<F, Fut, E>(&self, workers: usize, name: &'static str, sync: F)
    where
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send,
        E: Display,
        T: Display,
    {
        let sync = Arc::new(sync);
        for _ in 0..workers {
            let q = self.clone();
            let sync = sync.clone();
            tokio::spawn(async move {
                loop {
                    let key = q.next().await;
                    match sync(key.clone()).await {
                        Ok(()) => q.forget(&key),
                        Err(e) => {
                            tracing::debug!(controller = name, %key, "sync failed, retrying: {e}");
                            q.add_rate_limited(key.clone());
                        }
                    }
                    q.done(&key);
                }
            });
        }
    }
}

fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(20);
    BASE_DELAY.saturating_mul(1 << exp).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_key_is_queued_once_until_taken() {
        let q = WorkQueue::new();
        q.add("a".to_string());
        q.add("a".to_string());
        q.add("b".to_string());
        assert_eq!(q.len(), 2);
        assert_eq!(q.next().await, "a");
        assert_eq!(q.next().await, "b");
        assert!(q.is_empty());
    }

    #[tokio::test]
    async fn a_key_added_while_processing_comes_back_after_done() {
        let q = WorkQueue::new();
        q.add(1);
        let k = q.next().await;
        q.add(1);
        assert!(q.is_empty(), "not handed out twice at once");
        q.done(&k);
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(5));
        assert_eq!(backoff(2), Duration::from_millis(10));
        assert_eq!(backoff(40), MAX_DELAY);
    }
}
