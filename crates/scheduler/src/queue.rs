//! The scheduling queue: active pods by priority, per-pod backoff (1 s doubling to 10 s), and
//! unschedulable pods waiting for a cluster change or for 60 s.

use crate::framework::PluginSet;
use k8s_openapi::api::core::v1::Pod;
use parking_lot::Mutex;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The first backoff after a failed attempt.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// The longest backoff.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Unschedulable pods are retried at least this often.
pub const UNSCHEDULABLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often unschedulable pods are checked against [`UNSCHEDULABLE_TIMEOUT`].
const LEFTOVER_CHECK: Duration = Duration::from_secs(5);

/// A pod handed to the scheduling loop.
#[derive(Clone, Debug)]
pub struct QueuedPod {
    /// The pod as last seen.
    pub pod: Arc<Pod>,
    /// `namespace/name`.
    pub key: String,
    /// Its resolved priority.
    pub priority: i32,
    /// Scheduling attempts so far, this one included.
    pub attempts: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Active,
    Backoff,
    Unschedulable,
    InFlight,
}

struct Entry {
    qp: QueuedPod,
    place: Place,
    seq: u64,
    failed_at: Instant,
    plugins: PluginSet,
    updated_in_flight: bool,
}

#[derive(PartialEq, Eq)]
struct ActiveItem {
    priority: i32,
    created: i128,
    seq: u64,
    key: String,
}

impl Ord for ActiveItem {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.created.cmp(&self.created))
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for ActiveItem {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// How long a pod waits after `attempts` failed attempts.
pub fn backoff(attempts: u32) -> Duration {
    let exp = attempts.saturating_sub(1).min(16);
    INITIAL_BACKOFF.saturating_mul(1 << exp).min(MAX_BACKOFF)
}

fn created(pod: &Pod) -> i128 {
    pod.metadata
        .creation_timestamp
        .as_ref()
        .map_or(0, |t| t.0.as_nanosecond())
}

fn changed(old: &Pod, new: &Pod) -> bool {
    old.spec != new.spec
        || old.metadata.labels != new.metadata.labels
        || old.metadata.annotations != new.metadata.annotations
}

struct Inner {
    entries: HashMap<String, Entry>,
    active: BinaryHeap<ActiveItem>,
    backoff: BinaryHeap<Reverse<(Instant, u64, String)>>,
    unschedulable: HashSet<String>,
    seq: u64,
    cycle: u64,
    move_request_cycle: u64,
    next_leftover_check: Instant,
}

impl Inner {
    fn activate(&mut self, key: &str) {
        let Some(e) = self.entries.get_mut(key) else {
            return;
        };
        self.seq += 1;
        e.seq = self.seq;
        e.place = Place::Active;
        self.active.push(ActiveItem {
            priority: e.qp.priority,
            created: created(&e.qp.pod),
            seq: e.seq,
            key: key.to_string(),
        });
    }

    /// Moves a pod to backoff or active; true if moved (a waiting `pop` must recompute).
    fn requeue(&mut self, key: &str, now: Instant) -> bool {
        self.unschedulable.remove(key);
        let Some(e) = self.entries.get_mut(key) else {
            return false;
        };
        let until = e.failed_at + backoff(e.qp.attempts);
        if until > now {
            self.seq += 1;
            e.seq = self.seq;
            e.place = Place::Backoff;
            self.backoff.push(Reverse((until, e.seq, key.to_string())));
            true
        } else {
            self.activate(key);
            true
        }
    }

    fn flush(&mut self, now: Instant) {
        while let Some(Reverse((until, seq, _))) = self.backoff.peek() {
            if *until > now {
                break;
            }
            let seq = *seq;
            let Some(Reverse((_, _, key))) = self.backoff.pop() else {
                break;
            };
            if self
                .entries
                .get(&key)
                .is_some_and(|e| e.seq == seq && e.place == Place::Backoff)
            {
                self.activate(&key);
            }
        }
        if now >= self.next_leftover_check {
            self.next_leftover_check = now + LEFTOVER_CHECK;
            let stale: Vec<String> = self
                .unschedulable
                .iter()
                .filter(|k| {
                    self.entries
                        .get(*k)
                        .is_some_and(|e| now >= e.failed_at + UNSCHEDULABLE_TIMEOUT)
                })
                .cloned()
                .collect();
            for key in stale {
                self.requeue(&key, now);
            }
        }
    }

    fn pop_active(&mut self) -> Option<QueuedPod> {
        while let Some(item) = self.active.pop() {
            let Some(e) = self.entries.get_mut(&item.key) else {
                continue;
            };
            if e.seq != item.seq || e.place != Place::Active {
                continue;
            }
            e.place = Place::InFlight;
            e.updated_in_flight = false;
            e.qp.attempts += 1;
            self.cycle += 1;
            return Some(e.qp.clone());
        }
        None
    }
}

/// The scheduler's queue of pending pods. Cheap to clone.
#[derive(Clone)]
pub struct SchedulingQueue {
    inner: Arc<Mutex<Inner>>,
    notify: Arc<Notify>,
}

impl Default for SchedulingQueue {
    fn default() -> Self {
        SchedulingQueue {
            inner: Arc::new(Mutex::new(Inner {
                entries: HashMap::new(),
                active: BinaryHeap::new(),
                backoff: BinaryHeap::new(),
                unschedulable: HashSet::new(),
                seq: 0,
                cycle: 0,
                move_request_cycle: 0,
                next_leftover_check: Instant::now() + LEFTOVER_CHECK,
            })),
            notify: Arc::new(Notify::new()),
        }
    }
}

impl SchedulingQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a pending pod, or updates it; an unschedulable pod whose spec or labels changed
    /// is retried.
    pub fn add(&self, pod: Arc<Pod>, priority: i32) {
        let key = skiff_client::key_of(&pod.metadata);
        let mut inner = self.inner.lock();
        let Some(e) = inner.entries.get_mut(&key) else {
            let entry = Entry {
                qp: QueuedPod {
                    pod,
                    key: key.clone(),
                    priority,
                    attempts: 0,
                },
                place: Place::Active,
                seq: 0,
                failed_at: Instant::now(),
                plugins: 0,
                updated_in_flight: false,
            };
            inner.entries.insert(key.clone(), entry);
            inner.activate(&key);
            drop(inner);
            self.notify.notify_one();
            return;
        };
        let was_changed = changed(&e.qp.pod, &pod);
        let priority_changed = e.qp.priority != priority;
        e.qp.pod = pod;
        e.qp.priority = priority;
        if e.place == Place::InFlight && was_changed {
            e.updated_in_flight = true;
        }
        let place = e.place;
        let woke = match place {
            Place::Active if priority_changed => {
                inner.activate(&key);
                true
            }
            Place::Unschedulable if was_changed => inner.requeue(&key, Instant::now()),
            _ => false,
        };
        drop(inner);
        if woke {
            self.notify.notify_one();
        }
    }

    /// Forgets a pod (deleted, bound, or no longer ours).
    pub fn delete(&self, key: &str) {
        let mut inner = self.inner.lock();
        inner.entries.remove(key);
        inner.unschedulable.remove(key);
    }

    /// Takes the highest-priority active pod, waiting for one.
    pub async fn pop(&self) -> QueuedPod {
        loop {
            let notified = self.notify.notified();
            let wake = {
                let mut inner = self.inner.lock();
                let now = Instant::now();
                inner.flush(now);
                if let Some(qp) = inner.pop_active() {
                    return qp;
                }
                let next = inner.backoff.peek().map(|Reverse((t, _, _))| *t);
                next.into_iter()
                    .fold(inner.next_leftover_check, Instant::min)
            };
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    /// The number of the last scheduling cycle started.
    pub fn cycle(&self) -> u64 {
        self.inner.lock().cycle
    }

    /// Marks a popped pod as placed (assumed); it leaves the queue.
    pub fn done(&self, key: &str) {
        let mut inner = self.inner.lock();
        if inner
            .entries
            .get(key)
            .is_some_and(|e| e.place == Place::InFlight)
        {
            inner.entries.remove(key);
        }
    }

    /// Parks a popped pod that fit nowhere in `cycle`, rejected by `plugins`.
    pub fn unschedulable(&self, key: &str, plugins: PluginSet, cycle: u64) {
        let mut inner = self.inner.lock();
        let now = Instant::now();
        let moved = inner.move_request_cycle >= cycle;
        let Some(e) = inner
            .entries
            .get_mut(key)
            .filter(|e| e.place == Place::InFlight)
        else {
            return;
        };
        e.failed_at = now;
        e.plugins = plugins;
        if moved || e.updated_in_flight {
            if inner.requeue(key, now) {
                drop(inner);
                self.notify.notify_one();
            }
        } else {
            e.place = Place::Unschedulable;
            inner.unschedulable.insert(key.to_string());
        }
    }

    /// Retries a pod after its backoff (its binding failed); it must not be queued already.
    pub fn retry(&self, qp: QueuedPod) {
        let mut inner = self.inner.lock();
        let key = qp.key.clone();
        let entry = inner.entries.entry(key.clone()).or_insert_with(|| Entry {
            qp: qp.clone(),
            place: Place::InFlight,
            seq: 0,
            failed_at: Instant::now(),
            plugins: 0,
            updated_in_flight: false,
        });
        if entry.place != Place::InFlight {
            return;
        }
        entry.qp.attempts = entry.qp.attempts.max(qp.attempts);
        entry.failed_at = Instant::now();
        if inner.requeue(&key, Instant::now()) {
            drop(inner);
            self.notify.notify_one();
        }
    }

    /// Retries unschedulable pods that a cluster event concerning `plugins` may help.
    pub fn move_all(&self, plugins: PluginSet) {
        let mut inner = self.inner.lock();
        inner.move_request_cycle = inner.cycle;
        if inner.unschedulable.is_empty() {
            return;
        }
        let keys: Vec<String> = inner
            .unschedulable
            .iter()
            .filter(|k| {
                inner
                    .entries
                    .get(*k)
                    .is_some_and(|e| e.plugins == 0 || e.plugins & plugins != 0)
            })
            .cloned()
            .collect();
        let now = Instant::now();
        let mut woke = false;
        for key in keys {
            woke |= inner.requeue(&key, now);
        }
        drop(inner);
        if woke {
            self.notify.notify_one();
        }
    }

    /// Pods waiting in (active, backoff, unschedulable).
    pub fn counts(&self) -> (usize, usize, usize) {
        let inner = self.inner.lock();
        let count = |p| inner.entries.values().filter(|e| e.place == p).count();
        (
            count(Place::Active),
            count(Place::Backoff),
            count(Place::Unschedulable),
        )
    }
}

#[cfg(test)]
mod tests;
