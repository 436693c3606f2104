//! Restart backoff per container (CrashLoopBackOff): 10 s, doubling up to 5 min.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// The first restart delay after a repeated failure.
pub const INITIAL: Duration = Duration::from_secs(10);
/// The longest restart delay.
pub const MAX: Duration = Duration::from_secs(300);

struct Entry {
    delay: Duration,
    last: Instant,
}

/// Restart delays keyed by `pod uid/container name`.
pub struct RestartBackoff {
    initial: Duration,
    max: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Default for RestartBackoff {
    fn default() -> Self {
        Self::new(INITIAL, MAX)
    }
}

/// The key of a container of a pod.
pub fn key(uid: &str, container: &str) -> String {
    format!("{uid}/{container}")
}

impl RestartBackoff {
    /// Delays starting at `initial`, doubling up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        RestartBackoff {
            initial,
            max,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The time left before `key` may restart and the current delay, or `None` if it may now.
    pub fn remaining(&self, key: &str) -> Option<(Duration, Duration)> {
        let entries = self.entries.lock();
        let e = entries.get(key)?;
        let elapsed = e.last.elapsed();
        (elapsed < e.delay).then(|| (e.delay - elapsed, e.delay))
    }

    /// Records a restart of `key` now: the first one is free, later ones double the delay.
    pub fn restarted(&self, key: &str) {
        let now = Instant::now();
        let mut entries = self.entries.lock();
        match entries.get_mut(key) {
            Some(e) if now.duration_since(e.last) <= 2 * self.max => {
                e.delay = (e.delay * 2).min(self.max);
                e.last = now;
            }
            _ => {
                entries.insert(
                    key.to_string(),
                    Entry {
                        delay: self.initial,
                        last: now,
                    },
                );
            }
        }
    }

    /// Forgets every container of a pod.
    pub fn forget_pod(&self, uid: &str) {
        let prefix = format!("{uid}/");
        self.entries.lock().retain(|k, _| !k.starts_with(&prefix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_first_restart_is_free_then_delays_double_to_the_cap() {
        let b = RestartBackoff::default();
        assert_eq!(b.remaining("u/c"), None);
        b.restarted("u/c");
        assert_eq!(b.remaining("u/c"), Some((INITIAL, INITIAL)));
        tokio::time::advance(INITIAL).await;
        assert_eq!(b.remaining("u/c"), None);
        b.restarted("u/c");
        assert_eq!(b.remaining("u/c").map(|r| r.1), Some(INITIAL * 2));
        for _ in 0..10 {
            b.restarted("u/c");
        }
        assert_eq!(b.remaining("u/c").map(|r| r.1), Some(MAX));
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_quiet_time_resets_the_delay() {
        let b = RestartBackoff::default();
        b.restarted("u/c");
        b.restarted("u/c");
        tokio::time::advance(MAX * 3).await;
        b.restarted("u/c");
        assert_eq!(b.remaining("u/c").map(|r| r.1), Some(INITIAL));
    }

    #[test]
    fn forgetting_a_pod_forgets_only_its_containers() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let b = RestartBackoff::default();
            b.restarted(&key("a", "c"));
            b.restarted(&key("b", "c"));
            b.forget_pod("a");
            assert!(b.remaining(&key("a", "c")).is_none());
            assert!(b.remaining(&key("b", "c")).is_some());
        });
    }
}
